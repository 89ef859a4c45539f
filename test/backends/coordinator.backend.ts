// The Redis run coordinator (src/scheduler/coordinator.ts): one replica per scheduled fire.
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cron from 'node-cron';
import { redisRunCoordinator, type ClosableCoordinator } from '../../src/scheduler/coordinator.ts';
import { redisUrl } from './servers.ts';

async function pair(): Promise<[ClosableCoordinator, ClosableCoordinator]> {
  return [await redisRunCoordinator(redisUrl()), await redisRunCoordinator(redisUrl())];
}

test('coordinator: two coordinators on one Redis grant each fire to exactly one of them', async () => {
  const [a, b] = await pair();
  try {
    const run = randomUUID();
    for (let i = 0; i < 50; i++) {
      const key = `certwatch-check:${run}:${i}`;
      // Both ask at the same moment, as two replicas woken by the same cron tick do.
      const [ra, rb] = await Promise.all([a.shouldRun(key, 30_000), b.shouldRun(key, 30_000)]);
      assert.equal(Number(ra) + Number(rb), 1, `fire ${i}: a=${ra} b=${rb}`);
      // Asking again (a late or repeated tick) does not grant it a second time.
      assert.equal(await a.shouldRun(key, 30_000), false);
      assert.equal(await b.shouldRun(key, 30_000), false);
    }
    // Different fires are independent.
    assert.equal(await a.shouldRun(`certwatch-check:${run}:x`, 30_000), true);
    assert.equal(await b.shouldRun(`certwatch-digest:${run}:x`, 30_000), true);
  } finally {
    await a.close();
    await b.close();
  }
});

test('coordinator: a lease expires, so a fire key can be granted again after its TTL', async () => {
  const [a, b] = await pair();
  try {
    const key = `certwatch-check:${randomUUID()}`;
    // The coordinator never leases for less than 1 s (a fire must not be re-run by a replica
    // whose clock is slightly behind): ask for less and check the lease still holds at ~0.5 s.
    assert.equal(await a.shouldRun(key, 10), true);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await b.shouldRun(key, 10), false, 'lease shorter than the 1 s minimum');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(await b.shouldRun(key, 10), true, 'lease expired after the minimum');
  } finally {
    await a.close();
    await b.close();
  }
});

test('coordinator: two node-cron tasks with distributed on run each second exactly once', async () => {
  const [a, b] = await pair();
  const name = `certwatch-test-${randomUUID()}`;
  const runs: { replica: string; slot: string }[] = [];
  const skipped: { slot: string; reason: string }[] = [];
  let enough: () => void = () => {};
  const done = new Promise<void>((resolve) => (enough = resolve));
  // Done once four fires were skipped by one replica and run by the other.
  const check = (): void => {
    if (skipped.filter((s) => runs.some((r) => r.slot === s.slot)).length >= 4) enough();
  };
  const tasks = (['a', 'b'] as const).map((replica) =>
    cron.schedule(
      '* * * * * *',
      (ctx) => {
        runs.push({ replica, slot: ctx.date.toISOString() });
        check();
      },
      { name, noOverlap: true, distributed: true, runCoordinator: replica === 'a' ? a : b },
    ),
  );
  for (const t of tasks) {
    t.on('execution:skipped', (ctx) => {
      skipped.push({ slot: ctx.date.toISOString(), reason: String(ctx.reason) });
      check();
    });
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      done,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${runs.length} runs, ${skipped.length} skips in 15 s`)), 15_000))),
    ]);
  } finally {
    clearTimeout(timer);
    for (const t of tasks) await t.destroy();
    await a.close();
    await b.close();
  }
  const slots = runs.map((r) => r.slot);
  assert.equal(new Set(slots).size, slots.length, `a second was run twice: ${JSON.stringify(runs)}`);
  assert.deepEqual(
    skipped.filter((s) => s.reason !== 'not-elected'),
    [],
    'the only reason to skip is losing the election',
  );
  // Every fire one replica skipped was run by the other (the newest one may still be running).
  const newest = slots.reduce((m, s) => (s > m ? s : m), '');
  for (const s of skipped) if (s.slot <= newest) assert.ok(slots.includes(s.slot), `skipped ${s.slot} was run by nobody`);
});
