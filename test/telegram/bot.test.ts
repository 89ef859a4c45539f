import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startTelegram, type TelegramAdapter, type TelegramOptions } from '../../src/chat/telegram/bot.ts';
import { DeliveryError, type CommandDispatcher, type IncomingCommand, type Reply } from '../../src/chat/types.ts';
import { createCheckRateLimiter } from '../../src/security/rate-limit.ts';
import { FakeTelegram, postWebhook, type FakeUser } from '../helpers/fake-telegram.ts';

const alice: FakeUser = { id: 1001, username: 'alice' };
const PRIVATE = 1001;
const GROUP = -200;
const FORUM = -100300;
const STRANGER = 666;
const menu = ['add', 'list', 'check', 'remove', 'mute', 'unmute', 'settings', 'help'].map((name) => ({ name, summary: `${name} things` }));

/** A stand-in for the command layer: records commands and answers by name. */
function fakeDispatcher(seen: IncomingCommand[]): CommandDispatcher {
  return async (cmd, respond) => {
    seen.push(cmd);
    if (cmd.name === 'check' && cmd.text === 'all') {
      await respond({ title: 'Checking 3 targets… 0/3', status: 'info' });
      await respond({ title: 'Checking 3 targets… 2/3', status: 'info' });
      await respond({ title: 'Checked 3 targets', status: 'ok' });
      return;
    }
    if (cmd.name === 'check') {
      await respond({
        title: `<script>&`,
        status: 'critical',
        fields: [{ label: 'Issuer', value: 'CN=<b>Evil & Co</b>' }],
        buttons: [
          { label: 'Check now', command: `check ${cmd.text}`, style: 'primary' },
          { label: 'Mute 7d', command: `mute ${cmd.text} 7d` },
          { label: 'Remove', command: `remove ${cmd.text}`, style: 'danger' },
        ],
      });
      return;
    }
    if (cmd.name === 'list') {
      await respond({ title: 'Targets', items: Array.from({ length: 300 }, (_, i) => `t${i} mail${i}.example.com:587 smtp STARTTLS 42 days`) });
      return;
    }
    if (cmd.name === 'settings') throw new Error('boom');
    await respond({ title: `ran ${cmd.name}`, text: [cmd.text === '' ? '(no arguments)' : cmd.text], status: 'ok' });
  };
}

interface Harness {
  fake: FakeTelegram;
  bot: TelegramAdapter;
  seen: IncomingCommand[];
  logs: string[];
  [Symbol.asyncDispose](): Promise<void>;
}

async function harness(extra: Partial<TelegramOptions> = {}, beforeStart?: (fake: FakeTelegram) => void): Promise<Harness> {
  const fake = await FakeTelegram.start();
  beforeStart?.(fake);
  fake.addChat({ id: PRIVATE, type: 'private' });
  fake.addChat({ id: GROUP, type: 'group', title: 'ops' });
  fake.addChat({ id: FORUM, type: 'supergroup', title: 'forum', isForum: true }, [7, 9]);
  fake.addChat({ id: STRANGER, type: 'private' });
  const seen: IncomingCommand[] = [];
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, cb) => (logs.push(String(chunk)), cb()) }));
  const bot = await startTelegram({
    token: fake.token,
    apiRoot: fake.apiRoot,
    dispatcher: fakeDispatcher(seen),
    logger,
    commands: menu,
    allowedChats: [String(PRIVATE), String(GROUP), String(FORUM)],
    pollTimeoutSec: 1,
    ...extra,
  });
  return {
    fake,
    bot,
    seen,
    logs,
    async [Symbol.asyncDispose]() {
      await bot.stop();
      await fake.close();
      const secret = fake.token.split(':')[1] ?? '';
      for (const line of logs) assert.ok(!line.includes(secret), `the bot token leaked into a log line: ${line}`);
    },
  };
}

const sentTo = (chatId: number) => (m: { chatId: number }) => m.chatId === chatId;

