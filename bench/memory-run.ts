// One large certwatch run in a fresh process, so its peak RSS is that run's alone:
// receives {port, rootPem, probes, concurrency} over IPC, replies with the measurements.
import { TrustStore } from '../src/cert/trust.ts';
import { checkTargets } from '../src/cli/check.ts';
import { mapLimit } from '../src/util/concurrency.ts';
import { Prober } from '../src/probe/probe.ts';
import { parseTarget } from '../src/probe/target.ts';

/** The job the parent sends. */
export interface MemoryJob {
  port: number;
  rootPem: string;
  probes: number;
  concurrency: number;
  /** Keep every result until the end, as `check -f` does; false measures the probe alone. */
  keepResults: boolean;
}

/** What this process reports back. */
export interface MemoryReport {
  probes: number;
  failed: number;
  elapsedMs: number;
  /** Peak resident set size of this whole process (getrusage), in bytes. */
  maxRssBytes: number;
  /** RSS right before the run, after loading modules and parsing the bundled roots. */
  baselineRssBytes: number;
}

process.once('message', (job: MemoryJob) => {
  void run(job).then((report) => process.send?.(report, () => process.exit(0)));
});

async function run(job: MemoryJob): Promise<MemoryReport> {
  const trust = TrustStore.bundled().withExtra(job.rootPem, 'bench root');
  const prober = new Prober({ trust });
  const target = parseTarget(`127.0.0.1:${job.port}`, { servername: 'localhost' });
  void trust.size; // parse the bundled roots now, so the baseline includes them
  const baselineRssBytes = process.memoryUsage.rss();
  const started = performance.now();
  const options = { timeoutMs: 30_000, warnDays: 30, critDays: 7 };
  const targets = Array.from({ length: job.probes }, () => target);
  let failed = 0;
  let probes = 0;
  if (job.keepResults) {
    const results = await checkTargets(targets, { prober, concurrency: job.concurrency, ...options });
    probes = results.length;
    failed = results.filter((r) => r.status !== 'ok').length;
  } else {
    await mapLimit(targets, job.concurrency, async (t) => {
      for (const r of await prober.probe(t, options)) {
        probes++;
        if (r.status !== 'ok') failed++;
      }
    });
  }
  return {
    probes,
    failed,
    elapsedMs: performance.now() - started,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    baselineRssBytes,
  };
}
