// The outbox's idempotent enqueue across two store instances (replicas) on Redis and PostgreSQL.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelRef } from '../../src/chat/types.ts';
import { OutboxStore, outboxKey, type OutboxItem } from '../../src/outbox/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { backends } from './servers.ts';

const chan: ChannelRef = { platform: 'telegram', channelId: '42' };
const defaults = { thresholds: [30], failAfter: 2, digest: false };
const now = new Date('2026-01-01T00:00:00.000Z');

function item(event: string): OutboxItem {
  return { targetId: 'abc123', event, channel: chan, message: { title: event, status: 'warning' } };
}

async function replica(url: string, replicaId: string): Promise<{ store: Store; outbox: OutboxStore }> {
  const store = await openStore({ storeUrl: url, replicaId, defaults, onInvalid: () => {} });
  return { store, outbox: new OutboxStore(store.kv, store.repo.index) };
}

for (const backend of backends()) {
  const name = backend.name;
  describe(`outbox on ${name}`, () => {
    test(`${name}: a decision enqueued by one store instance is not enqueued again by another`, async () => {
      const url = await backend.fresh();
      const a = await replica(url, 'replica-a');
      const b = await replica(url, 'replica-b');
      try {
        const added = await a.outbox.enqueue([item('threshold:AB:7'), item('threshold:AB:7')], now);
        assert.deepEqual(added.map((e) => e.key), [outboxKey('abc123', 'threshold:AB:7')]);
        assert.deepEqual(await b.outbox.enqueue([item('threshold:AB:7')], now), []);
        // The entry stays with the replica that decided it: only its worker delivers it.
        assert.deepEqual((await a.outbox.pending()).map((e) => e.origin), ['abc123 threshold:AB:7']);
        assert.deepEqual(await b.outbox.pending(), []);

        // Delivered entries are remembered (with a TTL) on the shared store: still not repeated.
        const [entry] = await a.outbox.pending();
        await a.outbox.markDelivered(entry!, now);
        assert.deepEqual(await b.outbox.enqueue([item('threshold:AB:7')], now), []);
        assert.equal((await b.outbox.get(entry!.key))?.state, 'delivered');
        assert.deepEqual(await a.outbox.pending(), []);

        // A new decision is enqueued by whichever replica makes it.
        assert.equal((await b.outbox.enqueue([item('threshold:AB:3')], now)).length, 1);
        assert.deepEqual((await b.outbox.pending()).map((e) => e.origin), ['abc123 threshold:AB:3']);
      } finally {
        await a.store.close();
        await b.store.close();
      }
    });

    test(`${name}: an entry closed and reopened on a new store instance is still known`, async () => {
      const url = await backend.fresh();
      const first = await replica(url, 'replica-a');
      await first.outbox.enqueue([item('renewed:CD')], now);
      await first.store.close();
      // The same replica after a restart: its pending entry is still there, and not doubled.
      const again = await replica(url, 'replica-a');
      try {
        assert.deepEqual(await again.outbox.enqueue([item('renewed:CD')], now), []);
        const pending = await again.outbox.pending();
        assert.deepEqual(pending.map((e) => e.origin), ['abc123 renewed:CD']);
        assert.deepEqual(pending[0]?.message, { title: 'renewed:CD', status: 'warning' });
      } finally {
        await again.store.close();
      }
    });

    test(`${name}: an outbox entry that is not JSON counts as already decided`, async () => {
      const url = await backend.fresh();
      const { store, outbox } = await replica(url, 'replica-a');
      try {
        await backend.writeRaw(url, `o:${outboxKey('abc123', 'problem:EXPIRED:1')}`, '{broken');
        assert.deepEqual(await outbox.enqueue([item('problem:EXPIRED:1')], now), []);
        assert.deepEqual(await outbox.pending(), []);
      } finally {
        await store.close();
      }
    });
  });
}
