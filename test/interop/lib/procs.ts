// Background server processes of one interop run: started with their own log file, stopped by
// the pid we got from spawn (never by name), and checked for leftovers at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** One daemon the suite started. */
export interface Started {
  name: string;
  pid: number;
  log: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** How to start a daemon in the foreground. */
export interface SpawnSpec {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  cwd?: string;
}

export class Processes {
  readonly started: Started[] = [];
  /** Every port handed to a daemon of this run; all must be closed at the end. */
  readonly ports: number[] = [];

  private readonly logDir: string;

  constructor(logDir: string) {
    this.logDir = logDir;
  }

  /** A free port on 127.0.0.1 for a daemon of this run. */
  async port(): Promise<number> {
    // The kernel may hand a just-released port to the next bind(0): never give one out twice.
    for (;;) {
      const p = await freePort();
      if (this.ports.includes(p)) continue;
      this.ports.push(p);
      return p;
    }
  }

  /** Starts a daemon in its own process group with stdout and stderr in `<logDir>/<name>.out`. */
  spawn(spec: SpawnSpec): Started {
    const log = join(this.logDir, `${spec.name}.out`);
    const fd = openSync(log, 'a');
    const child = spawn(spec.cmd, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...spec.env },
      uid: spec.uid,
      gid: spec.gid,
      cwd: spec.cwd,
    });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`${spec.name}: spawn ${spec.cmd} failed`);
    const exited = new Promise<number | null>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)));
      child.on('error', () => resolve(-1));
    });
    const started: Started = { name: spec.name, pid: child.pid, log, child, exited };
    this.started.push(started);
    return started;
  }

  /**
   * Stops every started daemon: SIGTERM to its pid (daemons then stop their own workers), and
   * after a grace period SIGKILL to its process group (the pgid is the pid: spawned detached).
   */
  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all(
      this.started.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        signal(p.pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
        const timedOut = await Promise.race([p.exited.then(() => false), grace]);
        clearTimeout(timer);
        if (timedOut) {
          signal(-p.pid, 'SIGKILL');
          await p.exited;
        }
      }),
    );
    // Workers a master left behind in its group (it should have stopped them itself).
    for (const p of this.started) signal(-p.pid, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A free TCP port on 127.0.0.1 (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Waits until every port accepts connections. External daemons announce readiness by no event
 * we can subscribe to, so this polls; it fails at once if the daemon exits first.
 */
export async function waitForPorts(p: Started, ports: number[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  void p.exited.then(() => (died = true));
  for (const port of ports) {
    for (;;) {
      if (await accepts(port)) break;
      if (died) throw new Error(`${p.name} exited before listening on ${port}\n${tail(p.log)}`);
      if (Date.now() > deadline) throw new Error(`${p.name} not listening on ${port} after ${timeoutMs} ms\n${tail(p.log)}`);
      await delay(100);
    }
  }
}

/** Last lines of a log file, for failure messages. */
export function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${path})`;
  }
}
