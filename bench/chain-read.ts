// The chain read in place: N handshakes per variant with the probe's own client context, on
// fresh certificates each time (as a probe sees them), measured side by side in rounds that
// alternate the variants. Shows what reading the sent chain costs per probe (CPU of the
// process, GC included) and why the probe cannot take the cheaper read (bench/peer-cert-leak.ts).
// Usage: node bench/chain-read.ts [handshakes per variant and round]
import { fork } from 'node:child_process';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createProbeContext } from '../src/probe/tls.ts';
import { mapLimit } from '../src/util/concurrency.ts';
import { handshakeAndRead } from './raw-client.ts';
import type { BenchServers } from './servers.ts';

type Variant = 'leaf only, getPeerCertificate()' | 'chain, getPeerCertificate(true) (the probe)' | 'chain, getPeerX509Certificate() (leaks)';

const reads: Record<Variant, (tls: TLSSocket) => number> = {
  'leaf only, getPeerCertificate()': (tls) => tls.getPeerCertificate().raw.length,
  'chain, getPeerCertificate(true) (the probe)': (tls) => {
    let n = 0;
    const seen = new Set<string>();
    for (let c = tls.getPeerCertificate(true); c?.raw !== undefined && !seen.has(c.fingerprint256) && n < 20; c = c.issuerCertificate) {
      seen.add(c.fingerprint256);
      n += c.raw.length;
    }
    return n;
  },
  'chain, getPeerX509Certificate() (leaks)': (tls) => {
    let n = 0;
    for (let c = tls.getPeerX509Certificate(), i = 0; c !== undefined && i < 20; c = c.issuerCertificate, i++) n += c.raw.length;
    return n;
  },
};

const n = Number(process.argv[2] ?? 1000);
const servers = fork(fileURLToPath(new URL('./servers.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const { implicitPort } = await new Promise<BenchServers>((resolve) => servers.once('message', (m) => resolve(m as BenchServers)));
const context = createProbeContext();

function batch(read: (tls: TLSSocket) => number): Promise<unknown> {
  return mapLimit(Array.from({ length: n }), 50, () => handshakeAndRead({ host: '127.0.0.1', port: implicitPort }, 'localhost', context, read));
}

const variants = Object.keys(reads) as Variant[];
const samples = new Map<Variant, number[]>(variants.map((v) => [v, []]));
for (const v of variants) await batch(reads[v]); // warm-up
for (let round = 0; round < 7; round++) {
  for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
    const before = process.cpuUsage();
    await batch(reads[v]);
    const used = process.cpuUsage(before);
    samples.get(v)!.push((used.user + used.system) / 1000 / n);
  }
}
servers.kill();
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const leaf = median(samples.get(variants[0]!)!);
console.log(`${n} handshakes per variant and round, 7 rounds, concurrency 50, node ${process.version}; CPU ms per handshake (median)`);
for (const v of variants) {
  const m = median(samples.get(v)!);
  console.log(`  ${v.padEnd(46)} ${m.toFixed(3)} ms  (${m - leaf >= 0 ? '+' : ''}${(m - leaf).toFixed(3)} ms over the leaf alone)`);
}
