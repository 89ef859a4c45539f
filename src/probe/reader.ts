import type { Socket } from 'node:net';
import { ProbeError, protocolError } from './errors.ts';

/** Bounds on what a server may send before TLS starts. */
export interface ReadLimits {
  /** Longest line accepted by readLine, in bytes, without its line ending. */
  maxLine: number;
  /** Total plaintext bytes accepted from the server. */
  maxTotal: number;
}

export const defaultReadLimits: ReadLimits = { maxLine: 4096, maxTotal: 64 * 1024 };

/**
 * What a dialect sees: a bounded reader and a writer over the plaintext socket.
 * Set `step` before each exchange so that timeouts and errors name it.
 */
export interface DialectIO {
  /** Name the client presents (SNI name, or the host when probing an IP literal). */
  readonly servername: string;
  /** The name or address the user asked for. */
  readonly host: string;
  step: string;
  /** One line without its CRLF/LF ending. */
  readLine(): Promise<string>;
  /** Exactly n bytes (n must not exceed the total limit). */
  readExact(n: number): Promise<Buffer>;
  /** Whatever has arrived, at least one byte. */
  readSome(): Promise<Buffer>;
  write(data: string | Uint8Array): void;
  /** Bytes received but not yet read. */
  readonly buffered: number;
}

const TLS_RECORD_TYPES = new Set([0x15, 0x16]);

/** A TLS record (handshake or alert, version 3.x) where a plaintext greeting belongs. */
function isTlsRecord(chunk: Buffer): boolean {
  return chunk.length >= 2 && TLS_RECORD_TYPES.has(chunk[0]!) && chunk[1] === 0x03;
}

/** A reader over a connected socket that enforces limits and the probe deadline. */
export class SocketIO implements DialectIO {
  step = 'greeting';
  private buf: Buffer = Buffer.alloc(0);
  private received = 0;
  private failure: ProbeError | null = null;
  private wake: (() => void) | null = null;
  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received === chunk.length && isTlsRecord(chunk)) {
      // Not buffered: served to the dialect, the record would be quoted as a garbled reply
      // (or read as a length) and the hint lost.
      this.fail(
        protocolError('server answered with TLS instead of a plaintext greeting', this.step, 'this port speaks TLS from the first byte: try --mode implicit'),
      );
    } else if (this.received > this.limits.maxTotal) {
      this.fail(protocolError(`server sent more than ${this.limits.maxTotal} bytes before TLS`, this.step));
    } else {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.fail(protocolError('server closed the connection', this.step));
  };
  private readonly onError = (err: Error): void => {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ECONNRESET' ? 'connection reset by server' : `socket error ${code ?? err.message}`;
    this.fail(new ProbeError('PROTOCOL_ERROR', what, { step: this.step, cause: err }));
  };
  private readonly onAbort = (): void => {
    const silent = this.received === 0 && this.step === 'greeting';
    this.fail(
      new ProbeError('TIMEOUT', silent ? 'server sent no greeting before the deadline' : 'no complete reply before the deadline', {
        step: this.step,
        ...(silent ? { hint: 'if this port speaks TLS from the first byte, try --mode implicit' } : {}),
      }),
    );
  };

  private readonly socket: Socket;
  readonly host: string;
  readonly servername: string;
  private readonly signal: AbortSignal;
  private readonly limits: ReadLimits;

  constructor(
    socket: Socket,
    host: string,
    servername: string,
    signal: AbortSignal,
    limits: ReadLimits = defaultReadLimits,
  ) {
    this.socket = socket;
    this.host = host;
    this.servername = servername;
    this.signal = signal;
    this.limits = limits;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    if (signal.aborted) this.onAbort();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get buffered(): number {
    return this.buf.length;
  }

  write(data: string | Uint8Array): void {
    if (this.failure === null) this.socket.write(data);
  }

  async readLine(): Promise<string> {
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      if (lf >= 0) {
        const end = lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
        if (end > this.limits.maxLine) throw this.lineTooLong();
        const line = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(lf + 1);
        return line;
      }
      if (this.buf.length > this.limits.maxLine + 1) throw this.lineTooLong();
      await this.more();
    }
  }

  async readExact(n: number): Promise<Buffer> {
    if (n > this.limits.maxTotal) {
      throw protocolError(`server announced ${n} bytes, more than the ${this.limits.maxTotal} allowed`, this.step);
    }
    while (this.buf.length < n) await this.more();
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async readSome(): Promise<Buffer> {
    while (this.buf.length === 0) await this.more();
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  /** Stops reading and returns unread bytes; the socket is then free for TLS. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onError);
    this.signal.removeEventListener('abort', this.onAbort);
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }

  private lineTooLong(): ProbeError {
    return protocolError(`server sent a line longer than ${this.limits.maxLine} bytes`, this.step);
  }

  private fail(err: ProbeError): void {
    if (this.failure === null) this.failure = err;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private more(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    }).then(() => {
      // Data that arrived before a failure is still served; the failure surfaces on the next wait.
      if (this.failure !== null && this.buf.length === 0) throw this.failure;
    });
  }
}
