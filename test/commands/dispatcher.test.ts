import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { createDispatcher } from '../../src/commands/dispatcher.ts';
import { defineCommand, UserError, type CommandDefinition } from '../../src/commands/types.ts';
import type { Reply } from '../../src/chat/types.ts';
import { CHANNEL, harness, replyText } from './fakes.ts';

function withCommands(extra: CommandDefinition[]) {
  const h = harness();
  const dispatch = createDispatcher({ services: h.services, log: h.log, commands: extra });
  const run = async (name: string, text = '', respond?: (r: Reply) => Promise<void>): Promise<Reply[]> => {
    const replies: Reply[] = [];
    await dispatch({ channel: CHANNEL, user: { id: 'u1' }, name, text }, respond ?? (async (r) => void replies.push(r)));
    return replies;
  };
  return { ...h, run };
}

const boom = defineCommand({
  name: 'boom',
  usage: 'boom',
  summary: 'throws',
  args: z.object({ positional: z.array(z.string()), options: z.object({}) }),
  async run() {
    throw new Error('database password=hunter2 at /srv/app/x.ts:10');
  },
});

test('dispatcher: an unknown command is answered with a pointer to help', async () => {
  const h = harness();
  const [reply, ...rest] = await h.run('frobnicate now');
  assert.equal(rest.length, 0);
  assert.equal(reply!.status, 'error');
  assert.equal(reply!.title, 'Unknown command "frobnicate"');
  assert.match(replyText(reply!), /\/help lists the commands/);
});

test('dispatcher: accepts slashes, @botname suffixes and upper case in the name', async () => {
  const h = harness();
  for (const name of ['/help', 'help@certwatch_bot', 'HELP']) {
    const [reply] = await h.run(name);
    assert.match(reply!.title, /certwatch/, name);
  }
});

test('dispatcher: a throwing command is answered briefly and logged with the detail, never crashing', async () => {
  const h = withCommands([boom]);
  const replies = await h.run('boom');
  assert.equal(replies.length, 1);
  const text = replyText(replies[0]!);
  assert.match(text, /Something went wrong running \/boom/);
  assert.doesNotMatch(text, /hunter2|\/srv\/app|at .*:\d+/);
  const ref = /reference ([0-9a-f]{8})/.exec(text)?.[1];
  const logged = h.logs.find((l) => l.level === 'error' && l.obj.event === 'command_failed');
  assert.ok(logged);
  assert.equal(logged.obj.ref, ref);
  assert.match(String(logged.obj.err), /hunter2/);
});

test('dispatcher: a UserError is answered with its own message', async () => {
  const refuse = defineCommand({
    name: 'refuse',
    usage: 'refuse <x>',
    summary: 'refuses',
    args: z.object({ positional: z.array(z.string()), options: z.object({}) }),
    async run() {
      throw new UserError('not today', true);
    },
  });
  const h = withCommands([refuse]);
  const [reply] = await h.run('refuse');
  assert.equal(reply!.title, 'not today');
  assert.deepEqual(reply!.text, ['Usage: /refuse <x>']);
});

test('dispatcher: never rejects when the platform fails to deliver a reply', async () => {
  const h = withCommands([boom]);
  let calls = 0;
  await h.run('boom', '', async () => {
    calls++;
    throw new Error('HTTP 500 from the chat API');
  });
  assert.equal(calls, 1);
  assert.ok(h.logs.some((l) => l.obj.event === 'reply_failed'));
  const unknown = await h.run('nope', '', async () => {
    throw new Error('down');
  });
  assert.deepEqual(unknown, []);
});

test('dispatcher: logs one command event with the outcome', async () => {
  const h = harness();
  await h.run('list');
  await h.run('mute');
  const events = h.logs.filter((l) => l.obj.event === 'command').map((l) => [l.obj.command, l.obj.outcome]);
  assert.deepEqual(events, [
    ['list', 'ok'],
    ['mute', 'bad_args'],
  ]);
});

test('dispatcher: an unterminated quote gets the usage line, not an error', async () => {
  const h = harness();
  const [reply] = await h.run('add "mail.example.com');
  assert.match(reply!.title, /missing closing quote/);
  assert.match(replyText(reply!), /Usage: \/add/);
});

test('dispatcher: a password typed into a target is never echoed by any command', async () => {
  const h = harness();
  // Refused before any lookup: the mail service is never reached.
  h.services.mail = { checkDomain: async () => assert.fail('a refused domain must not be checked') };
  const lines = [
    'add https://admin:hunter2@db.example.com',
    'add https://admin:hunter2@db.example.com/path',
    'add admin:hunter2@db.example.com',
    'add admin:hunter2@db.example.com:5432',
    'check https://admin:hunter2@db.example.com',
    'check mail admin:hunter2@example.com',
    'remove https://admin:hunter2@db.example.com',
    'mute https://admin:hunter2@db.example.com 7d',
    'unmute admin:hunter2@db.example.com:5432',
  ];
  for (const line of lines) {
    const [reply, ...rest] = await h.run(line);
    assert.equal(rest.length, 0, line);
    assert.equal(reply!.status, 'error', line);
    assert.doesNotMatch(replyText(reply!), /hunter2/, line);
  }
  assert.match((await h.one('add admin:hunter2@db.example.com')).title, /user names and passwords do not belong in a target/);
  assert.doesNotMatch(JSON.stringify(h.logs), /hunter2/);
  assert.deepEqual(await h.repo.listTargets(CHANNEL), []);
});

test('dispatcher: control characters and bidi overrides a user types are not echoed in the answer', async () => {
  const h = harness();
  await h.one('add a.example.com');
  // U+202E makes the rest of the bot's line read right to left: "No target" could be made to
  // look like another message. NUL, BEL and ESC are never wanted in a chat message either.
  const evil = '\u202e\u0000\u0007\u001b[2J';
  const lines = [`remove x${evil}`, `mute x${evil} 7d`, `mute a.example.com 7d${evil}`, `unmute ${evil}`, `add a${evil}.example.com`, `check x${evil}:443`, `help x${evil}`, `settings x${evil}`, `list 1${evil}`];
  for (const line of lines) {
    const [reply, ...rest] = await h.run(line);
    assert.equal(rest.length, 0, line);
    assert.equal(reply!.status, 'error', line);
    assert.doesNotMatch(replyText(reply!), /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, JSON.stringify(line));
  }
  const [unknown] = await h.run(`x${evil}`);
  assert.doesNotMatch(unknown!.title, /[\u0000-\u001f\u202e]/);
});
