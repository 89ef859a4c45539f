import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_SIZE } from '../../commands/list.ts';
import type { Reply } from '../../src/chat/types.ts';
import { createDispatcher } from '../../src/commands/dispatcher.ts';
import { CHANNEL, OTHER, harness } from './fakes.ts';

test('list: shows only this channel, soonest expiry first, with status and days left', async () => {
  const h = harness();
  h.checks.outcomes.set('late.example.com', [{ daysLeft: 80 }]);
  h.checks.outcomes.set('soon.example.com', [{ daysLeft: 5, problems: [{ code: 'EXPIRES_SOON', severity: 'critical', message: 'expires in 5 days' }] }]);
  h.checks.outcomes.set('mid.example.com', [{ daysLeft: 20, problems: [{ code: 'EXPIRES_SOON', severity: 'warning', message: 'expires in 20 days' }] }]);
  h.checks.outcomes.set('down.example.com', [{ error: { code: 'CONNECT_TIMEOUT', message: 'no answer' } }]);
  for (const host of ['late', 'down', 'soon', 'mid']) await h.one(`add ${host}.example.com`);
  await h.one('add elsewhere.example.com', OTHER);

  const reply = await h.one('list');
  assert.equal(reply.title, '4 targets in this channel: 1 critical, 1 error, 1 warning, 1 ok');
  assert.equal(reply.status, 'info', 'the listing succeeded: its header is not an [ERROR]; each line has its own status');
  const items = reply.items ?? [];
  assert.equal(items.length, 4);
  assert.match(items[0]!, /^\[CRITICAL\] \S+ soon\.example\.com:443 \(https\) — critical, 5 days left/);
  assert.match(items[1]!, /^\[WARNING\] \S+ mid\.example\.com:443 .*20 days left/);
  assert.match(items[2]!, /^\[OK\] \S+ late\.example\.com:443 .*80 days left/);
  assert.match(items[3]!, /^\[ERROR\] \S+ down\.example\.com:443 .*error: CONNECT_TIMEOUT/);
  assert.ok(!items.some((i) => i.includes('elsewhere')));
});

test('list: paginates and points to the next page', async () => {
  const h = harness({ maxTargetsPerChannel: 100 });
  const n = PAGE_SIZE + 3;
  for (let i = 0; i < n; i++) {
    h.checks.outcomes.set(`h${i}.example.com`, [{ daysLeft: 10 + i }]);
    await h.one(`add h${i}.example.com`);
  }
  const first = await h.one('list');
  assert.equal(first.items?.length, PAGE_SIZE);
  assert.match(first.items![0]!, /h0\.example\.com/);
  assert.match(first.text?.join(' ') ?? '', /Page 1 of 2\. \/list 2 shows more/);
  const second = await h.one('list 2');
  assert.equal(second.items?.length, 3);
  assert.match(second.items![2]!, new RegExp(`h${n - 1}\\.example\\.com`));
  const beyond = await h.one('list 3');
  assert.equal(beyond.status, 'error');
  assert.match(beyond.title, /2 pages/);
  const bad = await h.one('list two');
  assert.match(bad.title, /page is a number/);
});

test('list: an empty channel gets a hint how to add a target', async () => {
  const h = harness();
  const reply = await h.one('list');
  assert.match(reply.title, /No targets/);
  assert.match(reply.text?.join(' ') ?? '', /\/add host:port/);
});

test('list: shows mutes that are still running', async () => {
  const h = harness();
  await h.one('add a.example.com');
  const [record] = await h.repo.listTargets(CHANNEL);
  await h.one(`mute ${record!.id} 2d`);
  const reply = await h.one('list');
  assert.match(reply.items![0]!, /muted until 2025-06-03 12:00 UTC/);
});

test('list: works with a repository that cannot batch reads of latest results', async () => {
  const h = harness();
  h.checks.outcomes.set('late.example.com', [{ daysLeft: 80 }]);
  h.checks.outcomes.set('soon.example.com', [{ daysLeft: 8 }]);
  await h.one('add late.example.com');
  await h.one('add soon.example.com');
  // Only the interface's required methods: no getLatestMany.
  const plain = Object.fromEntries(
    (['addTarget', 'updateTarget', 'getTarget', 'removeTarget', 'listTargets', 'findDuplicate', 'getLatest', 'getChannelSettings', 'setChannelSettings'] as const).map((m) => [m, h.repo[m].bind(h.repo)]),
  );
  const services = { ...h.services, repo: plain as unknown as typeof h.services.repo };
  assert.equal(services.repo.getLatestMany, undefined);
  const dispatch = createDispatcher({ services, log: h.log });
  const replies: Reply[] = [];
  await dispatch({ channel: CHANNEL, user: { id: 'u1' }, name: 'list', text: '' }, async (r) => void replies.push(r));
  assert.match(replies[0]!.items![0]!, /soon\.example\.com.*8 days left/);
  assert.match(replies[0]!.items![1]!, /late\.example\.com.*80 days left/);
});
