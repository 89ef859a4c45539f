import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingCommand } from '../../src/chat/types.ts';
import { createAccessControl } from '../../src/security/access.ts';
import { createCommandGuard } from '../../src/security/guard.ts';
import { createCheckRateLimiter } from '../../src/security/rate-limit.ts';

const cmd = (name: string, text = '', channelId = 'C1', userId = 'U1'): IncomingCommand => ({
  channel: { platform: 'telegram', channelId },
  user: { id: userId },
  name,
  text,
});

test('access: empty allow-lists admit everyone, set lists admit only their members', () => {
  assert.equal(createAccessControl()({ channelId: 'x', userId: 'y' }), true);
  assert.equal(createAccessControl({ channels: [' '] })({ channelId: 'x', userId: 'y' }), true);
  const only = createAccessControl({ channels: ['-100123', ' 42 '], users: ['U1'] });
  assert.equal(only({ channelId: '42', userId: 'U1' }), true);
  assert.equal(only({ channelId: '-100123', userId: 'U2' }), false);
  assert.equal(only({ channelId: '43', userId: 'U1' }), false);
});

test('guard: refuses a stranger chat with a short ephemeral reply', () => {
  const guard = createCommandGuard({ access: createAccessControl({ channels: ['C1'] }) });
  assert.equal(guard(cmd('list')), null);
  const refusal = guard(cmd('list', '', 'C9'));
  assert.equal(refusal?.status, 'error');
  assert.equal(refusal?.ephemeral, true);
  assert.match(refusal?.title ?? '', /not enabled/);
});

test('guard: refuses over-long arguments before dispatch', () => {
  const guard = createCommandGuard({ maxArgLength: 10 });
  assert.equal(guard(cmd('add', 'a'.repeat(10))), null);
  assert.match(guard(cmd('add', 'a'.repeat(11)))?.title ?? '', /too long/);
});

test('guard: rate-limits on-demand checks only, with a clear retry time', () => {
  const guard = createCommandGuard({
    limiter: createCheckRateLimiter({ perUser: { capacity: 1, refillMs: 90_000 }, perChannel: { capacity: 5, refillMs: 1000 }, now: () => 0 }),
  });
  assert.equal(guard(cmd('check', 'all')), null);
  assert.match(guard(cmd('check', 'all'))?.title ?? '', /too often\. Try again in 90 s/);
  assert.equal(guard(cmd('list')), null, 'list is not rate-limited');
  assert.equal(guard(cmd('check', 'x', 'C1', 'U2')), null, 'another user still may');
});

test('access: denyWhenEmpty refuses every channel until one is listed, and "*" allows all', () => {
  const closed = createAccessControl({ channels: [], denyWhenEmpty: true });
  assert.equal(closed({ channelId: '-100123', userId: 'u' }), false);
  const listed = createAccessControl({ channels: ['-100123'], denyWhenEmpty: true });
  assert.equal(listed({ channelId: '-100123', userId: 'u' }), true);
  assert.equal(listed({ channelId: '42', userId: 'u' }), false);
  const open = createAccessControl({ channels: ['*'], denyWhenEmpty: true });
  assert.equal(open({ channelId: '42', userId: 'u' }), true);
});

test('guard: a refusal may name the refused channel', () => {
  const guard = createCommandGuard({
    access: createAccessControl({ channels: [], denyWhenEmpty: true }),
    refusal: (c) => `chat ${c.channel.channelId} is not allowed`,
  });
  assert.equal(guard(cmd('list', '', '-100777'))?.title, 'chat -100777 is not allowed');
});

test('guard: a check spelled the way the dispatcher also accepts (/check, CHECK, check@bot) spends the same rate-limit tokens', () => {
  const guard = createCommandGuard({
    limiter: createCheckRateLimiter({ perUser: { capacity: 1, refillMs: 90_000 }, perChannel: { capacity: 50, refillMs: 1000 }, now: () => 0 }),
  });
  assert.equal(guard(cmd('check', 'a')), null);
  for (const name of ['/check', 'CHECK', 'check@certwatch_bot', ' Check ', '/ADD@x']) {
    assert.match(guard(cmd(name, 'b'))?.title ?? '', /too often/, name);
  }
});
