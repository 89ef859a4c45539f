// The platform-independent half of "a 429 from the chat API is retried after its
// Retry-After and the alert is delivered exactly once": a real outbox on an in-memory store
// driving a real adapter's ChannelSender, with a hand-moved clock.
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ChannelRef, ChannelSender } from '../../src/chat/types.ts';
import { OutboxStore, OutboxWorker } from '../../src/outbox/index.ts';
import { openStore } from '../../src/store/index.ts';

/** What the test tells about its fake platform API. */
export interface RateLimitedApi {
  /** Makes the next send answer 429 with a retry-after of `seconds`. */
  failNextWith429(seconds: number): void;
  /** Messages the fake accepted whose text contains `text`. */
  delivered(text: string): number;
  /** Send calls the fake received (accepted or not). */
  sendCalls(): number;
}

/** Enqueues one alert, answers the first send with 429 (30 s), and checks exactly-once delivery. */
export async function assertDeliveredOnceAfter429(sender: ChannelSender, channel: ChannelRef, api: RateLimitedApi): Promise<void> {
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
  const outbox = new OutboxStore(store.kv, store.repo.index);
  let t = Date.UTC(2026, 0, 1);
  const now = (): Date => new Date(t);
  const worker = new OutboxWorker({ store: outbox, log: pino({ level: 'silent' }), now, random: () => 0, baseDelayMs: 100 });
  worker.register(sender);
  await outbox.enqueue([{ targetId: 'k1', event: 'threshold:AB:7', channel, message: { title: 'Expires in 7 days', status: 'warning' } }], now());
  api.failNextWith429(30);

  assert.deepEqual(await worker.drainOnce(), { delivered: 0, retried: 1, failed: 0, pending: 1 });
  t += 29_000;
  assert.equal((await worker.drainOnce()).delivered, 0, 'not before Retry-After');
  t += 1_000;
  assert.equal((await worker.drainOnce()).delivered, 1);
  await worker.drainOnce();
  assert.equal(api.delivered('Expires in 7 days'), 1);
  assert.equal(api.sendCalls(), 2);
  await store.close();
}
