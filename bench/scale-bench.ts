// Scale benchmark (issues 3 and 9, "Scale"): n stored targets served by local fake endpoints
// (bench/servers.ts in a child process: implicit-TLS and SMTP STARTTLS servers on several
// ports), one scheduled run each on the real SQLite store (WAL, synchronous=FULL, group
// commit), then `list` in a channel with many targets. Prints run time, probes/s, peak RSS
// and growth, and ends with one JSON line for the largest size:
//   {"targets":n,"runSeconds":..,"probesPerSecond":..,"peakRssMb":..,"failed":..,"growth":..}
// growth = (run time per target at n) / (run time per target at n/10): 1.0 is linear. Given a
// single size of 10,000 or more, n/10 is measured first as the reference.
//   npm run bench:scale -- 100000   (or: node bench/scale-bench.ts [sizes...] [--concurrency N] [--cli])
// --cli also runs `certwatch check --json -f` over a list of the largest size in a child
// process and prints its peak RSS and result count (the streamed CLI, issue 9).
//
// Each size is seeded by one child process and run by another, fresh one (as the bot would
// be after a restart): the run's peak RSS is that process's own high-water mark
// (process.resourceUsage().maxRSS), not polluted by seeding or by the previous size.
// "failed" counts targets whose check threw plus targets whose latest status is error (an
// overloaded fake endpoint shows up there as TIMEOUT or CONNECT_REFUSED).
import { fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { ChannelRef, Reply } from '../src/chat/types.ts';
import { TrustStore } from '../src/cert/trust.ts';
import { parseConfig } from '../src/config.ts';
import { startBot } from '../src/main.ts';
import { createLogger } from '../src/ops/logger.ts';
import { parseTarget, type Target } from '../src/probe/target.ts';
import { openStore } from '../src/store/index.ts';
import type { BenchServers } from './servers.ts';

const BIG_CHANNEL = 1000; // targets in the one channel `list` is measured on
const SEED_BATCH = 5000;
const MB = 1024 * 1024;
const self = new URL(import.meta.url).pathname;

/**
 * Target i: half implicit TLS, half SMTP STARTTLS, spread over the servers' ports (no single
 * address:port pair has to absorb every connection of a 100,000-probe run: each pair has only
 * the ~28,000 ephemeral client ports of the loopback address).
 */
function benchTarget(servers: BenchServers, i: number): Target {
  const smtp = i % 2 === 1;
  const ports = smtp ? servers.smtpPorts : servers.implicitPorts;
  const port = ports[Math.floor(i / 2) % ports.length]!;
  return parseTarget(`127.0.0.1:${port}`, smtp ? { protocol: 'smtp', mode: 'starttls' } : {});
}

const bigChannel: ChannelRef = { platform: 'console', channelId: 'console' };
const storeUrl = (dir: string): string => `sqlite://${join(dir, 'certwatch.sqlite')}`;

/** Child: seeds n targets, SEED_BATCH at a time (they share commits and index rewrites). */
async function seedChild(dir: string, n: number, servers: BenchServers): Promise<{ seedMs: number }> {
  const started = performance.now();
  const seed = await openStore({ storeUrl: storeUrl(dir), replicaId: 'bench', defaults: { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false }, onInvalid: () => {} });
  for (let start = 0; start < n; start += SEED_BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(n, start + SEED_BATCH); i++) {
      const channel: ChannelRef = i < BIG_CHANNEL ? bigChannel : { platform: 'slack', channelId: `C${Math.floor(i / 50)}` };
      batch.push(seed.repo.addTarget({ id: `b${String(i).padStart(7, '0')}`, target: benchTarget(servers, i), caPem: servers.rootPem, channel, addedBy: { id: 'bench' }, addedAt: new Date().toISOString() }));
    }
    await Promise.all(batch);
  }
  await seed.close();
  return { seedMs: Math.round(performance.now() - started) };
}

interface RunRow {
  runMs: number;
  checked: number;
  failed: number;
  errors: number;
  listMs: number;
  listLines: number;
  peakRssMb: number;
  sampledPeakMb: number;
  /** Peak V8 heap committed (heapTotal); the rest of RSS is native (OpenSSL, SQLite, code). */
  heapPeakMb: number;
  /** Probes/s in each tenth of the run. */
  tenths: number[];
}

