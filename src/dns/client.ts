// A bounded, deadlined stub resolver client: UDP first, TCP when the answer is truncated
// (RFC 7766), to the configured servers in order. Every failure is a typed DnsFailure.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIP } from 'node:net';
import type { DnsAnswer, DnsFailureCode, DnsResolver, DnsResult, DnsServer, RecordType } from './types.ts';
import { decodeResponse, encodeQuery, nameProblem, normalizeName, type Decoded, type Query } from './wire.ts';

/** Settings of a DnsClient. */
export interface DnsClientOptions {
  servers: readonly DnsServer[];
  /** Deadline for one query, every server and retry included. */
  timeoutMs?: number;
  /** Deadline for one attempt at one server. */
  attemptMs?: number;
}

/** Largest TCP response accepted (the 16-bit length prefix allows 65535). */
const maxTcpBytes = 65_535;

type Attempt = Decoded | { kind: 'timeout' } | { kind: 'network'; message: string };

/** Sends queries over the network; one instance is shared, it holds no per-query state. */
export class DnsClient implements DnsResolver {
  private readonly servers: readonly DnsServer[];
  private readonly timeoutMs: number;
  private readonly attemptMs: number;

  constructor(opts: DnsClientOptions) {
    if (opts.servers.length === 0) throw new Error('DnsClient needs at least one server');
    this.servers = opts.servers;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.attemptMs = opts.attemptMs ?? 2000;
  }

  async query<T extends RecordType>(rawName: string, type: T, signal?: AbortSignal): Promise<DnsResult<T>> {
    const name = normalizeName(rawName);
    const timer = AbortSignal.timeout(this.timeoutMs);
    const deadline = signal === undefined ? timer : AbortSignal.any([timer, signal]);
    const fail = (code: DnsFailureCode, message: string): DnsResult<T> => ({
      ok: false, name, type, code, message: `${type} ${name}: ${message}`, authenticated: false, ttl: 0,
    });
    const bad = nameProblem(name);
    if (bad !== null) return fail('MALFORMED', `not a valid DNS name, not sent: ${bad}`);
    let last: DnsResult<T> = fail('TIMEOUT', `no answer within ${this.timeoutMs} ms`);
    // Two rounds over the servers: one lost datagram must not fail a query. A server that
    // answered (SERVFAIL, REFUSED) is not asked again: it answers the same from its cache, and
    // the run's budget is one query per name and type (a bogus zone showed every name twice).
    const answered = new Set<DnsServer>();
    for (let round = 0; round < 2; round++) {
      for (const server of this.servers) {
        if (deadline.aborted) return lastOrTimeout(last, fail, this.timeoutMs);
        if (answered.has(server)) continue;
        const q = encodeQuery(name, type);
        const attemptSignal = AbortSignal.any([deadline, AbortSignal.timeout(this.attemptMs)]);
        let r: Attempt = await udpAttempt(q, server, attemptSignal);
        if (r.kind === 'truncated') r = await tcpAttempt(q, server, attemptSignal);
        const where = formatServer(server);
        switch (r.kind) {
          case 'answer':
            return { ok: true, name, type, records: r.records as DnsAnswer<T>['records'], authenticated: r.authenticated, ttl: r.ttl, ...(r.canonicalName === undefined ? {} : { canonicalName: r.canonicalName }) };
          case 'negative':
            return { ok: false, name, type, code: r.code, message: `${type} ${name}: ${r.code === 'NXDOMAIN' ? 'the name does not exist' : `no ${type} record`}`, authenticated: r.authenticated, ttl: r.ttl };
          case 'error':
            // An rcode is the server's answer; a garbled datagram may be spoofed, so ask again.
            if (r.code !== 'MALFORMED') answered.add(server);
            last = fail(r.code, `${r.message} (server ${where})`);
            break;
          case 'network':
            last = fail('NETWORK', `${r.message} (server ${where})`);
            break;
          case 'truncated':
            last = fail('MALFORMED', `truncated answer over TCP (server ${where})`);
            break;
          case 'mismatch':
            last = fail('MALFORMED', `${r.reason} (server ${where})`);
            break;
          case 'timeout':
            if (last.ok || last.code === 'TIMEOUT') last = fail('TIMEOUT', `no answer within ${this.timeoutMs} ms (server ${where})`);
            break;
        }
      }
    }
    return last;
  }
}

function lastOrTimeout<T extends RecordType>(last: DnsResult<T>, fail: (c: 'TIMEOUT', m: string) => DnsResult<T>, ms: number): DnsResult<T> {
  return !last.ok && last.code !== 'TIMEOUT' ? last : fail('TIMEOUT', `no answer within ${ms} ms`);
}

function formatServer(s: DnsServer): string {
  return isIP(s.host) === 6 ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

/**
 * One UDP exchange. Datagrams from another address or port, or for another query id, are
 * ignored (spoofing, late answers to earlier queries); the attempt waits on for the real one.
 */
function udpAttempt(q: Query, server: DnsServer, signal: AbortSignal): Promise<Attempt> {
  return new Promise<Attempt>((resolve) => {
    let socket: UdpSocket;
    try {
      socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    } catch (err) {
      resolve({ kind: 'network', message: (err as Error).message });
      return;
    }
    let done = false;
    let garbled: Decoded | undefined;
    const finish = (r: Attempt): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.close();
      resolve(r);
    };
    // A garbled datagram may come from an attacker: keep waiting, but report it if nothing better comes.
    const onAbort = (): void => finish(garbled ?? { kind: 'timeout' });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish({ kind: 'network', message: err.message }));
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address !== server.host || rinfo.port !== server.port) return;
      const d = decodeResponse(q, msg);
      if (d.kind === 'mismatch' || (d.kind === 'error' && d.code === 'MALFORMED')) {
        garbled = d;
        return;
      }
      finish(d);
    });
    socket.send(q.bytes, server.port, server.host, (err) => {
      if (err) finish({ kind: 'network', message: err.message });
    });
  });
}

/** One TCP exchange (2-byte length prefix, RFC 1035 4.2.2), bounded and deadlined. */
function tcpAttempt(q: Query, server: DnsServer, signal: AbortSignal): Promise<Attempt> {
  return new Promise<Attempt>((resolve) => {
    const socket = netConnect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (r: Attempt): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = (): void => finish({ kind: 'timeout' });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish({ kind: 'network', message: `TCP: ${err.message}` }));
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.bytes.length);
      socket.write(Buffer.concat([len, q.bytes]));
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > maxTcpBytes + 2) return finish({ kind: 'error', code: 'MALFORMED', message: 'TCP response longer than 65535 bytes' });
      if (buf.length < 2) return;
      const want = buf.readUInt16BE(0);
      if (buf.length < want + 2) return;
      const d = decodeResponse(q, buf.subarray(2, want + 2));
      // Over TCP nobody can inject a datagram: a mismatch is the server's fault.
      finish(d.kind === 'mismatch' ? { kind: 'error', code: 'MALFORMED', message: `TCP: ${d.reason}` } : d);
    });
    socket.on('end', () => finish({ kind: 'error', code: 'MALFORMED', message: 'TCP connection closed before a full response' }));
  });
}
