// An in-process DNS server on 127.0.0.1 (UDP and TCP on the same port 0-chosen port) that
// answers from a table, and can misbehave on purpose: truncate, drop, delay, wrong id, garbage.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import * as packet from 'dns-packet';

/** How the fake answers one question. */
export interface FakeAnswer {
  rcode?: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
  answers?: packet.Answer[];
  /** An SOA is added to NXDOMAIN/NODATA answers unless given here. */
  authorities?: packet.Answer[];
  ad?: boolean;
  /** UDP answers are sent with TC=1 and no records; the full answer comes over TCP. */
  truncate?: boolean;
  /** Send nothing over UDP. */
  drop?: boolean;
  delayMs?: number;
  /** Replace the UDP answer with these bytes (garbage); `wrongId` sends a valid answer with another id. */
  raw?: Buffer;
  wrongId?: boolean;
  /** Answer this (other) question instead. */
  otherName?: string;
}

export type Handler = (name: string, type: string, transport: 'udp' | 'tcp') => FakeAnswer | undefined;

export interface FakeDns {
  port: number;
  server: { host: string; port: number };
  /** Every question received, `TYPE name/udp`. */
  log: string[];
  /** Queries per `TYPE name` over any transport. */
  count(type: string, name: string): number;
  close(): Promise<void>;
}

/** A table: `TYPE name` → answer; anything missing is NXDOMAIN. */
export function table(entries: Record<string, FakeAnswer>): Handler {
  return (name, type) => entries[`${type} ${name}`];
}

export function rr(type: string, name: string, data: unknown, ttl = 300): packet.Answer {
  return { type, name, ttl, class: 'IN', data } as packet.Answer;
}

const soa = (name: string): packet.Answer =>
  rr('SOA', name.split('.').slice(-2).join('.'), { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 60, retry: 60, expire: 600, minimum: 60 }, 120);

function build(id: number, q: packet.Question, a: FakeAnswer, udp: boolean): Buffer {
  const rcode = a.rcode ?? (a.answers === undefined ? 'NXDOMAIN' : 'NOERROR');
  const negative = rcode === 'NXDOMAIN' || (rcode === 'NOERROR' && (a.answers ?? []).length === 0);
  const flags = packet.RECURSION_AVAILABLE | packet.RECURSION_DESIRED | (a.ad === true ? packet.AUTHENTIC_DATA : 0) | (udp && a.truncate === true ? packet.TRUNCATED_RESPONSE : 0);
  const rcodeNum = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 }[rcode];
  const question = a.otherName === undefined ? q : { ...q, name: a.otherName };
  const buf = packet.encode({
    type: 'response',
    id: a.wrongId === true ? (id + 1) & 0xffff : id,
    flags: flags | rcodeNum,
    questions: [question],
    answers: udp && a.truncate === true ? [] : (a.answers ?? []),
    authorities: a.authorities ?? (negative ? [soa(q.name)] : []),
  });
  return buf;
}

/** Starts the fake; `handler` decides each answer. */
export async function startFakeDns(handler: Handler): Promise<FakeDns> {
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const answer = (msg: Buffer, transport: 'udp' | 'tcp'): { bytes: Buffer | null; delayMs: number } => {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(msg);
    } catch {
      return { bytes: null, delayMs: 0 };
    }
    const q = query.questions?.[0];
    if (q === undefined) return { bytes: null, delayMs: 0 };
    log.push(`${q.type} ${q.name}/${transport}`);
    const a = handler(q.name.toLowerCase(), q.type, transport) ?? { rcode: 'NXDOMAIN' as const };
    if (transport === 'udp' && a.drop === true) return { bytes: null, delayMs: 0 };
    if (transport === 'udp' && a.raw !== undefined) return { bytes: a.raw, delayMs: a.delayMs ?? 0 };
    return { bytes: build(query.id ?? 0, q, a, transport === 'udp'), delayMs: a.delayMs ?? 0 };
  };
  const tcp: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < buf.readUInt16BE(0) + 2) return;
      const { bytes, delayMs } = answer(buf.subarray(2, buf.readUInt16BE(0) + 2), 'tcp');
      if (bytes === null) return void s.destroy();
      const len = Buffer.alloc(2);
      len.writeUInt16BE(bytes.length);
      setTimeout(() => s.end(Buffer.concat([len, bytes])), delayMs);
    });
  });
  // UDP picks a free port, TCP must take the same number; another process (parallel test files,
  // other suites on the machine) may hold it over TCP: then try another port instead of failing
  // the suite and leaving the UDP socket open (which kept the test file alive until its timeout).
  let udp: UdpSocket;
  let port: number;
  for (let attempt = 1; ; attempt++) {
    const sock = createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      const { bytes, delayMs } = answer(msg, 'udp');
      if (bytes === null) return;
      setTimeout(() => sock.send(bytes, rinfo.port, rinfo.address), delayMs);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const candidate = sock.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(candidate, '127.0.0.1', () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      udp = sock;
      port = candidate;
      break;
    } catch (err) {
      sock.close();
      if (attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  return {
    port,
    server: { host: '127.0.0.1', port },
    log,
    count: (type, name) => log.filter((l) => l.startsWith(`${type} ${name}/`)).length,
    close: async () => {
      for (const s of sockets) s.destroy();
      udp.close();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}
