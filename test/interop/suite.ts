// Interop driver: starts every real server (in parallel), checks each endpoint with certwatch
// and with openssl s_client, asserts, stops exactly what it started and proves nothing is left.
//   node test/interop/suite.ts --dir <run dir with certs/> [--only nginx,postfix] [--keep]
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { wellKnown } from '../../src/probe/protocols/index.ts';
import { judgeEndpoint } from './lib/assert.ts';
import { checkAll, targetOf, type CheckResult } from './lib/certwatch.ts';
import { lowSeclevelConf, lowSeclevelConfText, type Ctx, type Endpoint } from './lib/context.ts';
import { sClient, type Witness } from './lib/openssl.ts';
import { accepts, delay, Processes, tail } from './lib/procs.ts';
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
  // The daemons run in their own process groups, so a Ctrl-C or a CI timeout would not reach
  // them: stop them here before exiting.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.log(`interop: ${sig}, stopping ${ctx.procs.started.length} daemons`);
      void ctx.procs.stopAll(3000).finally(() => process.exit(130));
    });
  }

  let passed = 0;
  let failed = 0;
  const fail = (what: string, why: string): void => {
    failed++;
    console.log(`FAIL ${what}\n     ${why.replaceAll('\n', '\n     ')}`);
  };
  try {
    const t0 = Date.now();
    const starts = await Promise.allSettled(selected.map((s) => s.start(ctx)));
    const endpoints: Endpoint[] = [];
    starts.forEach((r, i) => {
      const name = selected[i]?.name ?? '?';
      if (r.status === 'fulfilled') {
        endpoints.push(...r.value);
        passed++;
        console.log(`ok   ${name}: started, ${r.value.length} endpoints`);
      } else fail(`${name}: could not be started`, r.reason instanceof Error ? r.reason.message : String(r.reason));
    });
    console.log(`servers up in ${Date.now() - t0} ms; checking ${endpoints.length} endpoints`);

    const witnesses = await mapLimit(endpoints, 4, (e) => sClient(e, SERVERNAME).catch((err: unknown) => toError(err)));
    const results = endpoints.length === 0 ? new Map<number, CheckResult>() : await checkAll(repo, join(ctx.certs, 'root.pem'), SERVERNAME, endpoints);
    endpoints.forEach((e, i) => {
      const label = `${e.server} ${targetOf(e)} ${e.expectError ? 'no TLS' : e.scenario}${e.chainLength ? ` (${e.chainLength.why})` : ''}`;
      const failures = judgeEndpoint(ctx, e, results.get(e.port), witnesses[i] ?? new Error('no witness'));
      if (failures.length === 0) {
        passed++;
        const r = results.get(e.port);
        console.log(`ok   ${label} → ${r?.status} [${r?.problems.map((p) => p.code).join(', ')}]${r?.error ? ` error ${r.error.code}` : ''}`);
      } else fail(label, failures.join('\n'));
    });
  } finally {
    if (values.keep) console.log(`--keep: servers left running, pids ${ctx.procs.started.map((p) => p.pid).join(' ')}`);
    else {
      await ctx.procs.stopAll();
      const leftovers = await settledLeftovers(ctx, listeningBefore);
      if (leftovers.length === 0) {
        passed++;
        console.log(`ok   cleanup: ${ctx.procs.started.length} daemons stopped, no process or port left`);
      } else fail('cleanup', leftovers.join('\n'));
    }
  }
  if (failed > 0) {
    console.log('\nlogs of the run:');
    for (const f of readdirSync(ctx.logs)) console.log(`--- ${f}\n${tail(join(ctx.logs, f), 15)}`);
  }
  console.log(`\ninterop: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

/**
 * Leftovers that are still there after up to 3 s: a worker in a stopped master's group (e.g.
 * Dovecot's `log` process) gets the group SIGKILL an instant before the check and, on a busy
 * machine, can still be seen running for a few milliseconds. A real leftover stays.
 */
async function settledLeftovers(ctx: Ctx, listeningBefore: Set<string>): Promise<string[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const found = await leftoversOf(ctx, listeningBefore);
    if (found.length === 0 || Date.now() >= deadline) return found;
    await delay(200);
  }
}

/** Processes still running out of the run directory, and ports still open, after the stop. */
async function leftoversOf(ctx: Ctx, listeningBefore: Set<string>): Promise<string[]> {
  // Only the suite's own ports are checked: other software on a developer's machine may open
  // and close ports meanwhile.
  const found: string[] = [];
  for (const p of ctx.procs.started) if (alive(p.pid)) found.push(`${p.name} pid ${p.pid} still running`);
  const mine = ancestors();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    // A zombie has exited; only its parent's wait is missing (PID 1 here may not reap orphans).
    if (mine.has(Number(pid)) || !alive(Number(pid))) continue;
    const cmdline = readOr(`/proc/${pid}/cmdline`).replaceAll('\0', ' ');
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // gone or not ours to see
    }
    if (cmdline.includes(ctx.dir) || cwd.startsWith(ctx.dir)) found.push(`pid ${pid} still running: ${cmdline.trim()}`);
  }
  for (const port of ctx.procs.ports) if (await accepts(port)) found.push(`port ${port} still accepts connections`);
  // The standard ports of every protocol certwatch knows must be free of our daemons.
  for (const row of wellKnown) if (!listeningBefore.has(`127.0.0.1:${row.port}`) && (await accepts(row.port))) found.push(`port ${row.port} (${row.protocol}) is open`);
  return [...new Set(found)];
}

async function listeningPorts(): Promise<Set<string>> {
  const r = await run('ss', ['-Hltn'], 10_000);
  const set = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    if (local) set.add(local.replace(/^0\.0\.0\.0:|^\*:|^\[::\]:/, '127.0.0.1:'));
  }
  return set;
}

/** This process and the ones that started it (npm, node, run.sh): they name the run dir too. */
function ancestors(): Set<number> {
  const set = new Set<number>();
  for (let pid = process.pid; pid > 1 && !set.has(pid); ) {
    set.add(pid);
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ")".
    const stat = readOr(`/proc/${pid}/stat`);
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return set;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readOr(`/proc/${pid}/stat`).includes(') Z');
  } catch {
    return false;
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
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