/** Child: starts the bot on the seeded store, one scheduled run, then `list`. */
async function runChild(dir: string, concurrency: number): Promise<RunRow> {
  let sampled = 0;
  let heapPeak = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    sampled = Math.max(sampled, m.rss);
    heapPeak = Math.max(heapPeak, m.heapTotal);
  }, 50);
  sampler.unref();
  const config = parseConfig({ STORE_URL: storeUrl(dir), ALLOW_PRIVATE_TARGETS: 'true', CHECK_CONCURRENCY: String(concurrency), CHECK_JITTER_MS: '0', PROBE_TIMEOUT_MS: '20000', CONSOLE: 'off', LOG_LEVEL: 'silent' });
  const bot = await startBot(config, { trust: TrustStore.fromPem([]), console: false, schedule: false, log: createLogger({ level: 'silent' }) });
  try {
    // Rate per tenth of the run: flat tenths mean the cost per target does not grow with the
    // number of targets already checked (within one run, free of between-run machine noise).
    const total = (await bot.store.repo.targetIds()).length;
    const tenths: number[] = [];
    let done = 0;
    let mark = performance.now();
    const check = bot.monitor.checkStored.bind(bot.monitor);
    bot.monitor.checkStored = async (record) => {
      const latest = await check(record);
      if (++done % Math.max(1, Math.floor(total / 10)) === 0 && tenths.length < 10) {
        const now = performance.now();
        tenths.push(Math.round((Math.floor(total / 10) / (now - mark)) * 1000));
        mark = now;
      }
      return latest;
    };
    const report = await bot.scheduler.tick('scheduled');
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc !== undefined) {
      // With --expose-gc: what the run left behind (live heap), as opposed to garbage not yet collected.
      gc();
      console.log(`live heap after the run: ${Math.round(process.memoryUsage().heapUsed / MB)} MB`);
    }
    const listStart = performance.now();
    const replies: Reply[] = [];
    await bot.dispatcher({ channel: bigChannel, user: { id: 'bench' }, name: 'list', text: '' }, async (r) => void replies.push(r));
    const listMs = Math.round(performance.now() - listStart);
    // Targets whose recorded result is an error (or that have none), paged like the run.
    const repo = bot.store.repo;
    const ids = await repo.targetIds();
    let errors = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const page = ids.slice(i, i + 500);
      const latest = await repo.getLatestMany(page);
      for (const id of page) if (latest.get(id)?.status !== 'ok') errors++;
    }
    return {
      runMs: report.durationMs,
      checked: report.checked,
      failed: report.failed,
      errors,
      listMs,
      listLines: replies.reduce((k, r) => k + (r.items?.length ?? 0), 0),
      peakRssMb: Math.round((process.resourceUsage().maxRSS * 1024) / MB),
      sampledPeakMb: Math.round(sampled / MB),
      heapPeakMb: Math.round(heapPeak / MB),
      tenths,
    };
  } finally {
    await bot.stop();
  }
}

/** Runs this file in a child process in one of its child modes and returns what it sends. */
async function inChild<T>(mode: string, argv: string[], servers: BenchServers): Promise<T> {
  const child = fork(self, [mode, ...argv], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_SERVERS: JSON.stringify(servers) } });
  const [message] = (await once(child, 'message')) as [T];
  await once(child, 'exit');
  return message;
}

