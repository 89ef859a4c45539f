// A private redis-server or PostgreSQL server that a fault test can stop and start again on
// the same port and data directory (the shared servers of run.sh stay up for the other files).
// The binaries are the ones run.sh installs. As root each runs as its own system user through
// setpriv (PostgreSQL refuses root), like run.sh; setpriv execs, so the pid is the server's.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A server under the test's control. */
export interface PrivateServer {
  name: 'redis' | 'postgres';
  /** STORE_URL of the server's store. */
  url: string;
  /** Starts the server and waits until it accepts connections (at most 30 s). */
  start(): Promise<void>;
  /** Stops the server (Redis SIGTERM, PostgreSQL SIGINT: fast shutdown) and waits for its exit. */
  stop(): Promise<void>;
  /** Stops it if running and removes its directory. */
  dispose(): Promise<void>;
}

const run = promisify(execFile);

/** A port from port 0 (closed again; the server binds it a moment later). */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** uid/gid of a system user when running as root; undefined otherwise (the server runs as us). */
async function account(user: string): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(uid), gid: Number(gid) };
}

function spawnAs(who: { uid: number; gid: number } | undefined, argv: string[], log: string[]): ChildProcess {
  const [cmd, args] = who === undefined ? [argv[0]!, argv.slice(1)] : ['setpriv', ['--reuid', String(who.uid), '--regid', String(who.gid), '--clear-groups', '--', ...argv]];
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer): void => void log.push(b.toString());
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return proc;
}

function controlled(name: 'redis' | 'postgres', url: string, port: number, dir: string, stopSignal: NodeJS.Signals, ready: () => Promise<boolean>, launch: (log: string[]) => ChildProcess): PrivateServer {
  let proc: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, 'exit');
    p.kill(stopSignal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    name,
    url,
    async start() {
      const log: string[] = [];
      const p = launch(log);
      proc = p;
      const until = Date.now() + 30_000;
      while (!(await ready())) {
        if (p.exitCode !== null || Date.now() > until) {
          await stop();
          throw new Error(`${name} did not start on 127.0.0.1:${port}: ${log.join('').slice(-2000)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server with append-only persistence (a restart keeps the data, as in production). */
export async function privateRedis(): Promise<PrivateServer> {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-faults-redis-'));
  const who = await account('redis');
  if (who !== undefined) await chown(dir, who.uid, who.gid);
  const port = await freePort();
  const argv = ['redis-server', '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no', '--logfile', ''];
  return controlled('redis', `redis://127.0.0.1:${port}`, port, dir, 'SIGTERM', () => accepts(port), (log) => spawnAs(who, argv, log));
}

/** A PostgreSQL cluster of its own (initdb -A trust), socket and data in a temporary directory. */
export async function privatePostgres(): Promise<PrivateServer> {
  const bins = await readdir('/usr/lib/postgresql');
  const version = bins.sort((a, b) => Number(a) - Number(b)).at(-1);
  if (version === undefined) throw new Error('PostgreSQL is not installed: run the suite with bash test/backends/run.sh');
  const bin = `/usr/lib/postgresql/${version}/bin`;
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-faults-pg-'));
  await chmod(dir, 0o755);
  const who = await account('postgres');
  await mkdir(join(dir, 'data'), { mode: 0o700 });
  if (who !== undefined) {
    await chown(dir, who.uid, who.gid);
    await chown(join(dir, 'data'), who.uid, who.gid);
  }
  const init = [`${bin}/initdb`, '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions'];
  const [cmd, args] = who === undefined ? [init[0]!, init.slice(1)] : ['setpriv', ['--reuid', String(who.uid), '--regid', String(who.gid), '--clear-groups', '--', ...init]];
  await run(cmd, args, { timeout: 60_000 });
  const port = await freePort();
  const argv = [`${bin}/postgres`, '-D', join(dir, 'data'), '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=off', '-c', 'shared_buffers=16MB'];
  return controlled('postgres', `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, 'SIGINT', async () => {
    // Accepting TCP is not enough: a starting server answers "the database system is starting up".
    const ok = await accepts(port);
    return ok && (await run(`${bin}/pg_isready`, ['-q', '-h', '127.0.0.1', '-p', String(port)]).then(() => true, () => false));
  }, (log) => spawnAs(who, argv, log));
}
