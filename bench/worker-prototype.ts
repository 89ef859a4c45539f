// The measured alternative to the legacy chain read (docs/cli.md, "Benchmark"): handshakes in a
// child process that reads the chain with the leaking getPeerX509Certificate(), requests and
// replies batched per event-loop turn over IPC (advanced serialization), against raw
// tls.connect and the in-process probe handshake. CPU per probe counts parent and child.
// Also prints the child's RSS after each round: the leak is why such a worker would have to be
// recycled. A measurement, not product code.
// Usage: node bench/worker-prototype.ts [probes per side and round] [rounds]
import { fork } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createProbeContext, handshake } from '../src/probe/tls.ts';
import { mapLimit } from '../src/util/concurrency.ts';
import { rawImplicit } from './raw-client.ts';
import type { BenchServers } from './servers.ts';
import type { WorkerReply, WorkerRequest } from './worker-prototype-child.ts';

const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 7);
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const servers = fork(here('./servers.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const { implicitPort: port } = await new Promise<BenchServers>((resolve) => servers.once('message', (m) => resolve(m as BenchServers)));
const child = fork(here('./worker-prototype-child.ts'), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

let nextId = 0;
const pending = new Map<number, (r: WorkerReply) => void>();
child.on('message', (batch: WorkerReply[]) => {
  for (const r of batch) {
    pending.get(r.id)?.(r);
    pending.delete(r.id);
  }
});
let queue: WorkerRequest[] = [];
function ask(req: { op: 'probe'; port: number } | { op: 'usage' }): Promise<WorkerReply> {
  return new Promise((resolve) => {
    const id = ++nextId;
    pending.set(id, resolve);
    if (queue.length === 0) setImmediate(() => {
      const batch = queue;
      queue = [];
      child.send(batch);
    });
    queue.push({ ...req, id });
  });
}
async function usage(): Promise<{ cpuMs: number; rssBytes: number }> {
  const r = await ask({ op: 'usage' });
  if (!('cpuMs' in r)) throw new Error('no usage reply');
  return r;
}

const rawContext = createSecureContext();
const probeContext = createProbeContext();
const sides: [string, () => Promise<unknown>][] = [
  ['raw tls.connect, leaf (npm run bench)', () => rawImplicit(port, 'localhost', rawContext)],
  ['probe handshake() in process, legacy chain read', () => new Promise<unknown>((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => resolve(handshake(socket, 'localhost', probeContext, AbortSignal.timeout(10_000))));
  })],
  ['worker process, getPeerX509Certificate(), batched IPC', () => ask({ op: 'probe', port }).then((r) => {
    if ('error' in r) throw new Error(r.error);
  })],
];

const samples = sides.map((): number[] => []);
const rss: number[] = [];
for (const [, run] of sides) await mapLimit(Array.from({ length: 200 }), 50, run);
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < sides.length; k++) {
    const i = (k + round) % sides.length;
    const own = process.cpuUsage();
    const childBefore = i === 2 ? (await usage()).cpuMs : 0;
    await mapLimit(Array.from({ length: n }), 50, sides[i]![1]);
    const childAfter = i === 2 ? await usage() : null;
    const used = process.cpuUsage(own);
    const childMs = childAfter === null ? 0 : childAfter.cpuMs - childBefore;
    if (childAfter !== null) rss.push(childAfter.rssBytes);
    samples[i]!.push(((used.user + used.system) / 1000 + childMs) / n);
  }
}
child.disconnect();
servers.kill();
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const base = median(samples[0]!);
console.log(`${n} probes per side and round, ${rounds} rounds, concurrency 50, node ${process.version}; CPU ms per probe, parent plus child (median)`);
sides.forEach(([name], i) => console.log(`  ${name.padEnd(56)} ${median(samples[i]!).toFixed(3)}  ${(median(samples[i]!) / base).toFixed(2)}x raw`));
console.log(`  worker RSS after each round: ${rss.map((b) => (b / 1048576).toFixed(0)).join(', ')} MiB (${((rss.at(-1)! - rss[0]!) / Math.max(1, n * (rss.length - 1)) / 1024).toFixed(1)} KB per handshake)`);
