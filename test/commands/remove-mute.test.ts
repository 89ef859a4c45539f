import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHANNEL, NOW, OTHER, harness } from './fakes.ts';

test('remove: removes a target by id from the owning channel', async () => {
  const h = harness();
  await h.one('add a.example.com');
  const [record] = await h.repo.listTargets(CHANNEL);
  const reply = await h.one(`remove ${record!.id}`);
  assert.equal(reply.title, `Removed a.example.com:443 (${record!.id})`);
  assert.deepEqual(await h.repo.listTargets(CHANNEL), []);
  assert.equal(await h.repo.getTarget(record!.id), undefined);
});

test('remove: a target can be named by its endpoint', async () => {
  const h = harness();
  await h.one('add smtp://mx.example.com');
  const reply = await h.one('remove mx.example.com:25');
  assert.match(reply.title, /^Removed mx\.example\.com:25/);
  assert.deepEqual(await h.repo.listTargets(CHANNEL), []);
});

test('remove: refuses a target owned by another channel and leaves it in place', async () => {
  const h = harness();
  await h.one('add a.example.com', OTHER);
  const [theirs] = await h.repo.listTargets(OTHER);
  for (const ref of [theirs!.id, 'a.example.com']) {
    const reply = await h.one(`remove ${ref}`);
    assert.equal(reply.status, 'error');
    assert.match(reply.title, /No target .* in this channel/);
  }
  assert.equal((await h.repo.listTargets(OTHER)).length, 1);
});

test('mute: sets mutedUntil from the duration and unmute clears it', async () => {
  const h = harness();
  await h.one('add a.example.com');
  const [record] = await h.repo.listTargets(CHANNEL);
  const muted = await h.one(`mute ${record!.id} 1d12h`);
  assert.match(muted.title, /^Muted a\.example\.com:443 \(\w+\) for 1d 12h$/);
  assert.equal((await h.repo.getTarget(record!.id))?.mutedUntil, new Date(NOW.getTime() + 36 * 3_600_000).toISOString());
  const unmuted = await h.one(`unmute ${record!.id}`);
  assert.match(unmuted.title, /^Unmuted/);
  assert.equal((await h.repo.getTarget(record!.id))?.mutedUntil, undefined);
  const again = await h.one(`unmute ${record!.id}`);
  assert.match(again.title, /was not muted/);
});

test('mute: rejects malformed, zero and over-long durations with the usage line', async () => {
  const h = harness();
  await h.one('add a.example.com');
  const [record] = await h.repo.listTargets(CHANNEL);
  for (const d of ['forever', '0m', '400d', '7x', '1d1d']) {
    const reply = await h.one(`mute ${record!.id} ${d}`);
    assert.equal(reply.status, 'error', d);
    assert.match(reply.title, /is not a duration/, d);
    assert.match(reply.text?.join(' ') ?? '', /Usage: \/mute <target\|id> <duration>/);
  }
  const missing = await h.one(`mute ${record!.id}`);
  assert.match(missing.title, /missing argument/);
  assert.equal((await h.repo.getTarget(record!.id))?.mutedUntil, undefined);
});

test("mute: another channel's target cannot be muted or unmuted", async () => {
  const h = harness();
  await h.one('add a.example.com', OTHER);
  const [theirs] = await h.repo.listTargets(OTHER);
  assert.equal((await h.one(`mute ${theirs!.id} 7d`)).status, 'error');
  await h.one(`mute ${theirs!.id} 7d`, OTHER);
  assert.equal((await h.one(`unmute ${theirs!.id}`)).status, 'error');
  assert.ok((await h.repo.getTarget(theirs!.id))?.mutedUntil !== undefined);
});

/** Starts `first`, lets it run `ticks` microtask turns, then starts `second`; both replies. */
async function overlapping(h: ReturnType<typeof harness>, first: string, second: string, ticks: number): Promise<[string, string]> {
  const a = h.one(first);
  for (let i = 0; i < ticks; i++) await Promise.resolve();
  const [ra, rb] = await Promise.all([a, h.one(second)]);
  return [ra.title, rb.title];
}

test('remove and mute of one target at once: a removed target stays removed and mute is told so', async () => {
  for (let ticks = 0; ticks < 12; ticks++) {
    const h = harness();
    await h.one('add a.example.com');
    const [record] = await h.repo.listTargets(CHANNEL);
    const id = record!.id;
    const [removed, muted] = await overlapping(h, `remove ${id}`, `mute ${id} 7d`, ticks);
    assert.match(removed, /^Removed/, `ticks ${ticks}`);
    assert.match(muted, /^No target/, `ticks ${ticks}: mute ran after the remove`);
    assert.equal(await h.repo.getTarget(id), undefined, `ticks ${ticks}: the removed record came back`);
  }
});

test('mute and unmute of one target at once: the outcome matches what the replies said', async () => {
  for (let ticks = 0; ticks < 12; ticks++) {
    const h = harness();
    await h.one('add a.example.com');
    const [record] = await h.repo.listTargets(CHANNEL);
    const id = record!.id;
    const [muted, unmuted] = await overlapping(h, `mute ${id} 7d`, `unmute ${id}`, ticks);
    assert.match(muted, /^Muted/, `ticks ${ticks}`);
    assert.match(unmuted, /^Unmuted/, `ticks ${ticks}: unmute said "${unmuted}"`);
    assert.equal((await h.repo.getTarget(id))?.mutedUntil, undefined, `ticks ${ticks}`);
  }
});
