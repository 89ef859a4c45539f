// Where the probe's CPU goes beyond the handshake: judge() and serialising a result, timed
// alone on a chain captured once from the benchmark server.
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { judge } from '../src/cert/judge.ts';
import type { TrustStore } from '../src/cert/trust.ts';
import { createProbeContext, handshake } from '../src/probe/tls.ts';

/** CPU milliseconds per call of each step. */
export interface JudgeProfile {
  chainLength: number;
  judgeMs: number;
  jsonMs: number;
  /** getPeerCertificate(true): the whole sent chain, as src/probe/tls.ts reads it. */
  chainReadMs: number;
  /** getPeerCertificate(): the leaf only, as the raw baseline reads it. */
  leafReadMs: number;
}

export async function profileJudge(port: number, trust: TrustStore, iterations: number): Promise<JudgeProfile> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const capture = await handshake(socket, 'localhost', createProbeContext(), AbortSignal.timeout(10_000));
  const input = { chain: capture.chain, tlsVersion: capture.version, expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7 };
  const cpuMs = (f: () => unknown): number => {
    f();
    const t0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) f();
    const d = process.cpuUsage(t0);
    return (d.user + d.system) / 1000 / iterations;
  };
  const verdict = judge(input, trust);
  // Reading the chain is the one step the raw baseline does not share: time both reads on
  // one open connection with the probe's context.
  const tls = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: createProbeContext(), rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
  const reads = { chainReadMs: cpuMs(() => tls.getPeerCertificate(true)), leafReadMs: cpuMs(() => tls.getPeerCertificate()) };
  tls.destroy();
  return {
    chainLength: capture.chain.length,
    judgeMs: cpuMs(() => judge(input, trust)),
    jsonMs: cpuMs(() => JSON.stringify(verdict)),
    ...reads,
  };
}
