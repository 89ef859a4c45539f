import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHANNEL, OTHER, field, harness } from './fakes.ts';

test('settings: shows the defaults for a channel without settings', async () => {
  const h = harness();
  const reply = await h.one('settings');
  assert.equal(field(reply, 'Thresholds'), '30, 14, 7, 3, 1 days');
  assert.equal(field(reply, 'Fail after'), '2 consecutive failed checks');
  assert.equal(field(reply, 'Digest'), 'off');
});

test('settings: changes thresholds, failafter and digest for this channel only', async () => {
  const h = harness();
  assert.equal(field(await h.one('settings thresholds 7,30,14'), 'Thresholds'), '30, 14, 7 days');
  assert.equal(field(await h.one('settings thresholds 21 3'), 'Thresholds'), '21, 3 days');
  assert.equal(field(await h.one('settings failafter 3'), 'Fail after'), '3 consecutive failed checks');
  assert.equal(field(await h.one('settings digest on'), 'Digest'), 'on');
  assert.deepEqual(await h.repo.getChannelSettings(CHANNEL), { thresholds: [21, 3], failAfter: 3, digest: true });
  assert.deepEqual((await h.repo.getChannelSettings(OTHER)).thresholds, [30, 14, 7, 3, 1]);
});

test('settings: rejects invalid values and leaves the settings unchanged', async () => {
  const h = harness();
  const cases: [string, RegExp][] = [
    ['settings thresholds', /give the thresholds/],
    ['settings thresholds 30,abc', /whole numbers of days/],
    ['settings thresholds 1000', /whole numbers of days/],
    ['settings thresholds 1,2,3,4,5,6,7,8,9,10,11', /1 to 10/],
    ['settings failafter 0', /from 1 to 100/],
    ['settings failafter 101', /from 1 to 100/],
    ['settings failafter many', /from 1 to 100/],
    ['settings digest maybe', /digest is on or off/],
    ['settings colour blue', /unknown setting "colour"/],
  ];
  for (const [line, expected] of cases) {
    const reply = await h.one(line);
    assert.equal(reply.status, 'error', line);
    assert.match(reply.title, expected, line);
    assert.match(reply.text?.join(' ') ?? '', /Usage: \/settings/, line);
  }
  assert.deepEqual(await h.repo.getChannelSettings(CHANNEL), { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false });
});

test('settings: two changes of one channel at once both stay saved, as both replies said', async () => {
  const h = harness();
  const [a, b] = await Promise.all([h.one('settings failafter 3'), h.one('settings digest on')]);
  assert.equal(a.title, 'Settings saved');
  assert.equal(b.title, 'Settings saved');
  assert.deepEqual(await h.repo.getChannelSettings(CHANNEL), { thresholds: [30, 14, 7, 3, 1], failAfter: 3, digest: true });
});
