import { test } from 'node:test';
import { pino } from 'pino';
import { startTelegram } from '../../src/chat/telegram/bot.ts';
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
