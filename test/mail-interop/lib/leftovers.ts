// After the stop: no daemon of the run alive, no process working from the run directory, no
// port of the run open, no standard port newly open. (The same rules as test/interop/suite.ts.)
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { wellKnown } from '../../../src/probe/protocols/index.ts';
import { accepts, type Processes } from '../../interop/lib/procs.ts';
import { run } from '../../interop/lib/run.ts';

/** Standard ports of the servers this suite adds: DNS, DNS over TLS, unbound-control. */
const dnsPorts = [53, 853, 8953];

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

/** What is left of the run; empty when the stop was clean. */
export async function leftovers(dir: string, procs: Processes, listeningBefore: Set<string>): Promise<string[]> {
  const found: string[] = [];
  for (const p of procs.started) if (alive(p.pid)) found.push(`${p.name} pid ${p.pid} still running`);
  const mine = ancestors();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
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
  for (const port of procs.ports) if (await accepts(port)) found.push(`port ${port} still accepts connections`);
  for (const port of [...wellKnown.map((w) => w.port), ...dnsPorts]) {
    if (!listeningBefore.has(`127.0.0.1:${port}`) && (await accepts(port))) found.push(`standard port ${port} is open`);
  }
  return [...new Set(found)];
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
