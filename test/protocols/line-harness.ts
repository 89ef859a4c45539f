// Runs a dialect against a scripted fake server, directly or through the real Prober.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TrustStore } from '../../src/cert/trust.ts';
import { ProbeError } from '../../src/probe/errors.ts';
import { Prober } from '../../src/probe/probe.ts';
import type { ProtocolName } from '../../src/probe/protocols/index.ts';
import type { Dialect } from '../../src/probe/protocols/types.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { startFakeServer, type FakeConn } from '../helpers/fake-server.ts';
import type { Issued } from '../helpers/pki.ts';
import { runDialect as runDialectOn } from './socket-harness.ts';

export type Script = (conn: FakeConn) => Promise<void> | void;

/** What a dialect run left behind. */
export interface DialectRun {
  error: ProbeError | null;
  /** Bytes received but unread when the dialect returned (must be empty on success). */
  leftover: Buffer;
  /** Everything the client sent, as latin1 text. */
  sent: string;
  /** Errors (failed assertions) inside the server script. */
  serverErrors: unknown[];
}

function record(script: Script, into: Buffer[]): Script {
  return (conn) => {
    conn.socket.on('data', (chunk: Buffer) => into.push(chunk));
    return script(conn);
  };
}

/** Bytes the client sent before its TLS ClientHello (a record starting 0x16 0x03). */
function plaintext(chunks: Buffer[]): string {
  const all = Buffer.concat(chunks);
  const hello = all.findIndex((b, i) => b === 0x16 && all[i + 1] === 0x03);
  return all.subarray(0, hello < 0 ? all.length : hello).toString('latin1');
}

/** Runs `dialect` over a plain socket to a fake server running `script`. */
export async function runDialect(dialect: Dialect, script: Script, timeoutMs = 2000): Promise<DialectRun> {
  const chunks: Buffer[] = [];
  const server = await startFakeServer(record(script, chunks));
  const { error, rest: leftover, socket } = await runDialectOn(server.port, dialect, timeoutMs);
  socket.destroy();
  await server.close();
  return { error, leftover, sent: Buffer.concat(chunks).toString('latin1'), serverErrors: server.errors };
}

/** A probe through the real Prober (dialect, leftover check, TLS, judge) against a fake server. */
export async function probeFake(
  protocol: ProtocolName,
  root: Issued,
  script: Script,
  timeoutMs = 3000,
): Promise<{ result: ProbeResult; sent: string; serverErrors: unknown[] }> {
  const chunks: Buffer[] = [];
  const server = await startFakeServer(record(script, chunks));
  const prober = new Prober({ trust: TrustStore.fromPem(root.certPem) });
  const target = {
    input: `${protocol}://localhost:${server.port}`,
    host: '127.0.0.1',
    port: server.port,
    protocol,
    mode: 'starttls' as const,
    servername: 'localhost',
  };
  const results = await prober.probe(target, { timeoutMs, warnDays: 30, critDays: 7 });
  await server.close();
  assert.equal(results.length, 1);
  return { result: results[0]!, sent: plaintext(chunks), serverErrors: server.errors };
}

/** Asserts a dialect run failed with `code` at `step`, and returns the error. */
export function expectError(run: DialectRun, code: ProbeError['code'], step: string): ProbeError {
  assert.ok(run.error !== null, `expected ${code}, but the dialect succeeded`);
  assert.equal(run.error.code, code, run.error.message);
  assert.equal(run.error.step, step, run.error.message);
  return run.error;
}

/** Asserts the dialect reached the go-ahead with nothing unread and the server script was happy. */
export function expectGoAhead(run: DialectRun): void {
  assert.equal(run.error, null, run.error?.describe());
  assert.equal(run.leftover.length, 0);
  assert.deepEqual(run.serverErrors, []);
}

/** Asserts a probe got the certificate over TLS and found nothing wrong. */
export function expectHealthy(result: ProbeResult, leaf: Issued): void {
  assert.equal(result.error, null, result.error?.message);
  assert.equal(result.status, 'ok', JSON.stringify(result.problems));
  const fp = createHash('sha256').update(leaf.der).digest('hex').toUpperCase().match(/../g)?.join(':');
  assert.equal(result.certificate?.fingerprint256, fp);
  assert.equal(result.trusted, true);
  assert.ok(result.tls !== null);
}

/** Asserts a probe ended in `code`, with the step named in the message. */
export function expectProbeError(result: ProbeResult, code: ProbeError['code'], step: string): void {
  assert.equal(result.error?.code, code, result.error?.message);
  assert.match(result.error?.message ?? '', new RegExp(`\\(during ${step}\\)`));
}

/** A line longer than the reader's 4096-byte limit. */
export const oversized = `${'A'.repeat(5000)}\r\n`;
