// Scale benchmark (issue 3, "Scale"): 1,000 and 10,000 stored targets served by local fake
// endpoints (bench/servers.ts in a child process: one implicit-TLS and one SMTP STARTTLS
// server), one scheduled run each on the real SQLite store, then `list` in a channel with
// many targets. Prints run time, probes/s, peak RSS and the 1k -> 10k growth ratio.
//   npm run bench:scale            (or: node bench/scale-bench.ts [sizes...] [--concurrency N])
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChannelRef, Reply } from '../src/chat/types.ts';
import { TrustStore } from '../src/cert/trust.ts';
import { parseConfig } from '../src/config.ts';
import { startBot } from '../src/main.ts';
import { createLogger } from '../src/ops/logger.ts';
import { parseTarget } from '../src/probe/target.ts';
import { openStore } from '../src/store/index.ts';
import type { BenchServers } from './servers.ts';

const args = process.argv.slice(2);
const ci = args.indexOf('--concurrency');
const concurrency = ci >= 0 ? Number(args[ci + 1]) : 100;
const sizes = args.filter((a, i) => /^\d+$/.test(a) && (ci < 0 || i !== ci + 1)).map(Number);
if (sizes.length === 0) sizes.push(1000, 10000);
const BIG_CHANNEL = 1000; // targets in the one channel `list` is measured on
const MB = 1024 * 1024;

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
sampler.unref();

const child = fork(new URL('./servers.ts', import.meta.url).pathname, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const servers = await new Promise<BenchServers>((resolve) => child.once('message', (m) => resolve(m as BenchServers)));

interface Row {
  n: number;
  seedMs: number;
  runMs: number;
  probesPerSec: number;
  failed: number;
  listMs: number;
  listLines: number;
  peakRssMb: number;
}

async function measure(n: number): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-scale-'));
  try {
    const storeUrl = `sqlite://${join(dir, 'certwatch.sqlite')}`;
    const seedStart = performance.now();
    const seed = await openStore({ storeUrl, replicaId: 'bench', defaults: { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false }, onInvalid: () => {} });
    const big: ChannelRef = { platform: 'console', channelId: 'console' };
    for (let i = 0; i < n; i++) {
      // Half implicit TLS, half SMTP STARTTLS; the first BIG_CHANNEL targets share one channel.
      const smtp = i % 2 === 1;
      const target = parseTarget(`127.0.0.1:${smtp ? servers.smtpPort : servers.implicitPort}`, smtp ? { protocol: 'smtp', mode: 'starttls' } : {});
      const channel: ChannelRef = i < BIG_CHANNEL ? big : { platform: 'slack', channelId: `C${Math.floor(i / 50)}` };
      await seed.repo.addTarget({ id: `b${String(i).padStart(7, '0')}`, target, caPem: servers.rootPem, channel, addedBy: { id: 'bench' }, addedAt: new Date().toISOString() });
    }
    await seed.close();
    const seedMs = performance.now() - seedStart;

    const config = parseConfig({ STORE_URL: storeUrl, ALLOW_PRIVATE_TARGETS: 'true', CHECK_CONCURRENCY: String(concurrency), CHECK_JITTER_MS: '0', PROBE_TIMEOUT_MS: '20000', CONSOLE: 'off', LOG_LEVEL: 'silent' });
    const bot = await startBot(config, { trust: TrustStore.fromPem([]), console: false, schedule: false, log: createLogger({ level: 'silent' }) });
    try {
      peakRss = process.memoryUsage.rss();
      const report = await bot.scheduler.tick('scheduled');
      const listStart = performance.now();
      const replies: Reply[] = [];
      await bot.dispatcher({ channel: big, user: { id: 'bench' }, name: 'list', text: '' }, async (r) => void replies.push(r));
      const listMs = performance.now() - listStart;
      return {
        n,
        seedMs: Math.round(seedMs),
        runMs: report.durationMs,
        probesPerSec: Math.round((report.checked / report.durationMs) * 1000),
        failed: report.failed,
        listMs: Math.round(listMs),
        listLines: replies.reduce((k, r) => k + (r.items?.length ?? 0), 0),
        peakRssMb: Math.round(peakRss / MB),
      };
    } finally {
      await bot.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const n of sizes) {
  const row = await measure(n);
  rows.push(row);
  console.log(
    `${String(n).padStart(6)} targets: run ${(row.runMs / 1000).toFixed(1)} s, ${row.probesPerSec} probes/s, ${row.failed} failed, ` +
      `list(${BIG_CHANNEL}-target channel) ${row.listMs} ms (${row.listLines} lines), peak RSS ${row.peakRssMb} MB, seeding ${(row.seedMs / 1000).toFixed(1)} s`,
  );
}
const small = rows.find((r) => r.n === 1000);
const large = rows.find((r) => r.n === 10000);
if (small && large) {
  const ratio = large.runMs / small.runMs;
  console.log(`growth 1k -> 10k: run time x${ratio.toFixed(2)} (linear = x10.0)`);
  console.log(`peak RSS ${large.peakRssMb} MB ${large.peakRssMb < 250 ? '<' : '>='} 250 MB target`);
}
console.log(`concurrency ${concurrency}; every target carries its own CA PEM (trust cache exercised)`);
child.disconnect();
child.kill();
