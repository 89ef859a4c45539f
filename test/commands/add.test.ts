import assert from 'node:assert/strict';
import { createKeyedLock } from '../../src/commands/channel-lock.ts';
import { test } from 'node:test';
import { CHANNEL, OTHER, field, harness, replyText } from './fakes.ts';

test('add: stores the target, probes it at once and replies with the first result', async () => {
  const h = harness();
  const reply = await h.one('add mail.example.com:587 "Mail relay"');
  const [record] = await h.repo.listTargets(CHANNEL);
  assert.ok(record);
  assert.equal(record.target.host, 'mail.example.com');
  assert.equal(record.target.protocol, 'smtp');
  assert.equal(record.target.mode, 'starttls');
  assert.equal(record.label, 'Mail relay');
  assert.equal(record.addedBy.id, 'u1');
  assert.deepEqual(h.checks.stored, [record.id]);
  assert.equal(reply.status, 'ok');
  assert.match(reply.title, /Mail relay \(mail\.example\.com:587\): ok, 90 days left/);
  assert.equal(field(reply, 'Id'), record.id);
  assert.equal(field(reply, 'Protocol'), 'smtp, STARTTLS');
  assert.ok(reply.buttons?.some((b) => b.command === `check ${record.id}`));
  assert.ok((await h.repo.getLatest(record.id)) !== undefined);
});

test('add: a duplicate in the same channel is reported with the existing id and not added', async () => {
  const h = harness();
  await h.one('add imap.example.com:143');
  const [first] = await h.repo.listTargets(CHANNEL);
  const reply = await h.one('add IMAP.example.com:143 again');
  assert.match(reply.title, new RegExp(`already watched here as ${first!.id}`));
  assert.equal((await h.repo.listTargets(CHANNEL)).length, 1);
  assert.equal(h.checks.stored.length, 1, 'the duplicate is not probed');
});

test('add: the same endpoint in another channel is a separate target', async () => {
  const h = harness();
  await h.one('add imap.example.com:143');
  await h.one('add imap.example.com:143', OTHER);
  assert.equal((await h.repo.listTargets(CHANNEL)).length, 1);
  assert.equal((await h.repo.listTargets(OTHER)).length, 1);
});

test('add: refuses beyond the per-channel target limit', async () => {
  const h = harness({ maxTargetsPerChannel: 2 });
  await h.one('add a.example.com');
  await h.one('add b.example.com');
  const reply = await h.one('add c.example.com');
  assert.equal(reply.status, 'error');
  assert.match(reply.title, /limit is 2/);
  assert.equal((await h.repo.listTargets(CHANNEL)).length, 2);
});

test('add: the per-channel limit holds under 20 concurrent adds from several users', async () => {
  const h = harness({ maxTargetsPerChannel: 5 });
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => h.run(`add host${i}.example.com`, CHANNEL, `u${i % 4}`)));
  assert.equal((await h.repo.listTargets(CHANNEL)).length, 5);
  const refused = replies.flat().filter((r) => r.status === 'error' && /limit is 5/.test(r.title));
  assert.equal(refused.length, 15);
});

test('add: 20 concurrent adds of one endpoint store it once and name the existing id', async () => {
  const h = harness();
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => h.run('add mail.example.com:587', CHANNEL, `u${i}`)));
  const stored = await h.repo.listTargets(CHANNEL);
  assert.equal(stored.length, 1);
  assert.equal(replies.flat().filter((r) => r.title.includes(`already watched here as ${stored[0]!.id}`)).length, 19);
});

