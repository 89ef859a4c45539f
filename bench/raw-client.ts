// The baseline: what a minimal hand-written checker does with Node alone. One shared client
// context, no verification, no judging; it reads the leaf certificate and hangs up the same
// way the probe does (end after the handshake).
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';

const deadlineMs = 10_000;

/** Implicit TLS: handshake and read the peer certificate. Resolves its notAfter. */
export function rawImplicit(port: number, servername: string, context: SecureContext): Promise<string> {
  return upgrade({ host: '127.0.0.1', port }, servername, context);
}

/** SMTP STARTTLS (RFC 3207) spoken minimally, then the same handshake. */
export async function rawSmtp(port: number, servername: string, context: SecureContext): Promise<string> {
  const socket = netConnect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  try {
    const lines = lineReader(socket);
    await replyOf(lines, '220');
    socket.write(`EHLO ${servername}\r\n`);
    const ehlo = await replyOf(lines, '250');
    if (!/^250[ -]STARTTLS$/im.test(ehlo)) throw new Error('STARTTLS not offered');
    socket.write('STARTTLS\r\n');
    await replyOf(lines, '220');
    lines.stop();
  } catch (err) {
    socket.destroy();
    throw err;
  }
  return upgrade({ socket }, servername, context);
}

function upgrade(how: { socket: Socket } | { host: string; port: number }, servername: string, context: SecureContext): Promise<string> {
  return handshakeAndRead(how, servername, context, (tls) => tls.getPeerCertificate().valid_to);
}

/** One handshake without verification; `read` sees the socket at secureConnect, then it ends. Also used by the narrower benches. */
export function handshakeAndRead<T>(how: { socket: Socket } | { host: string; port: number }, servername: string, context: SecureContext, read: (tls: TLSSocket) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ ...how, servername, secureContext: context, rejectUnauthorized: false });
    const timer = setTimeout(() => tls.destroy(new Error('timeout')), deadlineMs);
    tls.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      const value = read(tls);
      tls.on('error', () => {});
      tls.end();
      resolve(value);
    });
  });
}

interface Lines {
  next(): Promise<string>;
  stop(): void;
}

function lineReader(socket: Socket): Lines {
  let buf = '';
  const waiting: ((line: string | Error) => void)[] = [];
  const ready: string[] = [];
  const push = (item: string | Error): void => {
    const w = waiting.shift();
    if (w !== undefined) w(item);
    else if (typeof item === 'string') ready.push(item);
  };
  const onData = (chunk: Buffer): void => {
    buf += chunk.toString('latin1');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      push(buf.slice(0, i).replace(/\r$/, ''));
      buf = buf.slice(i + 1);
    }
  };
  const onEnd = (): void => push(new Error('closed'));
  socket.on('data', onData);
  socket.on('error', onEnd);
  socket.on('end', onEnd);
  const timer = setTimeout(() => socket.destroy(new Error('timeout')), deadlineMs);
  return {
    next: () =>
      new Promise((resolve, reject) => {
        const line = ready.shift();
        if (line !== undefined) return resolve(line);
        waiting.push((item) => (typeof item === 'string' ? resolve(item) : reject(item)));
      }),
    stop: () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onEnd);
      socket.off('end', onEnd);
    },
  };
}

/** A whole (possibly multi-line) reply with the expected code. */
async function replyOf(lines: Lines, code: string): Promise<string> {
  let text = '';
  for (;;) {
    const line = await lines.next();
    text += `${line}\n`;
    if (!line.startsWith(code)) throw new Error(`unexpected reply ${line}`);
    if (line[3] !== '-') return text;
  }
}