test('telegram: registers the command menu with setMyCommands at start', async () => {
  await using h = await harness();
  const call = await h.fake.waitForCall((c) => c.method === 'setMyCommands');
  assert.deepEqual(
    (call.params.commands as { command: string }[]).map((c) => c.command),
    ['add', 'list', 'check', 'remove', 'mute', 'unmute', 'settings', 'help'],
  );
  assert.equal(h.bot.username, 'certwatch_test_bot');
});

test('telegram: every command round-trips from a private chat to the dispatcher and back', async () => {
  await using h = await harness();
  const plain = ['add mail.example.com:587', 'remove k3x9p2', 'mute k3x9p2 7d', 'unmute k3x9p2', 'help'];
  for (const line of plain) h.fake.sendText(PRIVATE, alice, `/${line}`);
  const replies = await h.fake.waitForMessages((m) => m.chatId === PRIVATE && m.text.includes('ran '), plain.length);
  for (const line of plain) {
    const [name = '', ...args] = line.split(' ');
    const cmd = h.seen.find((c) => c.name === name);
    assert.ok(cmd, `dispatched ${name}`);
    assert.equal(cmd.text, args.join(' '));
    assert.deepEqual(cmd.channel, { platform: 'telegram', channelId: String(PRIVATE) });
    assert.deepEqual(cmd.user, { id: '1001', name: 'alice' });
    assert.ok(replies.some((r) => r.text.includes(`ran ${name}`)), `reply for ${name}`);
  }
  for (const call of h.fake.callsOf('sendMessage')) assert.equal(call.params.parse_mode, 'HTML');
});

test('telegram: /start answers with help', async () => {
  await using h = await harness();
  h.fake.sendText(PRIVATE, alice, '/start');
  await h.fake.waitForMessages((m) => m.text.includes('ran help'));
});

test('telegram: a stranger chat gets a short refusal and nothing reaches the dispatcher', async () => {
  await using h = await harness();
  h.fake.sendText(STRANGER, { id: STRANGER, username: 'mallory' }, '/add evil.example.com');
  const [refusal] = await h.fake.waitForMessages(sentTo(STRANGER));
  assert.match(refusal?.text ?? '', /not enabled for this chat/);
  assert.ok(refusal!.text.length < 200);
  assert.equal(h.seen.length, 0);
});

test('telegram: the stranger refusal names the chat id to put in TELEGRAM_ALLOWED_CHATS', async () => {
  await using h = await harness();
  h.fake.sendText(STRANGER, { id: STRANGER, username: 'mallory' }, '/list');
  const [refusal] = await h.fake.waitForMessages(sentTo(STRANGER));
  assert.match(refusal?.text ?? '', new RegExp(`id ${STRANGER}\\).*TELEGRAM_ALLOWED_CHATS`));
});

test('telegram: with no allow-list the bot serves no chat (secure default), and "*" serves every chat', async () => {
  {
    await using h = await harness({ allowedChats: [] });
    h.fake.sendText(PRIVATE, alice, '/list');
    const [refusal] = await h.fake.waitForMessages(sentTo(PRIVATE));
    assert.match(refusal?.text ?? '', /not enabled for this chat/);
    assert.equal(h.seen.length, 0);
  }
  {
    await using h = await harness({ allowedChats: ['*'] });
    h.fake.sendText(STRANGER, { id: STRANGER, username: 'anyone' }, '/list');
    await h.fake.waitForMessages(sentTo(STRANGER));
    assert.equal(h.seen.length, 1);
  }
});

test('telegram: group commands work as /add@botname and commands for other bots are ignored', async () => {
  await using h = await harness();
  h.fake.sendText(GROUP, alice, '/add@other_bot nope.example.com');
  h.fake.sendText(GROUP, alice, '/weather');
  h.fake.sendText(GROUP, alice, '/add@certwatch_test_bot mail.example.com:25');
  const [reply] = await h.fake.waitForMessages(sentTo(GROUP));
  assert.match(reply?.text ?? '', /ran add/);
  assert.deepEqual(
    h.seen.map((c) => [c.name, c.text]),
    [['add', 'mail.example.com:25']],
  );
});

