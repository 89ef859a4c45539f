import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCheckRateLimiter, TokenBuckets } from '../../src/security/rate-limit.ts';

test('rate limit: a bucket allows a burst of its capacity, then refills one token per period', () => {
  let now = 0;
  const buckets = new TokenBuckets({ capacity: 2, refillMs: 1000 }, () => now);
  assert.equal(buckets.waitMs('u'), 0);
  buckets.take('u');
  buckets.take('u');
  assert.equal(buckets.waitMs('u'), 1000);
  now = 400;
  assert.equal(buckets.waitMs('u'), 600);
  now = 1000;
  assert.equal(buckets.waitMs('u'), 0);
  assert.equal(buckets.waitMs('other'), 0, 'keys are independent');
});

test('rate limit: per-user limit refuses the user but not another user in the same channel', () => {
  let now = 0;
  const limiter = createCheckRateLimiter({ perUser: { capacity: 1, refillMs: 60_000 }, perChannel: { capacity: 10, refillMs: 1000 }, now: () => now });
  assert.deepEqual(limiter.take('alice', 'c1'), { ok: true });
  assert.deepEqual(limiter.take('alice', 'c1'), { ok: false, scope: 'user', retryAfterMs: 60_000 });
  assert.deepEqual(limiter.take('bob', 'c1'), { ok: true });
  now = 60_000;
  assert.deepEqual(limiter.take('alice', 'c1'), { ok: true });
});

test('rate limit: per-channel limit refuses everyone in a busy channel and spends nothing from the user', () => {
  const now = 0;
  const limiter = createCheckRateLimiter({ perUser: { capacity: 1, refillMs: 60_000 }, perChannel: { capacity: 2, refillMs: 30_000 }, now: () => now });
  assert.equal(limiter.take('a', 'c').ok, true);
  assert.equal(limiter.take('b', 'c').ok, true);
  assert.deepEqual(limiter.take('c', 'c'), { ok: false, scope: 'channel', retryAfterMs: 30_000 });
  assert.equal(limiter.take('c', 'elsewhere').ok, true, 'the refused request did not spend the user token');
});

test('rate limit: the number of remembered keys stays bounded', () => {
  const now = 0;
  const buckets = new TokenBuckets({ capacity: 1, refillMs: 1000 }, () => now, 100);
  for (let i = 0; i < 1000; i++) buckets.take(`k${i}`);
  assert.ok((buckets as unknown as { buckets: Map<string, unknown> }).buckets.size <= 100);
});
