import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startSlack } from '../../src/chat/slack/app.ts';
import { DeliveryError, type ChannelRef } from '../../src/chat/types.ts';
import { APP_TOKEN, BOT_TOKEN, FakeSlack, SIGNING_SECRET } from '../helpers/fake-slack.ts';

const general: ChannelRef = { platform: 'slack', channelId: 'C0GENERAL' };

async function setup() {
  const fake = await FakeSlack.start();
  const slack = await startSlack({
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    apiUrl: fake.apiUrl,
    port: 0,
    host: '127.0.0.1',
    dispatcher: async () => {},
    logger: pino({ level: 'silent' }),
  });
  return {
    fake,
    slack,
    async [Symbol.asyncDispose]() {
      await slack.stop();
      await fake.close();
    },
  };
}

const rejectsWith = async (p: Promise<unknown>, check: (e: DeliveryError) => void): Promise<void> => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DeliveryError, String(err));
    check(err);
    return true;
  });
};

test('slack sender: posts with chat.postMessage and the bot token, in the thread when the channel names one', async () => {
  await using s = await setup();
  await s.slack.sender.send(general, { title: 'Expires in 7 days', status: 'warning' });
  await s.slack.sender.send({ ...general, threadId: '1700000000.000500' }, { title: 'In thread' });
  const [a, b] = s.fake.callsOf('chat.postMessage');
  assert.equal(a?.token, BOT_TOKEN);
  assert.equal(a?.params.thread_ts, undefined);
  assert.equal(b?.params.thread_ts, '1700000000.000500');
  assert.equal(s.fake.messages.length, 2);
});

test('slack sender: a 429 becomes a DeliveryError with retryAfterMs from Retry-After, without waiting', async () => {
  await using s = await setup();
  s.fake.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
  const started = Date.now();
  await rejectsWith(s.slack.sender.send(general, { title: 'x' }), (e) => {
    assert.equal(e.options.retryAfterMs, 7000);
    assert.notEqual(e.options.permanent, true);
  });
  assert.ok(Date.now() - started < 3000, 'the client did not sit out the Retry-After itself');
  assert.equal(s.fake.callsOf('chat.postMessage').length, 1);
});

test('slack sender: a gone channel is permanent, a 5xx is retryable and not retried by the client', async () => {
  await using s = await setup();
  for (const error of ['channel_not_found', 'not_in_channel', 'is_archived']) {
    s.fake.failNext('chat.postMessage', { error });
    await rejectsWith(s.slack.sender.send(general, { title: 'x' }), (e) => {
      assert.equal(e.options.permanent, true, error);
      assert.match(e.message, new RegExp(error));
    });
  }
  const before = s.fake.callsOf('chat.postMessage').length;
  s.fake.failNext('chat.postMessage', { status: 503 });
  await rejectsWith(s.slack.sender.send(general, { title: 'x' }), (e) => {
    assert.notEqual(e.options.permanent, true);
    assert.equal(e.options.retryAfterMs, undefined);
  });
  assert.equal(s.fake.callsOf('chat.postMessage').length, before + 1);
  await rejectsWith(s.slack.sender.send({ platform: 'slack', channelId: 'C0NOTMEMBER' }, { title: 'x' }), (e) => assert.equal(e.options.permanent, true));
});

test('slack: Socket Mode connects through apps.connections.open, acknowledges a slash command and answers', async () => {
  const fake = await FakeSlack.start();
  const seen: string[] = [];
  const slack = await startSlack({
    botToken: BOT_TOKEN,
    appToken: APP_TOKEN,
    apiUrl: fake.apiUrl,
    dispatcher: async (cmd, respond) => {
      seen.push(`${cmd.name} ${cmd.text}`);
      await respond({ title: `ran ${cmd.name}` });
    },
    logger: pino({ level: 'silent' }),
  });
  try {
    const open = fake.callsOf('apps.connections.open');
    // Two: the start-up credentials check (src/chat/slack/app.ts) and Bolt's own connection.
    assert.equal(open.length, 2);
    for (const call of open) assert.equal(call.token, APP_TOKEN);
    const responseUrl = fake.newResponseUrl();
    const ack = fake.pushEnvelope('slash_commands', {
      token: 'x',
      team_id: 'T111',
      channel_id: 'C0GENERAL',
      user_id: 'U0ALICE',
      user_name: 'alice',
      command: '/cert',
      text: 'list',
      response_url: responseUrl,
      trigger_id: '1',
      api_app_id: 'A111',
    });
    await ack;
    const reply = await fake.waitFor(() => fake.calls.find((c) => c.kind === 'response_url' && responseUrl.endsWith(c.method)));
    assert.match(JSON.stringify(reply.params.blocks), /ran list/);
    assert.deepEqual(seen, ['list ']);
  } finally {
    await slack.stop();
    await fake.close();
  }
});
