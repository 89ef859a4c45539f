// The outbox crash test (issue 3, item 6): SIGKILL in the middle of a scheduled run, restart
// on the same SQLite file, and every due message is delivered exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTarget } from '../../src/probe/target.ts';
import { openStore } from '../../src/store/index.ts';
import { startTlsServer, type FakeServer } from '../helpers/fake-server.ts';
import { creds, makeCa, makeLeaf } from '../helpers/pki.ts';

const DAY = 86_400_000;
const child = new URL('./crash-child.ts', import.meta.url).pathname;

/** A TCP front that holds connections silently until opened, then proxies to `target`. */
async function gate(targetPort: number): Promise<{ port: number; open(): void; close(): Promise<void> }> {
  let opened = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    if (!opened) return; // silent: the probe waits here
    const up = connect(targetPort, '127.0.0.1');
    up.on('error', () => s.destroy());
    s.pipe(up).pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    open: () => {
      opened = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function run(env: Record<string, string>): { proc: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const proc = spawn(process.execPath, [child], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { proc, exited };
}

async function waitForLine(file: string, line: string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.split('\n').includes(line)) return;
    if (done) throw new Error(`child exited before writing ${line}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('outbox crash: after SIGKILL mid-run and a restart every due message is delivered exactly once', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-crash-'));
  const servers: FakeServer[] = [];
  const root = await makeCa({ name: 'Crash Test Root' });
  const lifetimes = [5, 2, 10, 20, 25, 1.5]; // days left: thresholds 7, 3, 14, 30, 30, 1
  try {
    for (const days of lifetimes) {
      const leaf = await makeLeaf(root, { name: '127.0.0.1', sans: ['127.0.0.1'], notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + days * DAY - 3_600_000) });
      servers.push(await startTlsServer(creds(leaf)));
    }
    // The last target sits behind a gate that stays silent during the first run, so the run
    // is still in progress (probing it) when the child is killed.
    const held = await gate(servers.at(-1)!.port);
    const ports = [...servers.slice(0, -1).map((s) => s.port), held.port];

    const storeUrl = `sqlite://${join(dir, 'certwatch.sqlite')}`;
    const seed = await openStore({ storeUrl, replicaId: 'crash', defaults: { thresholds: [30, 14, 7, 3, 1], failAfter: 3, digest: false }, onInvalid: () => {} });
    const ids = ports.map((_, i) => `crash${i}`);
    for (const [i, port] of ports.entries()) {
      const id = ids[i]!;
      await seed.repo.addTarget({ id, target: parseTarget(`127.0.0.1:${port}`), caPem: root.certPem, channel: { platform: 'console', channelId: 'console' }, addedBy: { id: 'test' }, addedAt: new Date().toISOString() });
      // Known target with no certificate memory yet: the first sighting posts its threshold.
      await seed.repo.putAlertState({ targetId: id, certs: {}, issues: {}, updatedAt: new Date().toISOString() });
    }
    await seed.close();

    const sink = join(dir, 'sink.jsonl');
    const control = join(dir, 'control');
    await writeFile(sink, '');
    await writeFile(control, '');
    const env = { STORE_URL: storeUrl, SINK: sink, CONTROL: control };

    const first = run({ ...env, CRASH_AFTER: '2' });
    await waitForLine(control, 'HANG', first.exited);
    first.proc.kill('SIGKILL');
    const killed = await first.exited;
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const before = (await readFile(sink, 'utf8')).trim().split('\n').filter(Boolean);
    assert.equal(before.length, 2, 'killed after exactly two deliveries');

    held.open();
    await writeFile(control, '');
    const second = run(env);
    await waitForLine(control, 'DONE', second.exited);
    const result = await second.exited;
    assert.equal(result.code, 0, result.stderr);

    const titles = (await readFile(sink, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { title: string }).title);
    const expected = ports.map((p, i) => ({ port: p, days: Math.floor(lifetimes[i]! - 1 / 24) }));
    for (const { port, days } of expected) {
      const mine = titles.filter((t) => t.includes(`127.0.0.1:${port} `));
      assert.equal(mine.length, 1, `target on port ${port}: ${JSON.stringify(mine)} in ${JSON.stringify(titles)}`);
      assert.match(mine[0]!, new RegExp(`expires in ${days} days?$`));
    }
    assert.equal(titles.length, ports.length, JSON.stringify(titles));
    await held.close();
  } finally {
    for (const s of servers) await s.close();
    await rm(dir, { recursive: true, force: true });
  }
});