test('telegram: a command in a forum topic is answered in that topic, and the sender posts alerts there', async () => {
  await using h = await harness();
  h.fake.sendText(FORUM, alice, '/add imap.example.com:143', 9);
  const [reply] = await h.fake.waitForMessages(sentTo(FORUM));
  assert.equal(reply?.threadId, 9);
  assert.deepEqual(h.seen[0]?.channel, { platform: 'telegram', channelId: String(FORUM), threadId: '9' });
  await h.bot.sender.send(h.seen[0]!.channel, { title: 'Certificate expires in 7 days', status: 'warning' });
  const alerts = await h.fake.waitForMessages((m) => m.text.includes('expires in 7 days'));
  assert.equal(alerts[0]?.threadId, 9);
});

test('telegram: a hostile server string is escaped so the API accepts it and shows it verbatim', async () => {
  await using h = await harness();
  h.fake.sendText(PRIVATE, alice, '/check k3x9p2');
  const [msg] = await h.fake.waitForMessages((m) => m.text.includes('<script>&'));
  assert.ok(msg!.html.includes('&lt;script&gt;&amp;'));
  assert.ok(msg!.text.includes('Issuer: CN=<b>Evil & Co</b>'));
});

test('telegram: a reply over 4096 characters arrives as several messages under the limit', async () => {
  await using h = await harness();
  h.fake.sendText(PRIVATE, alice, '/list');
  await h.fake.waitForMessages((m) => m.text.includes('t299 mail299'));
  const parts = h.fake.messages.filter(sentTo(PRIVATE));
  assert.ok(parts.length >= 3, `got ${parts.length} parts`);
  for (const p of parts) assert.ok(p.text.length <= 4096);
  const all = parts.map((p) => p.text).join('\n');
  for (let i = 0; i < 300; i++) assert.ok(all.includes(`t${i} mail${i}.example.com`), `item ${i}`);
});

