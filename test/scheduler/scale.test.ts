import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LatestResults, TargetRecord } from '../../src/core/services.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { Scheduler, type Sleep } from '../../src/scheduler/index.ts';
import { openStore } from '../../src/store/index.ts';

const log = createLogger({ level: 'silent' });
const NOW = Date.UTC(2026, 5, 1, 12);

function record(id: string): TargetRecord {
  return { id, target: parseTarget(`${id}.example.com`), channel: { platform: 'slack', channelId: 'C1' }, addedBy: { id: 'u' }, addedAt: new Date(NOW).toISOString() };
}

async function seeded(n: number) {
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
  for (let i = 0; i < n; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, j) => store.repo.addTarget(record(`t${String(i + j).padStart(5, '0')}`))));
  }
  return store;
}

test('scheduler: a run pages through the stored targets and never loads them all at once', async () => {
  const store = await seeded(1234);
  const pages: number[] = [];
  const repo = store.repo;
  const getTargets = repo.getTargets.bind(repo);
  repo.getTargets = async (ids) => {
    pages.push(ids.length);
    return getTargets(ids);
  };
  repo.listTargets = () => Promise.reject(new Error('a run must not list every record'));
  const checked = new Set<string>();
  let maxAhead = 0;
  const checker = {
    async checkStored(r: TargetRecord): Promise<LatestResults> {
      checked.add(r.id);
      // Pages are fetched as workers need them: at most one page ahead of the checks.
      maxAhead = Math.max(maxAhead, pages.reduce((a, b) => a + b, 0) - checked.size);
      await new Promise((res) => setImmediate(res));
      return { targetId: r.id, checkedAt: new Date(NOW).toISOString(), status: 'ok', results: [] };
    },
  };
  const s = new Scheduler({ repo, checker, log, checkSchedule: '0 */6 * * *', concurrency: 7, jitterMs: 0 });
  const report = await s.tick('scheduled');
  assert.deepEqual([report.targets, report.checked, report.failed], [1234, 1234, 0]);
  assert.equal(checked.size, 1234);
  assert.deepEqual(pages, [500, 500, 234]);
  assert.ok(maxAhead <= 500, `records fetched ahead of checks: ${maxAhead}`);
});

test('scheduler: a target removed during a run is skipped, not checked', async () => {
  const store = await seeded(600);
  const checked: string[] = [];
  const checker = {
    async checkStored(r: TargetRecord): Promise<LatestResults> {
      if (r.id === 't00000') await store.repo.removeTarget('t00550');
      checked.push(r.id);
      return { targetId: r.id, checkedAt: new Date(NOW).toISOString(), status: 'ok', results: [] };
    },
  };
  const s = new Scheduler({ repo: store.repo, checker, log, checkSchedule: '0 */6 * * *', concurrency: 1, jitterMs: 0 });
  const report = await s.tick('scheduled');
  assert.equal(report.checked, 599);
  assert.ok(!checked.includes('t00550'));
});

test('scheduler: spreadMs spaces the starts evenly over the window instead of a burst', async () => {
  const store = await seeded(10);
  let clock = NOW;
  const starts: number[] = [];
  const sleep: Sleep = async (ms) => {
    clock += ms;
  };
  const checker = {
    async checkStored(r: TargetRecord): Promise<LatestResults> {
      starts.push(clock - NOW);
      return { targetId: r.id, checkedAt: new Date(clock).toISOString(), status: 'ok', results: [] };
    },
  };
  const s = new Scheduler({ repo: store.repo, checker, log, checkSchedule: '0 */6 * * *', concurrency: 10, jitterMs: 0, spreadMs: 60_000, sleep, now: () => new Date(clock) });
  const report = await s.tick('scheduled');
  assert.equal(report.checked, 10);
  // Target k starts at k/10 of the minute (the fake clock only moves when a worker sleeps).
  assert.deepEqual(starts.sort((a, b) => a - b), [0, 6000, 12000, 18000, 24000, 30000, 36000, 42000, 48000, 54000]);
});

test('scheduler: without spreadMs a run does not wait beyond the first-wave jitter', async () => {
  const store = await seeded(30);
  const sleeps: number[] = [];
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
  };
  const checker = { checkStored: async (r: TargetRecord): Promise<LatestResults> => ({ targetId: r.id, checkedAt: new Date(NOW).toISOString(), status: 'ok', results: [] }) };
  const s = new Scheduler({ repo: store.repo, checker, log, checkSchedule: '0 */6 * * *', concurrency: 4, jitterMs: 1000, sleep, random: () => 0.25, now: () => new Date(NOW) });
  await s.tick('scheduled');
  assert.deepEqual(sleeps, [250, 250, 250, 250]);
});

test('scheduler: a page that cannot be read fails the run only after the checks in flight have ended', async () => {
  const store = await seeded(1200);
  const getTargets = store.repo.getTargets.bind(store.repo);
  let calls = 0;
  store.repo.getTargets = async (ids) => {
    if (++calls === 2) throw new Error('store down');
    return getTargets(ids);
  };
  let running = 0;
  let finishedAfterFailure = 0;
  let failedAt = 0;
  const checker = {
    async checkStored(r: TargetRecord): Promise<LatestResults> {
      running++;
      await new Promise((res) => setImmediate(res));
      running--;
      if (calls >= 2) finishedAfterFailure++;
      return { targetId: r.id, checkedAt: new Date(NOW).toISOString(), status: 'ok', results: [] };
    },
  };
  const s = new Scheduler({ repo: store.repo, checker, log, checkSchedule: '0 */6 * * *', concurrency: 5, jitterMs: 0 });
  await assert.rejects(s.tick('scheduled'), /store down/);
  failedAt = running;
  assert.equal(failedAt, 0, 'no check is still running when the run rejects');
  assert.ok(finishedAfterFailure <= 5, `checks started after the failure: ${finishedAfterFailure}`);
});

test('scheduler: a wall clock set back during a spread run does not make the remaining starts wait out the jump', async () => {
  const store = await seeded(10);
  let clock = NOW;
  const sleeps: number[] = [];
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    clock += ms;
  };
  let checks = 0;
  const checker = {
    async checkStored(r: TargetRecord): Promise<LatestResults> {
      if (++checks === 3) clock -= 3_600_000; // NTP steps the clock back an hour mid-run
      return { targetId: r.id, checkedAt: new Date(clock).toISOString(), status: 'ok', results: [] };
    },
  };
  const s = new Scheduler({ repo: store.repo, checker, log, checkSchedule: '0 */6 * * *', concurrency: 1, jitterMs: 0, spreadMs: 60_000, sleep, now: () => new Date(clock) });
  const report = await s.tick('scheduled');
  assert.equal(report.checked, 10);
  const waited = sleeps.reduce((a, b) => a + b, 0);
  assert.ok(waited <= 60_000, `the run waited ${waited} ms in all for a 60 s spread`);
});
