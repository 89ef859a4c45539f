import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandHelpReply, slackUsage, telegramCommandMenu } from '../../src/commands/help.ts';
import { commands } from '../../src/commands/registry.ts';
import { harness } from './fakes.ts';

test('help: lists every registered command with its usage and summary', async () => {
  const h = harness();
  const reply = await h.one('help');
  assert.deepEqual(
    reply.items,
    commands.map((c) => `/${c.usage} — ${c.summary}`),
  );
  assert.deepEqual(
    commands.map((c) => c.name),
    ['add', 'list', 'check', 'remove', 'mute', 'unmute', 'settings', 'help'],
  );
});

test('help: explains one command, with or without its slash', async () => {
  const h = harness();
  const add = commands.find((c) => c.name === 'add')!;
  assert.deepEqual(await h.one('help add'), commandHelpReply(add, '/'));
  assert.deepEqual(await h.one('help /add'), commandHelpReply(add, '/'));
  const unknown = await h.one('help frobnicate');
  assert.equal(unknown.status, 'error');
  assert.match(unknown.title, /No command "frobnicate"/);
});

test('help: Slack users see the /cert prefix', async () => {
  const h = harness();
  const reply = await h.one('help', { platform: 'slack', channelId: 'C123' });
  assert.ok(reply.items?.every((i) => i.startsWith('/cert ')));
});

test("help: Telegram's command menu follows Bot API limits", () => {
  const menu = telegramCommandMenu(commands);
  assert.equal(menu.length, commands.length);
  for (const entry of menu) {
    assert.match(entry.command, /^[a-z0-9_]{1,32}$/);
    assert.ok(entry.description.length >= 1 && entry.description.length <= 256);
  }
});

test("help: Slack's usage text names every command under the slash command", () => {
  const usage = slackUsage(commands, '/cert');
  assert.equal(usage.text.split('\n').length, commands.length);
  assert.match(usage.text, /^\/cert add <target>/);
  assert.match(usage.hint, /^add \| list \| check/);
});

test('help: an over-long command name is answered in words, not with a schema message', async () => {
  const reply = await harness().one(`help ${'x'.repeat(50)}`);
  assert.equal(reply.status, 'error');
  assert.equal(reply.title, 'no command has a name that long');
  assert.match(reply.text?.join(' ') ?? '', /Usage: \/help \[command\]/);
});
