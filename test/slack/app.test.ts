import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startSlack, type SlackAdapter, type SlackOptions } from '../../src/chat/slack/app.ts';
import type { CommandDispatcher, IncomingCommand } from '../../src/chat/types.ts';
import { createCheckRateLimiter } from '../../src/security/rate-limit.ts';
import {
  BOT_TOKEN,
  FakeSlack,
  SIGNING_SECRET,
  buttonPayload,
  interactionBody,
  postSigned,
  signedHeaders,
  slashCommandBody,
  type SlackCall,
} from '../helpers/fake-slack.ts';

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
        title: '<!channel> <script>&',
        status: 'critical',
        fields: [{ label: 'Issuer', value: 'CN=<https://evil.example|click> & Co' }],
        buttons: [
          { label: 'Check now', command: `check ${cmd.text}`, style: 'primary' },
          { label: 'Mute 7d', command: `mute ${cmd.text} 7d` },
          { label: 'Remove', command: `remove ${cmd.text}`, style: 'danger' },
        ],
      });
      return;
    }
    if (cmd.name === 'settings') throw new Error('boom');
    await respond({ title: `ran ${cmd.name}`, text: [cmd.text === '' ? '(no arguments)' : cmd.text], status: 'ok' });
  };
}

interface Harness {
  fake: FakeSlack;
  slack: SlackAdapter;
  seen: IncomingCommand[];
  logs: string[];
  url: string;
  slash(text: string, extra?: { channel_id?: string; user_id?: string }): Promise<{ status: number; responseUrl: string }>;
  responses(responseUrl: string): SlackCall[];
  [Symbol.asyncDispose](): Promise<void>;
}

async function harness(extra: Partial<SlackOptions> = {}): Promise<Harness> {
  const fake = await FakeSlack.start();
  const seen: IncomingCommand[] = [];
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, cb) => (logs.push(String(chunk)), cb()) }));
  const slack = await startSlack({
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    apiUrl: fake.apiUrl,
    port: 0,
    host: '127.0.0.1',
    dispatcher: fakeDispatcher(seen),
    logger,
    interactiveRetry: { retries: 0 },
    progressIntervalMs: 0,
    ...extra,
  });
  const url = `http://127.0.0.1:${slack.port}/slack/events`;
  return {
    fake,
    slack,
    seen,
    logs,
    url,
    async slash(text, more = {}) {
      const responseUrl = fake.newResponseUrl();
      const body = slashCommandBody({ text, response_url: responseUrl, ...more });
      const { status } = await postSigned(url, body, signedHeaders(body));
      return { status, responseUrl };
    },
    responses(responseUrl) {
      return fake.calls.filter((c) => c.kind === 'response_url' && responseUrl.endsWith(`/response/${c.method}`));
    },
    async [Symbol.asyncDispose]() {
      await slack.stop();
      await fake.close();
      for (const line of logs) assert.ok(!line.includes('FAKEbotTOKEN') && !line.includes(SIGNING_SECRET), `a secret leaked into a log line: ${line}`);
    },
  };
}

const blockText = (params: Record<string, unknown>): string => JSON.stringify([params.blocks, params.attachments]);

test('slack: every subcommand of /cert is acknowledged, dispatched and answered through response_url', async () => {
  await using h = await harness();
  const lines = ['add mail.example.com:587', 'list', 'remove k3x9p2', 'mute k3x9p2 7d', 'unmute k3x9p2', 'help'];
  for (const line of lines) {
    const { status, responseUrl } = await h.slash(line);
    assert.equal(status, 200);
    const [name = '', ...args] = line.split(' ');
    const [reply] = await h.fake.waitFor(() => h.responses(responseUrl).length > 0 && h.responses(responseUrl));
    assert.equal(reply?.params.response_type, 'in_channel');
    assert.equal(reply?.params.replace_original, false);
    assert.match(blockText(reply!.params), new RegExp(`ran ${name}`));
    const cmd = h.seen.at(-1);
    assert.deepEqual(cmd, { channel: { platform: 'slack', channelId: 'C0GENERAL' }, user: { id: 'U0ALICE', name: 'alice' }, name, text: args.join(' ') });
  }
});

test('slack: an empty /cert runs help', async () => {
  await using h = await harness();
  const { responseUrl } = await h.slash('  ');
  await h.fake.waitFor(() => h.responses(responseUrl).length > 0);
  assert.equal(h.seen[0]?.name, 'help');
});

