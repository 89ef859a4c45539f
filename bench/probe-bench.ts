// `npm run bench`: certwatch's probe against raw tls.connect, blackbox_exporter (when
// installed) and an openssl s_client loop on loopback (issues 2 and 9). Servers run in a
// child process so that only client CPU is measured here; blackbox_exporter's CPU is read
// from its own process. Prints PASS/FAIL per target; exits non-zero only with --strict.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TrustStore } from '../src/cert/trust.ts';
import { checkTargets } from '../src/cli/check.ts';
import { Prober } from '../src/probe/probe.ts';
import { parseTarget, type Target } from '../src/probe/target.ts';
import { mapLimit } from '../src/util/concurrency.ts';
import { blackboxBatch, startBlackbox, type Blackbox, type BlackboxModule } from './blackbox.ts';
import { profileJudge } from './judge-profile.ts';
import type { MemoryJob, MemoryReport } from './memory-run.ts';
import { rawImplicit, rawSmtp } from './raw-client.ts';
import type { BenchServers } from './servers.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    strict: { type: 'boolean' },
    probes: { type: 'string' },
    concurrency: { type: 'string' },
    rounds: { type: 'string' },
    'memory-probes': { type: 'string' },
  },
});
const quick = flags.quick === true;
const settings = {
  probes: Number(flags.probes ?? (quick ? 300 : 1000)),
  concurrency: Number(flags.concurrency ?? 50),
  rounds: Number(flags.rounds ?? (quick ? 1 : 7)),
  opensslIterations: quick ? 10 : 20,
  memoryProbes: Number(flags['memory-probes'] ?? (quick ? 2000 : 10_000)),
  memoryConcurrency: 200,
};
const targets = { throughput: 0.9, cpu: 1.1, blackboxCpu: 1.0, openssl: 30, rssBytes: 200 * 1024 * 1024 };

/** One measured batch. */
interface Sample {
  probesPerSec: number;
  cpuMsPerProbe: number;
  failed: number;
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function startChild(file: string, execArgv: string[] = []): ChildProcess {
  return fork(here(file), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function firstMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`${child.spawnfile} exited (${code}) before answering`)));
  });
}

/** This process's user+system CPU time in milliseconds. */
const ownCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Runs `batch` of n probes at the given concurrency; CPU is read with `cpuMs` (this process by default). */
async function measure(n: number, concurrency: number, batch: (n: number, c: number) => Promise<number>, cpuMs = ownCpuMs): Promise<Sample> {
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const failed = await batch(n, concurrency);
  const seconds = (performance.now() - t0) / 1000;
  return { probesPerSec: n / seconds, cpuMsPerProbe: (cpuMs() - cpu0) / n, failed };
}

function middle(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)] ?? Number.NaN;
}

function median(samples: readonly Sample[]): Sample {
  const pick = (f: (s: Sample) => number): number => middle(samples.map(f));
  return { probesPerSec: pick((s) => s.probesPerSec), cpuMsPerProbe: pick((s) => s.cpuMsPerProbe), failed: Math.max(...samples.map((s) => s.failed)) };
}

function opensslLoop(port: number, starttls: boolean, iterations: number): number | null {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...(starttls ? ['-starttls', 'smtp'] : [])];
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) return null;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    // stdin is /dev/null: s_client completes the handshake, sees EOF and exits.
    const r = spawnSync('openssl', args, { stdio: 'ignore', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`openssl s_client failed (status ${r.status})`);
  }
  return iterations / ((performance.now() - t0) / 1000);
}