test('telegram: a button press runs its command in the same chat and topic and is answered', async () => {
  await using h = await harness();
  h.fake.sendText(FORUM, alice, '/check k3x9p2', 7);
  const [card] = await h.fake.waitForMessages((m) => m.chatId === FORUM && m.replyMarkup !== undefined);
  const buttons = card!.replyMarkup!.inline_keyboard.flat();
  assert.deepEqual(
    buttons.map((b) => b.callback_data),
    ['c:k3x9p2', 'm:k3x9p2:7d', 'r:k3x9p2'],
  );
  const queryId = h.fake.pressButton(card!, { id: 1002, username: 'bob' }, 'm:k3x9p2:7d');
  await h.fake.waitForCall((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === queryId);
  const [reply] = await h.fake.waitForMessages((m) => m.text.includes('ran mute'));
  assert.equal(reply?.threadId, 7);
  const mute = h.seen.find((c) => c.name === 'mute');
  assert.deepEqual(mute, { channel: { platform: 'telegram', channelId: String(FORUM), threadId: '7' }, user: { id: '1002', name: 'bob' }, name: 'mute', text: 'k3x9p2 7d' });
});

test('telegram: a forged button payload is answered as stale and runs nothing', async () => {
  await using h = await harness();
  h.fake.sendText(PRIVATE, alice, '/check k1');
  const [card] = await h.fake.waitForMessages((m) => m.replyMarkup !== undefined);
  const before = h.seen.length;
  const id = h.fake.pressButton(card!, alice, 'x:rm -rf');
  const answer = await h.fake.waitForCall((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === id);
  assert.match(String(answer.params.text), /no longer works/);
  assert.equal(h.seen.length, before);
});

test('telegram: a long command shows progress by editing its message', async () => {
  await using h = await harness();
  h.fake.sendText(PRIVATE, alice, '/check all');
  await h.fake.waitForMessages((m) => m.text.includes('Checked 3 targets'));
  assert.equal(h.fake.callsOf('sendMessage').length, 1);
  // Three quick updates within the 1 s edit interval: the middle one is coalesced away.
  assert.equal(h.fake.callsOf('editMessageText').length, 1);
  assert.equal(h.fake.messages.length, 1);
});

test('telegram: one slow command does not hold up other chats', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seen: string[] = [];
  const dispatcher: CommandDispatcher = async (cmd, respond) => {
    seen.push(cmd.channel.channelId);
    if (cmd.channel.channelId === String(PRIVATE)) await gate;
    await respond({ title: `done ${cmd.name}` });
  };
  await using h = await harness({ dispatcher });
  h.fake.sendText(PRIVATE, alice, '/check slow');
  h.fake.sendText(GROUP, alice, '/list');
  await h.fake.waitForMessages(sentTo(GROUP));
  assert.equal(h.fake.messages.filter(sentTo(PRIVATE)).length, 0, 'the slow one is still running');
  release();
  await h.fake.waitForMessages(sentTo(PRIVATE));
});

test('telegram: a failing command is answered with a short error and logged', async () => {
  await using h = await harness();
  h.fake.sendText(PRIVATE, alice, '/settings');
  await h.fake.waitForMessages((m) => m.text.includes('that command failed'));
  assert.ok(h.logs.some((l) => l.includes('telegram.command_failed') && l.includes('boom')));
});

test('telegram: rate-limited checks get a clear reply', async () => {
  const limiter = createCheckRateLimiter({ perUser: { capacity: 1, refillMs: 60_000 }, perChannel: { capacity: 10, refillMs: 1000 } });
  await using h = await harness({ limiter });
  h.fake.sendText(PRIVATE, alice, '/check a');
  await h.fake.waitForMessages((m) => m.text.includes('<script>'));
  h.fake.sendText(PRIVATE, alice, '/check b');
  await h.fake.waitForMessages((m) => m.text.includes('too often'));
  assert.equal(h.seen.filter((c) => c.name === 'check').length, 1);
});

test('telegram: button data spelling a check in upper case or with @bot spends the check limit like a typed /check', async () => {
  const limiter = createCheckRateLimiter({ perUser: { capacity: 1, refillMs: 60_000 }, perChannel: { capacity: 10, refillMs: 1000 } });
  await using h = await harness({ limiter });
  h.fake.sendText(PRIVATE, alice, '/check a');
  const [card] = await h.fake.waitForMessages((m) => m.replyMarkup !== undefined);
  for (const data of ['/CHECK b', '/check@certwatch_test_bot c']) {
    const id = h.fake.pressButton(card!, alice, data);
    const answer = await h.fake.waitForCall((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === id);
    assert.match(String(answer.params.text), /too often/, data);
  }
  assert.equal(h.seen.length, 1);
});

test('telegram: a check button press spends one rate-limit token, like a typed /check', async () => {
  const limiter = createCheckRateLimiter({ perUser: { capacity: 2, refillMs: 60_000 }, perChannel: { capacity: 10, refillMs: 1000 } });
  await using h = await harness({ limiter });
  h.fake.sendText(PRIVATE, alice, '/check a');
  const [card] = await h.fake.waitForMessages((m) => m.replyMarkup !== undefined);
  const id = h.fake.pressButton(card!, alice, 'c:a');
  const answer = await h.fake.waitForCall((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === id);
  assert.equal(answer.params.text, undefined, 'the press is accepted');
  await h.fake.waitForMessages((m) => m.replyMarkup !== undefined, 2);
  assert.equal(h.seen.filter((c) => c.name === 'check').length, 2);
  assert.equal(h.fake.messages.filter((m) => m.text.includes('too often')).length, 0);
});

test('telegram: a 429 on send becomes a DeliveryError with retryAfterMs, and the retry delivers once', async () => {
  await using h = await harness();
  const channel = { platform: 'telegram' as const, channelId: String(PRIVATE) };
  const alert: Reply = { title: 'Expires in 3 days', status: 'critical' };
  h.fake.failNext('sendMessage', { status: 429, retryAfter: 2 });
  await assert.rejects(h.bot.sender.send(channel, alert), (err: unknown) => {
    assert.ok(err instanceof DeliveryError);
    assert.equal(err.options.retryAfterMs, 2000);
    assert.notEqual(err.options.permanent, true);
    return true;
  });
  await h.bot.sender.send(channel, alert);
  assert.equal(h.fake.messages.filter((m) => m.text.includes('Expires in 3 days')).length, 1);
});

test('telegram: a 5xx is retryable and a blocked bot or missing chat is permanent', async () => {
  await using h = await harness();
  const channel = { platform: 'telegram' as const, channelId: String(PRIVATE) };
  h.fake.failNext('sendMessage', { status: 502 });
  await assert.rejects(h.bot.sender.send(channel, { title: 'x' }), (e: unknown) => e instanceof DeliveryError && e.options.permanent !== true);
  h.fake.failNext('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user' });
  await assert.rejects(h.bot.sender.send(channel, { title: 'x' }), (e: unknown) => e instanceof DeliveryError && e.options.permanent === true);
  await assert.rejects(h.bot.sender.send({ platform: 'telegram', channelId: '999' }, { title: 'x' }), (e: unknown) => e instanceof DeliveryError && e.options.permanent === true && /chat not found/.test(e.message));
});

test('telegram: a reply call the API never answers fails within the reply deadline, named in the log, and the outbox may retry it', async () => {
  await using h = await harness({ replyTimeoutMs: 300 });
  h.fake.silence('sendMessage');
  h.fake.silence('editMessageText');
  const started = Date.now();
  h.fake.sendText(PRIVATE, alice, '/help');
  await h.fake.waitForCall((c) => c.method === 'sendMessage');
  for (;;) {
    const line = h.logs.find((l) => l.includes('telegram.reply_failed'));
    if (line !== undefined) {
      assert.match(line, /sendMessage failed: no answer within 300 ms/);
      break;
    }
    assert.ok(Date.now() - started < 5000, 'no reply_failed within 5 s (telegraf would wait 500 s)');
    await new Promise((r) => setTimeout(r, 50));
  }
  const channel = { platform: 'telegram' as const, channelId: String(PRIVATE) };
  const sendStarted = Date.now();
  await assert.rejects(h.bot.sender.send(channel, { title: 'x' }), (e: unknown) => e instanceof DeliveryError && e.options.permanent !== true && /no answer within 300 ms/.test(e.message));
  assert.ok(Date.now() - sendStarted < 3000);
});

test('telegram: polling survives a 5xx from getUpdates', async () => {
  await using h = await harness({}, (fake) => fake.failNext('getUpdates', { status: 502 }));
  h.fake.sendText(PRIVATE, alice, '/help');
  await h.fake.waitForMessages((m) => m.text.includes('ran help'), 1, 8000);
  assert.ok(h.fake.callsOf('getUpdates').length >= 2);
  assert.ok(h.logs.some((l) => l.includes('telegram.poll_failed') && l.includes('502')));
});

test('telegram: webhook mode accepts updates with the secret token and refuses others with 403', async () => {
  const fake = await FakeTelegram.start();
  fake.addChat({ id: PRIVATE, type: 'private' });
  const seen: IncomingCommand[] = [];
  const bot = await startTelegram({
    token: fake.token,
    apiRoot: fake.apiRoot,
    dispatcher: fakeDispatcher(seen),
    logger: pino({ level: 'silent' }),
    allowedChats: [String(PRIVATE)],
    webhook: { url: 'https://bot.example.com/tg/hook', secretToken: 's3cret-token', port: 0, host: '127.0.0.1' },
  });
  try {
    assert.deepEqual(fake.webhook, { url: 'https://bot.example.com/tg/hook', secretToken: 's3cret-token' });
    assert.equal(fake.callsOf('getUpdates').length, 0);
    const url = `http://127.0.0.1:${bot.webhookPort}/tg/hook`;
    assert.equal(await postWebhook(url, fake.messageUpdate(PRIVATE, alice, '/add bad.example.com')), 403);
    assert.equal(await postWebhook(url, fake.messageUpdate(PRIVATE, alice, '/add bad.example.com'), 'wrong'), 403);
    assert.equal(await postWebhook(url, fake.messageUpdate(PRIVATE, alice, '/add good.example.com'), 's3cret-token'), 200);
    await fake.waitForMessages((m) => m.text.includes('ran add'));
    assert.deepEqual(
      seen.map((c) => c.text),
      ['good.example.com'],
    );
  } finally {
    await bot.stop();
    await fake.close();
  }
});