/** `certwatch check --json -f` over n targets in a child; its peak RSS and what it printed. */
async function cliRun(dir: string, n: number, servers: BenchServers, concurrency: number): Promise<{ ms: number; peakRssMb: number; results: number; exit: number | null; bytes: number }> {
  const list = join(dir, 'targets.txt');
  const ca = join(dir, 'root.pem');
  const out = createWriteStream(list);
  for (let i = 0; i < n; i++) {
    // Distinct targets (distinct SNI names), so duplicate elimination keeps all n.
    const t = benchTarget(servers, i);
    if (!out.write(`${t.protocol === 'smtp' ? 'smtp' : 'https'}://t${i}.bench.test:${t.port}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  await writeFile(ca, servers.rootPem);
  const cli = new URL('../src/cli/main.ts', import.meta.url).pathname;
  const started = performance.now();
  const child = fork(cli, ['check', '--json', '-4', '--timeout', '20000', '--concurrency', String(concurrency), '--ca', ca, '-f', list], {
    // The bench's own V8 flags (npm run bench:scale passes --max-semi-space-size) apply to the CLI too.
    execArgv: [...process.execArgv, '--import', new URL('./cli-preload.ts', import.meta.url).href],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let results = 0;
  let bytes = 0;
  let tail = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    // Each array element starts on a line of its own: "[\n  {" or ",\n  {".
    const text = tail + chunk.toString('latin1');
    results += text.split('\n  {\n').length - 1;
    tail = text.slice(-4);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [exit] = (await once(child, 'exit')) as [number | null];
  const maxRss = Number(/maxrss (\d+)/.exec(stderr)?.[1] ?? 0);
  const other = stderr.replace(/maxrss \d+\n/, '').trim();
  if (other !== '') console.log(`cli stderr: ${other.slice(0, 500)}`);
  return { ms: Math.round(performance.now() - started), peakRssMb: Math.round((maxRss * 1024) / MB), results, exit, bytes };
}

async function parent(): Promise<void> {
  const args = process.argv.slice(2);
  const ci = args.indexOf('--concurrency');
  const concurrency = ci >= 0 ? Number(args[ci + 1]) : 100;
  const sizes = args.filter((a, i) => /^\d+$/.test(a) && (ci < 0 || i !== ci + 1)).map(Number);
  if (sizes.length === 0) sizes.push(1000, 10000);
  if (sizes.length === 1 && sizes[0]! >= 10000) sizes.unshift(sizes[0]! / 10);
  const withCli = args.includes('--cli');

  const child = fork(new URL('./servers.ts', import.meta.url).pathname, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const servers = await new Promise<BenchServers>((resolve) => child.once('message', (m) => resolve(m as BenchServers)));
  const rows: (RunRow & { n: number; seedMs: number })[] = [];
  try {
    for (const n of sizes) {
      const dir = await mkdtemp(join(tmpdir(), 'certwatch-scale-'));
      try {
        const { seedMs } = await inChild<{ seedMs: number }>('--child-seed', [dir, String(n)], servers);
        const run = await inChild<RunRow>('--child-run', [dir, String(concurrency)], servers);
        const row = { n, seedMs, ...run };
        rows.push(row);
        console.log(
          `${String(n).padStart(6)} targets: run ${(row.runMs / 1000).toFixed(1)} s, ${Math.round((row.checked / row.runMs) * 1000)} probes/s, ` +
            `${row.failed} threw, ${row.errors} not ok, list(${BIG_CHANNEL}-target channel) ${row.listMs} ms (${row.listLines} lines), ` +
            `peak RSS ${row.peakRssMb} MB (sampled ${row.sampledPeakMb} MB, V8 heap ${row.heapPeakMb} MB), seeding ${(row.seedMs / 1000).toFixed(1)} s`,
        );
        console.log(`        probes/s per tenth of the run: ${row.tenths.join(' ')}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    if (withCli) {
      const n = Math.max(...sizes);
      const dir = await mkdtemp(join(tmpdir(), 'certwatch-scale-cli-'));
      try {
        const cli = await cliRun(dir, n, servers, concurrency);
        console.log(
          `check --json -f (${n} targets, concurrency ${concurrency}): ${(cli.ms / 1000).toFixed(1)} s, ${cli.results} results, ` +
            `exit ${cli.exit}, ${Math.round(cli.bytes / MB)} MB of JSON, peak RSS ${cli.peakRssMb} MB (target <= 300 MB)`,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    child.disconnect();
    child.kill();
  }
  const large = rows.at(-1)!;
  const reference = rows.find((r) => r.n * 10 === large.n);
  const perTarget = (r: { runMs: number; n: number }): number => r.runMs / r.n;
  const growth = reference === undefined ? null : Number((perTarget(large) / perTarget(reference)).toFixed(2));
  if (reference !== undefined) {
    console.log(`growth ${reference.n} -> ${large.n}: run time x${(large.runMs / reference.runMs).toFixed(2)} for x10 targets (per target x${growth}; linear = 1.0)`);
  }
  console.log(`targets: run <= 900 s: ${large.runMs / 1000 <= 900 ? 'met' : 'MISSED'}; peak RSS <= 300 MB: ${large.peakRssMb <= 300 ? 'met' : 'MISSED'}`);
  console.log(`concurrency ${concurrency}; every target carries its own CA PEM (trust cache exercised); store: SQLite WAL, synchronous=FULL`);
  console.log(
    JSON.stringify({
      targets: large.n,
      runSeconds: Number((large.runMs / 1000).toFixed(1)),
      probesPerSecond: Math.round((large.checked / large.runMs) * 1000),
      peakRssMb: large.peakRssMb,
      failed: large.failed + large.errors,
      growth,
    }),
  );
}

const [mode, a, b] = process.argv.slice(2);
if (mode === '--child-seed' || mode === '--child-run') {
  const servers = JSON.parse(process.env.BENCH_SERVERS ?? '{}') as BenchServers;
  const result = mode === '--child-seed' ? await seedChild(a!, Number(b), servers) : await runChild(a!, Number(b));
  process.send?.(result, () => process.exit(0));
} else {
  await parent();
}