test('slack: a request with a bad signature gets 401 and the handler does not run', async () => {
  await using h = await harness();
  const body = slashCommandBody({ text: 'add evil.example.com', response_url: h.fake.newResponseUrl() });
  assert.equal((await postSigned(h.url, body, signedHeaders(body, 'wrong-secret-0000000'))).status, 401);
  assert.equal((await postSigned(h.url, body, {})).status, 401);
  const stale = signedHeaders(body, SIGNING_SECRET, Math.floor(Date.now() / 1000) - 600);
  assert.equal((await postSigned(h.url, body, stale)).status, 401);
  const tampered = body.replace('evil', 'evil2');
  assert.equal((await postSigned(h.url, tampered, signedHeaders(body))).status, 401);
  // A valid request afterwards proves the handler is live and that the refused ones never reached it.
  const { responseUrl } = await h.slash('list');
  await h.fake.waitFor(() => h.responses(responseUrl).length > 0);
  assert.deepEqual(
    h.seen.map((c) => c.name),
    ['list'],
  );
});

test('slack: server and user text is escaped so it cannot mention, link or inject markup', async () => {
  await using h = await harness();
  const { responseUrl } = await h.slash('check k3x9p2');
  const [reply] = await h.fake.waitFor(() => h.responses(responseUrl).length > 0 && h.responses(responseUrl));
  const rendered = blockText(reply!.params);
  assert.ok(rendered.includes('&lt;!channel&gt; &lt;script&gt;&amp;'), rendered);
  assert.ok(rendered.includes('CN=&lt;https://evil.example|click&gt; &amp; Co'));
  assert.ok(!rendered.includes('<!channel>') && !rendered.includes('<https://evil'));
  assert.ok(!String(reply!.params.text).includes('<'));
  assert.match(rendered, /"color":"#e01e5a"/);
  assert.match(rendered, /:red_circle:/);
});

test('slack: check all shows progress by replacing its message, within the five response_url uses', async () => {
  await using h = await harness();
  const { responseUrl } = await h.slash('check all');
  const posts = await h.fake.waitFor(() => {
    const r = h.responses(responseUrl);
    return r.some((c) => blockText(c.params).includes('Checked 3 targets')) && r;
  });
  assert.equal(posts.length, 3);
  assert.deepEqual(
    posts.map((p) => p.params.replace_original),
    [false, true, true],
  );
});

test('slack: a button press runs its command in the channel and answers there', async () => {
  await using h = await harness();
  const { responseUrl } = await h.slash('check k3x9p2');
  const [card] = await h.fake.waitFor(() => h.responses(responseUrl).length > 0 && h.responses(responseUrl));
  const attachments = card!.params.attachments as { blocks: { type: string; elements?: { action_id: string; value: string; style?: string }[] }[] }[];
  const actions = attachments[0]!.blocks.find((b) => b.type === 'actions')!.elements!;
  assert.deepEqual(
    actions.map((a) => [a.value, a.style]),
    [
      ['check k3x9p2', 'primary'],
      ['mute k3x9p2 7d', undefined],
      ['remove k3x9p2', 'danger'],
    ],
  );
  const mute = actions[1]!;
  const message = { channel: 'C0GENERAL', ts: '1700000000.000001', params: { text: 'card' } };
  const body = interactionBody(buttonPayload({ message, actionId: mute.action_id, value: mute.value, responseUrl: h.fake.newResponseUrl() }));
  assert.equal((await postSigned(h.url, body, signedHeaders(body))).status, 200);
  const posted = await h.fake.waitFor(() => h.fake.messages.find((m) => blockText(m.params).includes('ran mute')));
  assert.equal(posted.channel, 'C0GENERAL');
  assert.deepEqual(h.seen.at(-1), { channel: { platform: 'slack', channelId: 'C0GENERAL' }, user: { id: 'U0BOB', name: 'bob' }, name: 'mute', text: 'k3x9p2 7d' });
});

test('slack: a button press in a channel the bot has not joined answers through response_url', async () => {
  await using h = await harness();
  const responseUrl = h.fake.newResponseUrl();
  const message = { channel: 'C0ELSEWHERE', ts: '1700000000.000002', params: { text: 'card' } };
  const body = interactionBody(buttonPayload({ message, actionId: 'certwatch_run_0', value: 'check k1', responseUrl }));
  assert.equal((await postSigned(h.url, body, signedHeaders(body))).status, 200);
  const [reply] = await h.fake.waitFor(() => h.responses(responseUrl).length > 0 && h.responses(responseUrl));
  assert.equal(reply?.params.replace_original, false);
  assert.equal(h.fake.callsOf('chat.postMessage').length, 1, 'tried the Web API first');
});

