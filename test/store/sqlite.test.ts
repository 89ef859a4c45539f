import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Keyv from 'keyv';
import { openKeyv } from '../../src/store/keyv.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

describe('embedded SQLite store', () => {
  let dir: string;
  let n = 0;
  const stores: Keyv[] = [];
  const open = async (path = join(dir, `s${n++}.sqlite`)): Promise<{ kv: Keyv; store: SqliteStore; path: string }> => {
    const kv = await openKeyv(`sqlite://${path}`);
    stores.push(kv);
    return { kv, store: kv.store as SqliteStore, path };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certwatch-sqlite-'));
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.disconnect().catch(() => {})));
    await rm(dir, { recursive: true, force: true });
  });

  it('sqlite: opens in WAL mode with synchronous=FULL (acknowledged writes survive a power loss)', async () => {
    const { store } = await open();
    assert.deepEqual(await store.query('PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
    // 2 = FULL (0 OFF, 1 NORMAL, 3 EXTRA).
    assert.deepEqual(await store.query('PRAGMA synchronous'), [{ synchronous: 2 }]);
  });

  it('sqlite: concurrent writes share commits, and every one is readable once acknowledged', async () => {
    const { kv, store } = await open();
    const before = store.commits;
    await Promise.all(Array.from({ length: 600 }, (_, i) => kv.set(`k${i}`, { i })));
    const commits = store.commits - before;
    assert.ok(commits >= 1 && commits <= 10, `600 concurrent writes took ${commits} commits`);
    const values = await kv.getMany(Array.from({ length: 600 }, (_, i) => `k${i}`));
    assert.deepEqual(values, Array.from({ length: 600 }, (_, i) => ({ i })));
  });

  it('sqlite: queued sets and deletes of one key apply in the order they reach the store', async () => {
    const { store } = await open();
    await store.set('gone', '1');
    const ops = [store.set('a', '1'), store.set('a', '2'), store.delete('gone'), store.delete('never'), store.set('b', '1'), store.delete('b'), store.set('c', '1'), store.delete('c'), store.set('c', '3')];
    const settled = await Promise.all(ops);
    assert.equal(settled[2], true, 'delete of a stored key reports it existed');
    assert.equal(settled[3], false, 'delete of a missing key reports it did not');
    assert.deepEqual(await Promise.all(['a', 'gone', 'b', 'c'].map((k) => store.get(k))), ['2', undefined, undefined, '3']);
  });

  it('sqlite: setMany and deleteMany go through the same queue', async () => {
    const { kv } = await open();
    await kv.setMany([
      { key: 'x', value: 'one' },
      { key: 'y', value: { nested: ['v', 2] } },
    ]);
    assert.deepEqual(await kv.getMany(['x', 'y']), ['one', { nested: ['v', 2] }]);
    assert.equal(await kv.deleteMany(['x', 'missing']), true);
    assert.equal(await kv.deleteMany(['missing']), false);
    assert.deepEqual(await kv.getMany(['x', 'y']), [undefined, { nested: ['v', 2] }]);
  });

  it('sqlite: a failed statement rejects every write in it, and later writes still work', async () => {
    const { kv, store } = await open();
    await kv.set('before', 1);
    await store.query('CREATE TRIGGER refuse BEFORE INSERT ON keyv WHEN NEW.key LIKE \'%bad%\' BEGIN SELECT RAISE(ABORT, \'refused\'); END');
    const results = await Promise.allSettled([kv.set('ok-in-same-batch', 1), kv.set('bad', 2)]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(await kv.get('ok-in-same-batch'), undefined, 'one statement, one transaction: nothing of it was written');
    await store.query('DROP TRIGGER refuse');
    await kv.set('after', 3);
    assert.deepEqual(await kv.getMany(['before', 'after']), [1, 3]);
  });

  it('sqlite: disconnect commits writes that were already queued', async () => {
    const { kv, path } = await open();
    const pending = Array.from({ length: 100 }, (_, i) => kv.set(`q${i}`, i));
    await kv.disconnect();
    await Promise.all(pending);
    const again = await open(path);
    assert.deepEqual(await again.kv.getMany(['q0', 'q99']), [0, 99]);
  });

  it('sqlite: every write acknowledged before a SIGKILL is there after reopening', async () => {
    const path = join(dir, 'killed.sqlite');
    const child = spawn(process.execPath, [new URL('./sqlite-child.ts', import.meta.url).pathname, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: string[] = [];
    let buf = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        acked.push(...lines.filter((l) => l !== ''));
        if (acked.length >= 2000 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
    });
    await new Promise((r) => child.once('close', r));
    assert.ok(acked.length >= 2000, `child acknowledged ${acked.length} writes`);
    const { kv } = await open(path);
    const got = await kv.getMany(acked);
    const missing = acked.filter((_, i) => got[i] === undefined);
    assert.deepEqual(missing, []);
  });
});