const verdicts: boolean[] = [];
function verdict(label: string, ok: boolean, detail: string): void {
  verdicts.push(ok);
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${label.padEnd(44)} ${detail}`);
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);
const mib = (bytes: number): string => `${fmt(bytes / 1024 / 1024, 1)} MiB`;

async function main(): Promise<void> {
  const serversChild = startChild('./servers.ts');
  let blackbox: Blackbox | null = null;
  try {
    const servers = await firstMessage<BenchServers>(serversChild);
    const trust = TrustStore.bundled().withExtra(servers.rootPem, 'bench root');
    const prober = new Prober({ trust });
    const rawContext = createSecureContext();
    const probeOpts = { prober, timeoutMs: 10_000, warnDays: 30, critDays: 7 };

    const kinds: { name: string; port: number; target: Target; raw: () => Promise<string>; module: BlackboxModule }[] = [
      {
        name: 'implicit TLS',
        port: servers.implicitPort,
        target: parseTarget(`127.0.0.1:${servers.implicitPort}`, { servername: 'localhost' }),
        raw: () => rawImplicit(servers.implicitPort, 'localhost', rawContext),
        module: 'tls_connect',
      },
      {
        name: 'SMTP STARTTLS',
        port: servers.smtpPort,
        target: parseTarget(`127.0.0.1:${servers.smtpPort}`, { protocol: 'smtp', mode: 'starttls', servername: 'localhost' }),
        raw: () => rawSmtp(servers.smtpPort, 'localhost', rawContext),
        module: 'smtp_starttls',
      },
    ];

    const started = await startBlackbox(servers.rootPem);
    blackbox = typeof started === 'string' ? null : started;
    console.log(`certwatch probe benchmark: ${settings.probes} probes per side and round, concurrency ${settings.concurrency}, ${settings.rounds} round(s), median reported`);
    console.log(`node ${process.version} (OpenSSL ${process.versions.openssl}), loopback, servers in a separate process`);
    console.log(blackbox === null ? `blackbox_exporter: skipped, ${started as string}\n` : `blackbox_exporter ${blackbox.version}: CPU read from its own process (/proc)\n`);

    for (const kind of kinds) {
      const certwatch = (n: number, c: number): Promise<number> =>
        checkTargets(Array.from({ length: n }, () => kind.target), { ...probeOpts, concurrency: c }).then((rs) => rs.filter((r) => r.status !== 'ok').length);
      const raw = (n: number, c: number): Promise<number> =>
        mapLimit(Array.from({ length: n }), c, () => kind.raw().then(() => 0, () => 1)).then((fails) => fails.reduce((a, b) => a + b, 0));
      const sides: { name: string; run: (n: number, c: number) => Promise<number>; cpu?: () => number; samples: Sample[] }[] = [
        { name: 'raw tls.connect', run: raw, samples: [] },
        { name: 'certwatch Prober', run: certwatch, samples: [] },
      ];
      if (blackbox !== null) {
        const bb = blackbox;
        sides.push({ name: 'blackbox_exporter', run: (n, c) => blackboxBatch(bb, kind.module, kind.port, n, c), cpu: () => bb.cpuMs(), samples: [] });
      }

      // Warm every side (JIT, the lazily parsed root store, the server's session state).
      for (const side of sides) await measure(Math.min(200, settings.probes), settings.concurrency, side.run, side.cpu);
      const osslRates: number[] = [];
      for (let round = 0; round < settings.rounds; round++) {
        // Rotate which side goes first, so drift in machine load hits all alike; the openssl
        // loop runs in every round too, next to the sides it is compared with.
        for (let i = 0; i < sides.length; i++) {
          const side = sides[(i + round) % sides.length]!;
          side.samples.push(await measure(settings.probes, settings.concurrency, side.run, side.cpu));
        }
        const rate = opensslLoop(kind.port, kind.name.startsWith('SMTP'), settings.opensslIterations);
        if (rate !== null) osslRates.push(rate);
      }
      const [r, c, b] = sides.map((side) => median(side.samples)) as [Sample, Sample, Sample | undefined];
      const ossl = osslRates.length === 0 ? null : (osslRates.sort((x, y) => x - y)[Math.floor(osslRates.length / 2)] as number);

      console.log(`${kind.name} (table: medians per side; verdicts: median of the ${settings.rounds} per-round ratios)`);
      console.log(`  ${'side'.padEnd(30)} ${'probes/s'.padStart(10)} ${'CPU ms/probe'.padStart(13)} ${'failed'.padStart(7)}`);
      for (const [side, m] of [['raw tls.connect', r], ['certwatch Prober', c], ['blackbox_exporter', b]] as const) {
        if (m !== undefined) console.log(`  ${side.padEnd(30)} ${fmt(m.probesPerSec, 0).padStart(10)} ${fmt(m.cpuMsPerProbe, 3).padStart(13)} ${String(m.failed).padStart(7)}`);
      }
      if (ossl !== null) console.log(`  ${`openssl s_client (x${settings.opensslIterations}/round)`.padEnd(30)} ${fmt(ossl, 1).padStart(10)}`);
      // Ratios are paired: each round's certwatch batch against the same round's raw batch,
      // run next to it, then the median over rounds. The load of a shared machine drifts over
      // minutes (the same side's CPU per probe moved by 20% between runs here); pairing
      // cancels the drift that a ratio of two medians taken across the whole run keeps.
      const paired = (f: (cw: Sample, other: Sample) => number, other: Sample[]): number => middle(sides[1]!.samples.map((cw, i) => f(cw, other[i]!)));
      const tRatio = paired((cw, o) => cw.probesPerSec / o.probesPerSec, sides[0]!.samples);
      const cRatio = paired((cw, o) => cw.cpuMsPerProbe / o.cpuMsPerProbe, sides[0]!.samples);
      const bRatio = b === undefined ? Number.NaN : paired((cw, o) => cw.cpuMsPerProbe / o.cpuMsPerProbe, sides[2]!.samples);
      verdict('throughput vs raw tls.connect', tRatio >= targets.throughput, `${fmt(tRatio)}x (target >= ${targets.throughput}x)`);
      verdict('CPU per probe vs raw tls.connect', cRatio <= targets.cpu, `${fmt(cRatio)}x (target <= ${targets.cpu}x)`);
      if (b === undefined) console.log('  SKIP  CPU per probe vs blackbox_exporter         blackbox_exporter not installed');
      else verdict('CPU per probe vs blackbox_exporter', bRatio <= targets.blackboxCpu, `${fmt(bRatio)}x (target <= ${fmt(targets.blackboxCpu, 1)}x)`);
      if (ossl === null) console.log('  SKIP  openssl s_client loop                     openssl not found on PATH');
      else verdict('throughput vs openssl s_client loop', c.probesPerSec / ossl >= targets.openssl, `${fmt(c.probesPerSec / ossl, 1)}x (target >= ${targets.openssl}x)`);
      verdict('every probe succeeded', c.failed === 0 && r.failed === 0 && (b?.failed ?? 0) === 0, `certwatch ${c.failed} failed, raw ${r.failed} failed${b === undefined ? '' : `, blackbox ${b.failed} failed`}`);
      console.log('');
    }
    blackbox?.stop();
    blackbox = null;

    const judged = await profileJudge(servers.implicitPort, trust, quick ? 500 : 2000);
    console.log(`where certwatch's extra CPU goes (implicit TLS leaf + intermediate):`);
    console.log(`  judge(): ${fmt(judged.judgeMs, 3)} ms CPU per call (chain of ${judged.chainLength}; path building, signature checks, certificate info)`);
    console.log(`  JSON.stringify of one result: ${fmt(judged.jsonMs, 3)} ms`);
    console.log(`  reading the sent chain, getPeerCertificate(true): ${fmt(judged.chainReadMs, 3)} ms (the raw side reads only the leaf: ${fmt(judged.leafReadMs, 3)} ms)`);
    console.log('  (getPeerX509Certificate() would be cheaper and keep the wire order, but leaks ~5 KB per handshake up to Node 24: bench/peer-cert-leak.ts)\n');

    const memoryRun = async (keepResults: boolean): Promise<MemoryReport> => {
      // With the V8 flag certwatch runs with (bin/certwatch.js, npm start, the Docker image).
      const child = startChild('./memory-run.ts', ['--optimize-for-size']);
      const job: MemoryJob = { port: servers.implicitPort, rootPem: servers.rootPem, probes: settings.memoryProbes, concurrency: settings.memoryConcurrency, keepResults };
      child.send(job);
      return firstMessage<MemoryReport>(child);
    };
    const kept = await memoryRun(true);
    const bare = await memoryRun(false);
    console.log(`memory: ${kept.probes} probes at concurrency ${settings.memoryConcurrency}, each run in a fresh process`);
    console.log(`  RSS before the run (node, parsed roots): ${mib(kept.baselineRssBytes)}`);
    console.log(`  results kept (as check -f does): peak ${mib(kept.maxRssBytes)}, ${fmt(kept.probes / (kept.elapsedMs / 1000), 0)} probes/s, ${kept.failed} failed`);
    console.log(`  results dropped (probe engine alone): peak ${mib(bare.maxRssBytes)}, ${fmt(bare.probes / (bare.elapsedMs / 1000), 0)} probes/s, ${bare.failed} failed`);
    verdict(`peak RSS of ${kept.probes} probes, results kept`, kept.maxRssBytes < targets.rssBytes && kept.failed === 0, `${mib(kept.maxRssBytes)} (target < ${mib(targets.rssBytes)})`);
    if (kept.probes < 10_000) console.log('  note: fewer than 10,000 probes (--quick); run without --quick for the real target');
  } finally {
    blackbox?.stop();
    serversChild.disconnect();
  }
  const failed = verdicts.filter((v) => !v).length;
  console.log(`\n${verdicts.length - failed}/${verdicts.length} targets met${failed > 0 ? '' : ''}.`);
  if (flags.strict === true && failed > 0) process.exitCode = 1;
}

await main();
