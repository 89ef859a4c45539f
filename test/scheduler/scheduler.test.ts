import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LatestResults, TargetRecord } from '../../src/core/services.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { OutboxStore } from '../../src/outbox/index.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { postDigest, Scheduler, type Sleep } from '../../src/scheduler/index.ts';
import { openStore } from '../../src/store/index.ts';

const log = createLogger({ level: 'silent' });
const NOW = Date.UTC(2026, 5, 1, 12);
const HOUR = 3_600_000;

function record(id: string, channelId = 'C1'): TargetRecord {
  return { id, target: parseTarget(`${id}.example.com`), channel: { platform: 'slack', channelId }, addedBy: { id: 'u' }, addedAt: new Date(NOW).toISOString() };
}

async function setup(n: number) {
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
  for (let i = 0; i < n; i++) await store.repo.addTarget(record(`t${String(i).padStart(5, '0')}`));
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const checker = {
    fail: new Set<string>(),
    async checkStored(r: TargetRecord): Promise<LatestResults> {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((res) => setImmediate(res));
      inFlight--;
      calls.push(r.id);
      if (checker.fail.has(r.id)) throw new Error('store down');
      return { targetId: r.id, checkedAt: new Date(NOW).toISOString(), status: 'ok', results: [] };
    },
  };
  const sleeps: number[] = [];
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
  };
  const make = (extra: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}) =>
    new Scheduler({ repo: store.repo, checker, log, checkSchedule: '0 */6 * * *', concurrency: 3, jitterMs: 1000, now: () => new Date(NOW), sleep, random: () => 0.5, ...extra });
  return { store, checker, calls, sleeps, make, maxInFlight: () => maxInFlight };
}

test('scheduler: a tick checks every stored target with bounded concurrency', async () => {
  const { calls, make, maxInFlight } = await setup(10);
  const report = await make().tick('scheduled');
  assert.equal(report.checked, 10);
  assert.equal(report.targets, 10);
  assert.equal(new Set(calls).size, 10);
  assert.equal(maxInFlight(), 3);
});

test('scheduler: only the first wave is staggered by jitter', async () => {
  const { sleeps, make } = await setup(10);
  await make().tick('scheduled');
  assert.deepEqual(sleeps, [500, 500, 500]);
});

test('scheduler: one failing target is logged and the run goes on', async () => {
  const { checker, make } = await setup(5);
  checker.fail.add('t00002');
  const report = await make().tick('scheduled');
  assert.deepEqual([report.checked, report.failed], [4, 1]);
});

test('scheduler: startup catch-up checks only targets older than one interval', async () => {
  const { store, calls, make } = await setup(4);
  const at = (h: number) => ({ status: 'ok' as const, results: [], checkedAt: new Date(NOW - h * HOUR).toISOString() });
  await store.repo.recordLatest({ targetId: 't00000', ...at(1) });
  await store.repo.recordLatest({ targetId: 't00001', ...at(7) });
  await store.repo.recordLatest({ targetId: 't00002', ...at(5.9) });
  const s = make();
  assert.equal(s.intervalMs(), 6 * HOUR, 'derived from the cron schedule');
  const report = await s.catchUp();
  assert.equal(report.reason, 'startup');
  assert.deepEqual(calls.sort(), ['t00001', 't00003']);
});

test('scheduler: stop() aborts a run: no further targets start', async () => {
  const { calls, make } = await setup(20);
  let s!: Scheduler;
  const gate: Sleep = async (_ms, signal) => {
    await s.stop();
    assert.equal(signal.aborted, true);
  };
  s = make({ sleep: gate });
  const report = await s.tick('scheduled');
  assert.equal(report.checked, 0);
  assert.deepEqual(calls, []);
});

test('scheduler: the digest goes once per channel with digests on', async () => {
  const { store } = await setup(0);
  await store.repo.addTarget(record('a00001', 'C1'));
  await store.repo.addTarget(record('a00002', 'C1'));
  await store.repo.addTarget(record('b00001', 'C2'));
  await store.repo.setChannelSettings({ platform: 'slack', channelId: 'C1' }, { thresholds: [30], failAfter: 2, digest: true });
  await store.repo.recordLatest({ targetId: 'a00002', checkedAt: new Date(NOW).toISOString(), status: 'error', results: [] });
  const outbox = new OutboxStore(store.kv, store.repo.index);
  assert.equal(await postDigest({ repo: store.repo, outbox }, new Date(NOW)), 1);
  assert.equal(await postDigest({ repo: store.repo, outbox }, new Date(NOW + 60_000)), 0, 'same fire repeated');
  const [entry] = await outbox.pending();
  assert.equal(entry?.channel.channelId, 'C1');
  assert.equal(entry?.message.title, 'Certificate digest: 2 targets');
  assert.equal(entry?.message.status, 'error');
  assert.equal(entry?.message.items?.length, 2);
});

test('scheduler: replicas starting together run one startup catch-up between them, not one each', async () => {
  const { store, calls, make } = await setup(6);
  // One shared lease store, as the Redis coordinator is: the first to ask for a key wins it.
  const leases = new Set<string>();
  const coordinator = {
    shouldRun(key: string): boolean {
      if (leases.has(key)) return false;
      leases.add(key);
      return true;
    },
  };
  const a = make({ coordinator });
  const b = make({ coordinator });
  a.start();
  b.start();
  await Promise.all([a.idle(), b.idle()]);
  await Promise.all([a.stop(), b.stop()]);
  assert.equal(calls.length, 6, `stale targets checked ${calls.length} times for 6 targets`);
  assert.equal(new Set(calls).size, 6);
  await store.close();
});

test('scheduler: stop() waits for a digest in progress, so nothing is enqueued after the store is closed', async () => {
  const { store, make } = await setup(0);
  let begun!: () => void;
  const started = new Promise<void>((r) => (begun = r));
  let finished = false;
  const s = make({
    digestSchedule: '* * * * * *',
    digest: async () => {
      begun();
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
    },
  });
  s.start();
  await started;
  await s.stop();
  assert.equal(finished, true, 'stop() returned while the digest was still enqueuing');
  await store.close();
});
