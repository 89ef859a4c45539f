// Outbox ownership between replicas sharing one store (memory:// here; real Redis and
// PostgreSQL in test/backends).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutboxStore, type OutboxItem } from '../../src/outbox/index.ts';
import { KeyvRepository, openStore } from '../../src/store/index.ts';

const defaults = { thresholds: [30], failAfter: 2, digest: false };
const item: OutboxItem = { targetId: 'abc123', event: 'threshold:AB:7', channel: { platform: 'telegram', channelId: '42' }, message: { title: 't' } };
const now = new Date('2026-01-01T00:00:00.000Z');

test('outbox: a pending entry another replica owns is not adopted when the decision repeats', async () => {
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'replica-a', defaults, onInvalid: () => {} });
  const a = new OutboxStore(store.kv, store.repo.index);
  const b = new OutboxStore(store.kv, new KeyvRepository(store.kv, 'replica-b', defaults).index);
  assert.equal((await a.enqueue([item], now)).length, 1);
  assert.deepEqual(await b.enqueue([item], now), []);
  assert.equal((await a.pending()).length, 1);
  assert.deepEqual(await b.pending(), [], 'two owners would both deliver it');
  await store.close();
});

test('outbox: a pending entry nobody indexes (crash before the index write) is adopted', async () => {
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'replica-a', defaults, onInvalid: () => {} });
  const a = new OutboxStore(store.kv, store.repo.index);
  const b = new OutboxStore(store.kv, new KeyvRepository(store.kv, 'replica-b', defaults).index);
  const [entry] = await a.enqueue([item], now);
  await store.repo.index.remove('outbox', entry!.key);
  assert.deepEqual(await b.enqueue([item], now), []);
  assert.deepEqual((await b.pending()).map((e) => e.key), [entry!.key]);
  await store.close();
});