test('add: the channel lock serializes per key and lets other keys run', async () => {
  const lock = createKeyedLock();
  const order: string[] = [];
  let releaseA!: () => void;
  const gate = new Promise<void>((r) => (releaseA = r));
  const a = lock.run('c1', async () => {
    order.push('a-start');
    await gate;
    order.push('a-end');
  });
  const b = lock.run('c1', async () => void order.push('b'));
  const other = lock.run('c2', async () => void order.push('other'));
  await other;
  assert.deepEqual(order, ['a-start', 'other']);
  releaseA();
  await Promise.all([a, b]);
  assert.deepEqual(order, ['a-start', 'other', 'a-end', 'b']);
  await assert.rejects(lock.run('c1', async () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await lock.run('c1', async () => 'after a failure'), 'after a failure');
});

test('add: an unreachable target is stored and the reply says the first check failed', async () => {
  const h = harness();
  h.checks.outcomes.set('down.example.com', [{ error: { code: 'CONNECT_REFUSED', message: 'connection refused by 192.0.2.10:993' } }]);
  const reply = await h.one('add down.example.com:993');
  assert.equal((await h.repo.listTargets(CHANNEL)).length, 1);
  assert.equal(reply.status, 'error');
  assert.match(replyText(reply), /CONNECT_REFUSED: connection refused/);
  assert.match(replyText(reply), /stays watched/);
});

test('add: a target whose every address is blocked by the SSRF policy is not kept', async () => {
  const h = harness();
  h.checks.outcomes.set('internal.example.com', [{ error: { code: 'BLOCKED_TARGET', message: '10.0.0.5 is not allowed: private address' } }]);
  const reply = await h.one('add internal.example.com');
  assert.match(reply.title, /was not added/);
  assert.match(replyText(reply), /BLOCKED_TARGET/);
  assert.deepEqual(await h.repo.listTargets(CHANNEL), []);
});

test('add: a first check that throws keeps the target and answers without internals', async () => {
  const h = harness();
  h.checks.throwing.add('flaky.example.com');
  const reply = await h.one('add flaky.example.com');
  assert.equal((await h.repo.listTargets(CHANNEL)).length, 1);
  assert.match(replyText(reply), /first check could not run/);
  assert.doesNotMatch(replyText(reply), /secret\/path/);
  assert.ok(h.logs.some((l) => l.level === 'error' && l.obj.event === 'add_first_check_failed'));
});

test('add: applies --protocol, --mode and --servername', async () => {
  const h = harness();
  await h.one('add 192.0.2.7:2525 --protocol smtp --mode starttls --servername mx.example.com');
  const [record] = await h.repo.listTargets(CHANNEL);
  assert.deepEqual(
    { host: record!.target.host, port: record!.target.port, protocol: record!.target.protocol, mode: record!.target.mode, servername: record!.target.servername },
    { host: '192.0.2.7', port: 2525, protocol: 'smtp', mode: 'starttls', servername: 'mx.example.com' },
  );
});

test('add: per-target thresholds are validated and stored in descending order', async () => {
  const h = harness();
  await h.one('add a.example.com --thresholds 7,30,14');
  const [record] = await h.repo.listTargets(CHANNEL);
  assert.deepEqual(record!.thresholds, [30, 14, 7]);
  const bad = await h.one('add b.example.com --thresholds 7,soon');
  assert.match(bad.title, /whole numbers of days/);
});

test('add: answers bad input with a clear message and the usage line', async () => {
  const h = harness();
  const missing = await h.one('add');
  assert.equal(missing.status, 'error');
  assert.match(missing.title, /missing <target>/);
  assert.match(missing.text?.join(' ') ?? '', /Usage: \/add <target> \[label\]/);

  const badPort = await h.one('add mail.example.com:99999');
  assert.match(badPort.title, /port 99999 is outside 1-65535/);
  assert.match(badPort.text?.join(' ') ?? '', /Usage:/);

  const unknownOption = await h.one('add mail.example.com --colour red');
  assert.match(unknownOption.title, /unknown option --colour/);
  const trailing = await h.one('add host.example.com --bogus');
  assert.equal(trailing.title, 'unknown option --bogus', 'an unknown option at the end is unknown, not valueless');
  const valueless = await h.one('add host.example.com --servername');
  assert.equal(valueless.title, 'option --servername needs a value');
  assert.deepEqual(await h.repo.listTargets(CHANNEL), []);

  const badProtocol = await h.one('add mail.example.com --protocol gopher');
  assert.match(badProtocol.title, /unknown protocol; known: tls, https, smtp/);

  const longLabel = await h.one(`add mail.example.com ${'x'.repeat(65)}`);
  assert.match(longLabel.title, /label is longer than 64/);

  const huge = await h.one(`add ${'a'.repeat(1200)}`);
  assert.match(huge.title, /longer than 1000 characters/);

  assert.deepEqual(await h.repo.listTargets(CHANNEL), []);
  assert.deepEqual(h.checks.stored, []);
});
