import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMrkdwn, renderMessage } from '../../src/chat/slack/blocks.ts';
import { splitCommandLine, stripMention } from '../../src/chat/slack/parse.ts';
import { Progress } from '../../src/chat/progress.ts';
import type { Reply } from '../../src/chat/types.ts';

test('slack mrkdwn: escapes exactly &, < and >', () => {
  assert.equal(escapeMrkdwn('<!here> & <@U1> > *b*'), '&lt;!here&gt; &amp; &lt;@U1&gt; &gt; *b*');
});

test('slack blocks: a reply renders to a title, a coloured attachment, fields, items and buttons', () => {
  const msg = renderMessage({
    title: 'mail.example.com:587',
    status: 'warning',
    text: ['Expires soon'],
    fields: [{ label: 'Days left', value: '12' }],
    items: ['one', 'two'],
    buttons: [{ label: 'Check now', command: 'check k1', style: 'primary' }],
  });
  assert.equal(msg.text, 'mail.example.com:587');
  assert.deepEqual(msg.blocks, [{ type: 'section', text: { type: 'mrkdwn', text: ':warning: *mail.example.com:587*', verbatim: true } }]);
  const [att] = msg.attachments;
  assert.equal(att?.color, '#ecb22e');
  const types = (att?.blocks ?? []).map((b) => b.type);
  assert.deepEqual(types, ['section', 'section', 'section', 'context', 'actions']);
  assert.ok(JSON.stringify(att).includes('*Days left*\\n12'));
  assert.ok(JSON.stringify(att).includes('• one\\n• two'));
});

test('slack blocks: long lists stay within Block Kit limits (3000 per section, 50 blocks)', () => {
  const items = Array.from({ length: 3000 }, (_, i) => `target-${i}.example.com:993 imap implicit TLS 45 days`);
  const fields = Array.from({ length: 25 }, (_, i) => ({ label: `f${i}`, value: 'v'.repeat(3000) }));
  const msg = renderMessage({ title: 't'.repeat(5000), items, fields, buttons: [{ label: 'b'.repeat(100), command: 'list' }] });
  const blocks = [...msg.blocks, ...(msg.attachments[0]?.blocks ?? [])];
  assert.ok(blocks.length <= 50, `${blocks.length} blocks`);
  for (const b of blocks) {
    const t = (b as { text?: { text: string } }).text?.text;
    if (t !== undefined) assert.ok(t.length <= 3000);
    const f = (b as { fields?: { text: string }[] }).fields ?? [];
    assert.ok(f.length <= 10);
    for (const x of f) assert.ok(x.text.length <= 2000);
  }
  assert.match(JSON.stringify(blocks), /more sections not shown/);
  const actions = blocks.find((b) => b.type === 'actions') as { elements: { text: { text: string } }[] } | undefined;
  assert.ok((actions?.elements[0]?.text.text.length ?? 0) <= 75);
});

test('slack parse: splits subcommand and arguments, strips the bot mention', () => {
  assert.deepEqual(splitCommandLine('  Add  mail.example.com:587 '), { name: 'add', text: 'mail.example.com:587' });
  assert.deepEqual(splitCommandLine(''), { name: 'help', text: '' });
  assert.deepEqual(splitCommandLine('/list'), { name: 'list', text: '' });
  assert.equal(stripMention('<@U0BOT> check all', 'U0BOT'), 'check all');
  assert.equal(stripMention('<@U0BOT|certwatch> list', 'U0BOT'), 'list');
  assert.equal(stripMention('hey <@U0BOT> list', undefined), 'hey list');
});

test('slack parse: the entities Slack sends for &, < and > are read back as typed', () => {
  // A user typing /cert add relay.example.com "R&D <edge>" arrives as "R&amp;D &lt;edge&gt;";
  // kept as is, the label was stored and shown as "R&amp;D &lt;edge&gt;" in every reply and alert.
  assert.deepEqual(splitCommandLine('add relay.example.com "R&amp;D &lt;edge&gt;"'), { name: 'add', text: 'relay.example.com "R&D <edge>"' });
  assert.deepEqual(splitCommandLine('add x "a &amp;lt; b"'), { name: 'add', text: 'x "a &lt; b"' });
  assert.deepEqual(splitCommandLine('check <https://x.example.com|x.example.com>'), { name: 'check', text: '<https://x.example.com|x.example.com>' });
});

test('slack progress: the first reply posts at once, quick updates are coalesced and the last one is flushed', async () => {
  let now = 0;
  const log: string[] = [];
  const p = new Progress({ post: async (r) => void log.push(`post ${r.title}`), update: async (r) => void log.push(`update ${r.title}`) }, { minIntervalMs: 1000, now: () => now });
  const r = (title: string): Reply => ({ title });
  await p.respond(r('0/4'));
  now = 100;
  await p.respond(r('1/4'));
  now = 1200;
  await p.respond(r('2/4'));
  now = 1300;
  await p.respond(r('3/4'));
  await p.respond(r('done'));
  await p.finish();
  assert.deepEqual(log, ['post 0/4', 'update 2/4', 'update done']);
});

test('slack progress: never exceeds maxUses and keeps the last use for the final state', async () => {
  let now = 0;
  const log: string[] = [];
  const p = new Progress({ post: async (r) => void log.push(r.title), update: async (r) => void log.push(r.title) }, { minIntervalMs: 0, maxUses: 3, now: () => (now += 10) });
  for (let i = 0; i < 10; i++) await p.respond({ title: `step ${i}` });
  await p.finish();
  assert.deepEqual(log, ['step 0', 'step 1', 'step 9']);
});