test('slack: an app mention runs the command and replies in its thread', async () => {
  await using h = await harness();
  const event = {
    token: 'x',
    team_id: 'T111',
    api_app_id: 'A111',
    type: 'event_callback',
    event_id: 'Ev1',
    event_time: Math.floor(Date.now() / 1000),
    event: { type: 'app_mention', user: 'U0ALICE', text: '<@U0BOT> add imap.example.com:143', ts: '1700000001.000100', thread_ts: '1700000000.000900', channel: 'C0OPS', event_ts: '1700000001.000100' },
  };
  const body = JSON.stringify(event);
  const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(body) }, body });
  assert.equal(res.status, 200);
  const posted = await h.fake.waitFor(() => h.fake.messages.find((m) => blockText(m.params).includes('ran add')));
  assert.equal(posted.channel, 'C0OPS');
  assert.equal(posted.threadTs, '1700000000.000900');
  assert.deepEqual(h.seen[0], { channel: { platform: 'slack', channelId: 'C0OPS', threadId: '1700000000.000900' }, user: { id: 'U0ALICE' }, name: 'add', text: 'imap.example.com:143' });
});

test('slack: users outside the allow-lists get an ephemeral refusal and nothing is dispatched', async () => {
  await using h = await harness({ allowedChannels: ['C0GENERAL'], allowedUsers: ['U0ALICE'] });
  const a = await h.slash('add x.example.com', { channel_id: 'C0OTHER' });
  const b = await h.slash('add x.example.com', { user_id: 'U0MALLORY' });
  for (const { responseUrl } of [a, b]) {
    const [reply] = await h.fake.waitFor(() => h.responses(responseUrl).length > 0 && h.responses(responseUrl));
    assert.equal(reply?.params.response_type, 'ephemeral');
    assert.match(blockText(reply!.params), /not enabled/);
  }
  assert.equal(h.seen.length, 0);
});

test('slack: on-demand checks are rate-limited per user with a clear reply', async () => {
  const limiter = createCheckRateLimiter({ perUser: { capacity: 1, refillMs: 60_000 }, perChannel: { capacity: 10, refillMs: 1000 } });
  await using h = await harness({ limiter });
  const first = await h.slash('check a');
  await h.fake.waitFor(() => h.responses(first.responseUrl).length > 0);
  const second = await h.slash('check b');
  const [reply] = await h.fake.waitFor(() => h.responses(second.responseUrl).length > 0 && h.responses(second.responseUrl));
  assert.match(blockText(reply!.params), /too often/);
  assert.equal(reply?.params.response_type, 'ephemeral');
  assert.equal(h.seen.length, 1);
});

test('slack: the per-user check limit also holds for "check@x" and "//check", which the dispatcher runs as check', async () => {
  const limiter = createCheckRateLimiter({ perUser: { capacity: 1, refillMs: 60_000 }, perChannel: { capacity: 10, refillMs: 1000 } });
  await using h = await harness({ limiter });
  const first = await h.slash('check a');
  await h.fake.waitFor(() => h.responses(first.responseUrl).length > 0);
  for (const spelling of ['check@x b', '//check c', 'CHECK d']) {
    const next = await h.slash(spelling);
    const [reply] = await h.fake.waitFor(() => h.responses(next.responseUrl).length > 0 && h.responses(next.responseUrl));
    assert.match(blockText(reply!.params), /too often/, spelling);
  }
  assert.equal(h.seen.length, 1);
});

test('slack: a failing command is answered with a short error and logged', async () => {
  await using h = await harness();
  const { responseUrl } = await h.slash('settings');
  const [reply] = await h.fake.waitFor(() => h.responses(responseUrl).length > 0 && h.responses(responseUrl));
  assert.match(blockText(reply!.params), /that command failed/);
  assert.ok(h.logs.some((l) => l.includes('slack.command_failed') && l.includes('boom')));
});

test('slack: over-long arguments are refused before dispatch', async () => {
  await using h = await harness({ maxArgLength: 50 });
  const { responseUrl } = await h.slash(`add ${'a'.repeat(60)}.example.com`);
  const [reply] = await h.fake.waitFor(() => h.responses(responseUrl).length > 0 && h.responses(responseUrl));
  assert.match(blockText(reply!.params), /too long/);
  assert.equal(h.seen.length, 0);
});
