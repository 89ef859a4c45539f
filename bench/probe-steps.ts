// Where the probe's CPU goes beyond raw tls.connect, step by step: each variant adds one step
// of the probe path, all against the same implicit-TLS bench server, alternating in rounds in
// one process (CPU of this process, GC included; the servers run in a child).
// Usage: node bench/probe-steps.ts [probes per variant and round] [rounds]
import { fork } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { judge } from '../src/cert/judge.ts';
import { TrustStore } from '../src/cert/trust.ts';
import { Prober } from '../src/probe/probe.ts';
import { parseTarget } from '../src/probe/target.ts';
import { createProbeContext, handshake } from '../src/probe/tls.ts';
import { mapLimit } from '../src/util/concurrency.ts';
import { handshakeAndRead } from './raw-client.ts';
import type { BenchServers } from './servers.ts';

const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 7);
const servers = fork(fileURLToPath(new URL('./servers.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const { implicitPort: port, rootPem } = await new Promise<BenchServers>((resolve) => servers.once('message', (m) => resolve(m as BenchServers)));

const rawContext = createSecureContext();
const probeContext = createProbeContext();
const trust = TrustStore.bundled().withExtra(rootPem, 'bench root');
const prober = new Prober({ trust });
const target = parseTarget(`127.0.0.1:${port}`, { servername: 'localhost' });

function upgrade(how: { socket: Socket } | { host: string; port: number }, context: SecureContext, read: (tls: TLSSocket) => unknown): Promise<unknown> {
  return handshakeAndRead(how, 'localhost', context, read);
}

function tcp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

const leaf = (tls: TLSSocket): unknown => tls.getPeerCertificate().valid_to;
const chain = (tls: TLSSocket): unknown => tls.getPeerCertificate(true);
const captured = async (): Promise<Awaited<ReturnType<typeof handshake>>> => handshake(await tcp(), 'localhost', probeContext, AbortSignal.timeout(10_000));

const variants: [string, () => Promise<unknown>][] = [
  ['raw tls.connect, default context, leaf (npm run bench)', () => upgrade({ host: '127.0.0.1', port }, rawContext, leaf)],
  ['probe context, leaf', () => upgrade({ host: '127.0.0.1', port }, probeContext, leaf)],
  ['probe context, chain (getPeerCertificate(true))', async () => upgrade({ socket: await tcp() }, probeContext, chain)],
  ['handshake() of src/probe/tls.ts', captured],
  ['handshake() + judge()', async () => {
    const c = await captured();
    return judge({ chain: c.chain, tlsVersion: c.version, expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7 }, trust);
  }],
  ['Prober.probe', () => prober.probe(target, { timeoutMs: 10_000, warnDays: 30, critDays: 7 })],
];

const batch = (run: () => Promise<unknown>): Promise<unknown> => mapLimit(Array.from({ length: n }), 50, run);
const samples = variants.map((): number[] => []);
for (const [, run] of variants) await batch(run); // warm-up
for (let round = 0; round < rounds; round++) {
  const order = variants.map((_, i) => i);
  if (round % 2 === 1) order.reverse();
  for (const i of order) {
    const before = process.cpuUsage();
    await batch(variants[i]![1]);
    const used = process.cpuUsage(before);
    samples[i]!.push((used.user + used.system) / 1000 / n);
  }
}
servers.kill();
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const base = median(samples[0]!);
console.log(`${n} probes per variant and round, ${rounds} rounds, concurrency 50, node ${process.version}; CPU ms per probe (median, then min-max over rounds)`);
variants.forEach(([name], i) => {
  const s = samples[i]!;
  console.log(`  ${name.padEnd(56)} ${median(s).toFixed(3)}  ${(median(s) / base).toFixed(2)}x  (${Math.min(...s).toFixed(3)}-${Math.max(...s).toFixed(3)})`);
});
