// In-process fake servers on 127.0.0.1, port 0, for dialect and probe tests.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, createServer as createTlsServer, type SecureContextOptions } from 'node:tls';
import type { ServerCreds } from './pki.ts';

/** TLS settings of a fake server: credentials plus optional version/cipher limits. */
export type FakeTls = ServerCreds & Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers'>;

/** One accepted plaintext connection, scripted by a test. */
export class FakeConn {
  private buf = '';
  private waiters: (() => void)[] = [];
  private closed = false;

  readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('close', () => {
      this.closed = true;
      this.wakeAll();
    });
    socket.on('error', () => {});
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buf += chunk.toString('latin1');
    this.wakeAll();
  };

  private wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Next line the client sent (without CRLF); rejects if the client closes first. */
  async readLine(): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf('\n');
      if (i >= 0) {
        const line = this.buf.slice(0, i).replace(/\r$/, '');
        this.buf = this.buf.slice(i + 1);
        return line;
      }
      if (this.closed) throw new Error('client closed');
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Exactly n bytes from the client. */
  async readBytes(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.closed) throw new Error('client closed');
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const out = Buffer.from(this.buf.slice(0, n), 'latin1');
    this.buf = this.buf.slice(n);
    return out;
  }

  write(data: string | Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Sends data slowly, one byte per interval, until done or the client goes away. */
  async drip(data: string | Buffer, intervalMs = 50): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    for (const byte of bytes) {
      if (this.socket.destroyed) return;
      this.socket.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Starts server-side TLS on this connection (after the go-ahead was sent). */
  startTls(tls: FakeTls): TLSSocket {
    this.socket.off('data', this.onData);
    // Bytes the client sent right behind the go-ahead (MySQL's ClientHello follows its SSL
    // Request at once) belong to TLS: hand them back; TLSSocket reads them first.
    this.socket.pause();
    if (this.buf.length > 0) this.socket.unshift(Buffer.from(this.buf, 'latin1'));
    this.buf = '';
    const { key, cert, ...limits } = tls;
    const secure = new TLSSocket(this.socket, {
      isServer: true,
      secureContext: createSecureContext({ key, cert, ...limits }),
    });
    secure.on('error', () => {});
    return secure;
  }

  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A running fake server. */
export interface FakeServer {
  port: number;
  /** Errors thrown by the connection script (a test may assert there are none). */
  errors: unknown[];
  close(): Promise<void>;
}

function track(server: Server): { sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return { sockets };
}

async function listen(server: Server, sockets: Set<Socket>, errors: unknown[]): Promise<FakeServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A plaintext server that runs `script` for every connection. */
export async function startFakeServer(script: (conn: FakeConn) => Promise<void> | void): Promise<FakeServer> {
  const errors: unknown[] = [];
  const server = createServer((socket) => {
    const conn = new FakeConn(socket);
    Promise.resolve()
      .then(() => script(conn))
      .catch((err: unknown) => {
        if (!(err instanceof Error && err.message === 'client closed')) errors.push(err);
        socket.destroy();
      });
  });
  const { sockets } = track(server);
  return listen(server, sockets, errors);
}

/** An implicit-TLS server that sends `tls` credentials and then a greeting line if given. */
export async function startTlsServer(tls: FakeTls, greeting?: string): Promise<FakeServer> {
  const { key, cert, ...limits } = tls;
  const server = createTlsServer({ key, cert, ...limits }, (socket) => {
    socket.on('error', () => {});
    if (greeting !== undefined) socket.write(greeting);
  });
  server.on('tlsClientError', () => {});
  const { sockets } = track(server as unknown as Server);
  return listen(server as unknown as Server, sockets, []);
}
