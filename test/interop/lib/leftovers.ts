// After the stop: no daemon of the run alive, no process working from the run directory, no
// port of the run open, no standard port newly open. Shared by the interop and mail suites.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { wellKnown } from '../../../src/probe/protocols/index.ts';
import { accepts, type Processes } from './procs.ts';
import { run } from './run.ts';

/** `127.0.0.1:<port>` of every TCP socket listening now (wildcards as 127.0.0.1). */
export async function listeningPorts(): Promise<Set<string>> {
  const r = await run('ss', ['-Hltn'], 10_000);
  const set = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    if (local) set.add(local.replace(/^0\.0\.0\.0:|^\*:|^\[::\]:/, '127.0.0.1:'));
  }
  return set;
}

/**
 * What is left of the run; empty when the stop was clean. Only the suite's own ports and the
 * standard ports (every protocol certwatch knows, plus `extraPorts`) are checked: other
 * software on a developer's machine may open and close ports meanwhile.
 */
export async function leftovers(dir: string, procs: Processes, listeningBefore: Set<string>, extraPorts: readonly number[] = []): Promise<string[]> {
  // A daemon's helpers (Dovecot's log process, say) exit a moment after its master: give
  // them up to 3 s before calling them left over.
  for (let i = 0; i < 15 && runDirProcesses(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
  const found: string[] = [];
  for (const p of procs.started) if (alive(p.pid)) found.push(`${p.name} pid ${p.pid} still running`);
  found.push(...runDirProcesses(dir));
  for (const port of procs.ports) if (await accepts(port)) found.push(`port ${port} still accepts connections`);
  const standard = [...wellKnown.map((w) => ({ port: w.port, what: w.protocol })), ...extraPorts.map((port) => ({ port, what: 'extra' }))];
  for (const { port, what } of standard) {
    if (!listeningBefore.has(`127.0.0.1:${port}`) && (await accepts(port))) found.push(`port ${port} (${what}) is open`);
  }
  return [...new Set(found)];
}

/** Processes (other than this one and its parents) that name the run directory or work in it. */
function runDirProcesses(dir: string): string[] {
  const found: string[] = [];
  const mine = ancestors();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    // A zombie has exited; only its parent's wait is missing (PID 1 here may not reap orphans).
    if (mine.has(Number(pid)) || !alive(Number(pid))) continue;
    const cmdline = readOr(`/proc/${pid}/cmdline`).replaceAll('\0', ' ');
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // gone, or not ours to see
    }
    if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(`pid ${pid} still running: ${cmdline.trim()}`);
  }
  return found;
}

/** This process and the ones that started it (npm, run.sh): they name the run directory too. */
function ancestors(): Set<number> {
  const set = new Set<number>();
  for (let pid = process.pid; pid > 1 && !set.has(pid); ) {
    set.add(pid);
    const stat = readOr(`/proc/${pid}/stat`);
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return set;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie has exited; only its parent's wait is missing.
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
