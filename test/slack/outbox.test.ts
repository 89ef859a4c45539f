import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startSlack } from '../../src/chat/slack/app.ts';
import { OutboxStore, OutboxWorker } from '../../src/outbox/index.ts';
import { openStore } from '../../src/store/index.ts';
import { BOT_TOKEN, FakeSlack, SIGNING_SECRET } from '../helpers/fake-slack.ts';

test('slack + outbox: a 429 on an alert is retried after Retry-After and delivered exactly once', async () => {
  const fake = await FakeSlack.start();
  const slack = await startSlack({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl, port: 0, host: '127.0.0.1', dispatcher: async () => {}, logger: pino({ level: 'silent' }) });
  try {
    const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
    const outbox = new OutboxStore(store.kv, store.repo.index);
    let t = Date.UTC(2026, 0, 1);
    const now = (): Date => new Date(t);
    const worker = new OutboxWorker({ store: outbox, log: pino({ level: 'silent' }), now, random: () => 0, baseDelayMs: 100 });
    worker.register(slack.sender);
    await outbox.enqueue([{ targetId: 'k1', event: 'threshold:AB:7', channel: { platform: 'slack', channelId: 'C0GENERAL' }, message: { title: 'Expires in 7 days', status: 'warning' } }], now());
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 30 });

    assert.deepEqual(await worker.drainOnce(), { delivered: 0, retried: 1, failed: 0, pending: 1 });
    t += 29_000;
    assert.equal((await worker.drainOnce()).delivered, 0, 'not before Retry-After');
    t += 1_000;
    assert.equal((await worker.drainOnce()).delivered, 1);
    await worker.drainOnce();
    assert.equal(fake.messages.filter((m) => JSON.stringify(m.params).includes('Expires in 7 days')).length, 1);
    assert.equal(fake.callsOf('chat.postMessage').length, 2);
  } finally {
    await slack.stop();
    await fake.close();
  }
});
