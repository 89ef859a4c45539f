import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startTelegram } from '../../src/chat/telegram/bot.ts';
import { OutboxStore, OutboxWorker } from '../../src/outbox/index.ts';
import { openStore } from '../../src/store/index.ts';
import { FakeTelegram } from '../helpers/fake-telegram.ts';
import { assertDeliveredOnceAfter429 } from '../helpers/outbox-retry.ts';

test('telegram + outbox: a 429 on an alert is retried after retry_after and delivered exactly once', async () => {
  const fake = await FakeTelegram.start();
  fake.addChat({ id: 42, type: 'private' });
  const bot = await startTelegram({ token: fake.token, apiRoot: fake.apiRoot, dispatcher: async () => {}, logger: pino({ level: 'silent' }), pollTimeoutSec: 1 });
  try {
    await assertDeliveredOnceAfter429(bot.sender, { platform: 'telegram', channelId: '42' }, {
      failNextWith429: (seconds) => fake.failNext('sendMessage', { status: 429, retryAfter: seconds }),
      delivered: (text) => fake.messages.filter((m) => m.text.includes(text)).length,
      sendCalls: () => fake.callsOf('sendMessage').length,
    });
  } finally {
    await bot.stop();
    await fake.close();
  }
});

test('telegram + outbox: a long alert whose second part fails is retried with the remaining parts only; the chat sees each part once', async () => {
  const fake = await FakeTelegram.start();
  fake.addChat({ id: 42, type: 'private' });
  const bot = await startTelegram({ token: fake.token, apiRoot: fake.apiRoot, dispatcher: async () => {}, logger: pino({ level: 'silent' }), pollTimeoutSec: 1 });
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
  try {
    const outbox = new OutboxStore(store.kv, store.repo.index);
    let t = Date.UTC(2026, 0, 1);
    const now = (): Date => new Date(t);
    const worker = new OutboxWorker({ store: outbox, log: pino({ level: 'silent' }), now, random: () => 0, baseDelayMs: 100 });
    worker.register(bot.sender);
    // About 3 Telegram messages of text (4096 characters each at most).
    const lines = Array.from({ length: 300 }, (_, i) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(30)}`);
    await outbox.enqueue([{ targetId: 'k1', event: 'digest:1', channel: { platform: 'telegram', channelId: '42' }, message: { title: 'Daily digest', status: 'info', text: lines } }], now());
    fake.failAfter('sendMessage', 1, { status: 502 });
    assert.deepEqual(await worker.drainOnce(), { delivered: 0, retried: 1, failed: 0, pending: 1 });
    t += 60_000;
    assert.equal((await worker.drainOnce()).delivered, 1);
    const texts = fake.messages.map((m) => m.text).join('\n');
    assert.ok(fake.messages.length >= 3, `${fake.messages.length} messages`);
    for (const line of lines) assert.equal(texts.split(line).length - 1, 1, `"${line}" posted once`);
    assert.equal(texts.split('Daily digest').length - 1, 1);
  } finally {
    await store.close();
    await bot.stop();
    await fake.close();
  }
});
