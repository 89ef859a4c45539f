import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startTelegram } from '../../src/chat/telegram/bot.ts';
import { OutboxStore, OutboxWorker } from '../../src/outbox/index.ts';
import { openStore } from '../../src/store/index.ts';
import { FakeTelegram } from '../helpers/fake-telegram.ts';

test('telegram + outbox: a 429 on an alert is retried after retry_after and delivered exactly once', async () => {
  const fake = await FakeTelegram.start();
  fake.addChat({ id: 42, type: 'private' });
  const bot = await startTelegram({ token: fake.token, apiRoot: fake.apiRoot, dispatcher: async () => {}, logger: pino({ level: 'silent' }), pollTimeoutSec: 1 });
  try {
    const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
    const outbox = new OutboxStore(store.kv, store.repo.index);
    let t = Date.UTC(2026, 0, 1);
    const now = (): Date => new Date(t);
    const worker = new OutboxWorker({ store: outbox, log: pino({ level: 'silent' }), now, random: () => 0, baseDelayMs: 100 });
    worker.register(bot.sender);
    await outbox.enqueue([{ targetId: 'k1', event: 'threshold:AB:7', channel: { platform: 'telegram', channelId: '42' }, message: { title: 'Expires in 7 days', status: 'warning' } }], now());
    fake.failNext('sendMessage', { status: 429, retryAfter: 30 });

    assert.deepEqual(await worker.drainOnce(), { delivered: 0, retried: 1, failed: 0, pending: 1 });
    t += 29_000;
    assert.equal((await worker.drainOnce()).delivered, 0, 'not before retry_after');
    t += 1_000;
    assert.equal((await worker.drainOnce()).delivered, 1);
    await worker.drainOnce();
    assert.equal(fake.messages.filter((m) => m.text.includes('Expires in 7 days')).length, 1);
    assert.equal(fake.callsOf('sendMessage').length, 2);
  } finally {
    await bot.stop();
    await fake.close();
  }
});
