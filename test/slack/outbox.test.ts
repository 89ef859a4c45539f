import { test } from 'node:test';
import { pino } from 'pino';
import { startSlack } from '../../src/chat/slack/app.ts';
import { BOT_TOKEN, FakeSlack, SIGNING_SECRET } from '../helpers/fake-slack.ts';
import { assertDeliveredOnceAfter429 } from '../helpers/outbox-retry.ts';

test('slack + outbox: a 429 on an alert is retried after Retry-After and delivered exactly once', async () => {
  const fake = await FakeSlack.start();
  const slack = await startSlack({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl, port: 0, host: '127.0.0.1', dispatcher: async () => {}, logger: pino({ level: 'silent' }) });
  try {
    await assertDeliveredOnceAfter429(slack.sender, { platform: 'slack', channelId: 'C0GENERAL' }, {
      failNextWith429: (seconds) => fake.failNext('chat.postMessage', { status: 429, retryAfter: seconds }),
      delivered: (text) => fake.messages.filter((m) => JSON.stringify(m.params).includes(text)).length,
      sendCalls: () => fake.callsOf('chat.postMessage').length,
    });
  } finally {
    await slack.stop();
    await fake.close();
  }
});
