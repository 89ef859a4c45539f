// Interop driver: starts every real server (in parallel), checks each endpoint with certwatch
// and with openssl s_client, asserts, stops exactly what it started and proves nothing is left.
//   node test/interop/suite.ts --dir <run dir with certs/> [--only nginx,postfix] [--keep]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { judgeEndpoint } from './lib/assert.ts';
import { checkAll, targetOf, type CheckResult } from './lib/certwatch.ts';
import { lowSeclevelConf, lowSeclevelConfText, type Ctx, type Endpoint } from './lib/context.ts';
import { sClient, type Witness } from './lib/openssl.ts';
import { listeningPorts } from './lib/leftovers.ts';
import { Processes } from './lib/procs.ts';
import { SuiteReport } from './lib/report.ts';
import { run } from './lib/run.ts';
import { servers } from './servers/index.ts';

const SERVERNAME = 'localhost';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, only: { type: 'string' }, keep: { type: 'boolean' } } });
  if (!values.dir) throw new Error('--dir is required');
  const dir = resolve(values.dir);
  const repo = resolve(import.meta.dirname, '../..');
  const ctx: Ctx = { dir, logs: join(dir, 'logs'), certs: join(dir, 'certs'), procs: new Processes(join(dir, 'logs')) };
  mkdirSync(ctx.logs, { recursive: true });
  writeFileSync(lowSeclevelConf(ctx), lowSeclevelConfText);
  const only = values.only?.split(',');
  const selected = servers.filter((s) => !only || only.includes(s.name));
  const listeningBefore = await listeningPorts();
  const report = new SuiteReport('interop');
  report.stopOnSignals(ctx);
  const fail = report.fail.bind(report);
  try {
    const t0 = Date.now();
    const starts = await Promise.allSettled(selected.map((s) => s.start(ctx)));
    const endpoints: Endpoint[] = [];
    starts.forEach((r, i) => {
      const name = selected[i]?.name ?? '?';
      if (r.status === 'fulfilled') {
        endpoints.push(...r.value);
        report.pass(`${name}: started, ${r.value.length} endpoints`);
      } else fail(`${name}: could not be started`, r.reason instanceof Error ? r.reason.message : String(r.reason));
    });
    console.log(`servers up in ${Date.now() - t0} ms; checking ${endpoints.length} endpoints`);

    const witnesses = await mapLimit(endpoints, 4, (e) => sClient(e, SERVERNAME).catch((err: unknown) => toError(err)));
    const results = endpoints.length === 0 ? new Map<number, CheckResult>() : await checkAll(repo, join(ctx.certs, 'root.pem'), SERVERNAME, endpoints);
    endpoints.forEach((e, i) => {
      const label = `${e.server} ${targetOf(e)} ${e.expectError ? 'no TLS' : e.scenario}${e.chainLength ? ` (${e.chainLength.why})` : ''}`;
      const failures = judgeEndpoint(ctx, e, results.get(e.port), witnesses[i] ?? new Error('no witness'));
      if (failures.length === 0) {
        const r = results.get(e.port);
        report.pass(`${label} → ${r?.status} [${r?.problems.map((p) => p.code).join(', ')}]${r?.error ? ` error ${r.error.code}` : ''}`);
      } else fail(label, failures.join('\n'));
    });
  } finally {
    await report.stopAll(ctx, values.keep === true, ctx.dir, listeningBefore);
  }
  return report.end(ctx);
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(e);
  return 1;
});
