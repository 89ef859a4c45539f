import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHANNEL, OTHER, field, harness, replyText } from './fakes.ts';

test('check: a stored target named by id is probed and recorded', async () => {
  const h = harness();
  await h.one('add mail.example.com:587');
  const [record] = await h.repo.listTargets(CHANNEL);
  h.checks.outcomes.set('mail.example.com', [{ daysLeft: 3, problems: [{ code: 'EXPIRES_SOON', severity: 'critical', message: 'expires in 3 days' }] }]);
  const reply = await h.one(`check ${record!.id}`);
  assert.deepEqual(h.checks.stored, [record!.id, record!.id]);
  assert.equal(reply.status, 'critical');
  assert.equal(field(reply, 'Days left'), '3 days left');
  assert.match(replyText(reply), /EXPIRES_SOON \(critical\): expires in 3 days/);
  assert.equal((await h.repo.getLatest(record!.id))?.status, 'critical');
});

test('check: a stored target can be named by the text it was added with', async () => {
  const h = harness();
  await h.one('add imaps://imap.example.com');
  const [record] = await h.repo.listTargets(CHANNEL);
  await h.one('check imaps://imap.example.com');
  await h.one('check imap.example.com:993');
  assert.deepEqual(h.checks.stored, [record!.id, record!.id, record!.id]);
  assert.deepEqual(h.checks.adHoc, []);
});

test('check: an unsaved target is checked ad hoc and nothing is stored', async () => {
  const h = harness();
  const reply = await h.one('check ldap.example.com:389');
  assert.equal(h.checks.adHoc.length, 1);
  assert.equal(h.checks.adHoc[0]!.protocol, 'ldap');
  assert.equal(h.checks.adHoc[0]!.mode, 'starttls');
  assert.deepEqual(await h.repo.listTargets(CHANNEL), []);
  assert.match(replyText(reply), /not watched here \(\/add ldap\.example\.com:389 watches it\)/);
  const named = await h.one('check db.internal:5432 --servername db.example.com');
  assert.match(replyText(named), /not watched here \(\/add db\.internal:5432 --servername db\.example\.com watches it\)/, 'the suggestion keeps the server name');
  const both = await h.one('check mail.example.com:2525 --protocol smtp --mode starttls');
  assert.match(replyText(both), /\/add mail\.example\.com:2525 --protocol smtp --mode starttls watches it/);
  assert.equal(reply.buttons, undefined, 'no buttons for a target that is not stored');
});

test("check: another channel's id is not revealed or probed as stored", async () => {
  const h = harness();
  await h.one('add secret.example.com', OTHER);
  const [theirs] = await h.repo.listTargets(OTHER);
  const reply = await h.one(`check ${theirs!.id}`);
  assert.deepEqual(h.checks.stored, [theirs!.id], 'only the add in the other channel probed it as stored');
  assert.doesNotMatch(replyText(reply), /secret\.example\.com/);
});

test('check all: reports progress through repeated replies and ends with a summary', async () => {
  const h = harness();
  for (let i = 0; i < 12; i++) await h.one(`add t${i}.example.com`);
  h.checks.outcomes.set('t3.example.com', [{ daysLeft: 2, problems: [{ code: 'EXPIRES_SOON', severity: 'critical', message: 'expires in 2 days' }] }]);
  h.checks.throwing.add('t7.example.com');
  h.checks.stored.length = 0;
  const replies = await h.run('check all');
  assert.equal(replies[0]!.title, 'Checking 12 targets…');
  const progress = replies.slice(1, -1).map((r) => r.title);
  assert.deepEqual(progress, ['Checked 5 of 12…', 'Checked 10 of 12…']);
  const summary = replies.at(-1)!;
  assert.equal(summary.title, 'Checked 12 targets: 1 critical, 1 error, 10 ok');
  assert.equal(summary.items?.length, 12);
  assert.match(summary.items![0]!, /t3\.example\.com.*2 days left/);
  assert.ok(summary.items!.some((i) => /^\[ERROR\] \S+ t7\.example\.com:443 — the check could not run$/.test(i)));
  assert.equal(h.checks.stored.length, 12);
  assert.ok(h.logs.some((l) => l.level === 'error' && l.obj.event === 'check_all_target_failed'));
});

test('check all: an empty channel is told so', async () => {
  const h = harness();
  const reply = await h.one('check all');
  assert.match(reply.title, /No targets/);
});

test('check: bad arguments get the usage line', async () => {
  const h = harness();
  const none = await h.one('check');
  assert.match(none.title, /missing argument/);
  assert.match(none.text?.join(' ') ?? '', /Usage: \/check <target\|id\|all>/);
  const two = await h.one('check a.example.com b.example.com');
  assert.match(two.title, /one target, id or "all"/);
  const allOpts = await h.one('check all --mode starttls');
  assert.match(allOpts.title, /takes no options/);
  assert.deepEqual(h.checks.adHoc, []);
});

test('check: an empty or over-long --servername names the option in the answer', async () => {
  const h = harness();
  const empty = await h.one('check a.example.com --servername ""');
  assert.equal(empty.title, 'option --servername needs a host name');
  const long = await h.one(`check a.example.com --servername ${'a'.repeat(254)}`);
  assert.equal(long.title, 'option --servername is longer than 253 characters');
  const added = await h.one('add a.example.com --servername=');
  assert.equal(added.title, 'option --servername needs a host name');
  assert.deepEqual(h.checks.adHoc, []);
  assert.deepEqual(await h.repo.listTargets(), []);
});
