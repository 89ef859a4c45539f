import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clean, expiryText, formatLatest, formatListItem, formatResults } from '../../src/chat/format.ts';
import type { TargetRecord } from '../../src/core/services.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { digestReply } from '../../src/scheduler/digest.ts';
import { CHANNEL, NOW, field, makeResult, replyText } from '../commands/fakes.ts';

const target = parseTarget('mail.example.com:587');
const record: TargetRecord = { id: 'k3x9p2', target, channel: CHANNEL, addedBy: { id: 'u1' }, addedAt: NOW.toISOString(), label: 'Relay' };

test('format: a healthy result shows endpoint, protocol, address, days left, expiry and issuer', () => {
  const reply = formatResults(target, [makeResult(target, { daysLeft: 42 })], { record });
  assert.equal(reply.title, 'Relay (mail.example.com:587): ok, 42 days left');
  assert.equal(reply.status, 'ok');
  assert.equal(field(reply, 'Endpoint'), 'mail.example.com:587');
  assert.equal(field(reply, 'Protocol'), 'smtp, STARTTLS');
  assert.equal(field(reply, 'Address'), '192.0.2.10');
  assert.equal(field(reply, 'Days left'), '42 days left');
  assert.equal(field(reply, 'Expires'), '2025-07-13 13:00 UTC');
  assert.equal(field(reply, 'Issuer'), 'CN=Test Intermediate CA');
  assert.equal(field(reply, 'Id'), 'k3x9p2');
  assert.equal(reply.text, undefined, 'no findings');
  assert.deepEqual(
    reply.buttons?.map((b) => b.command),
    ['check k3x9p2', 'mute k3x9p2 7d', 'remove k3x9p2'],
  );
});

test('format: several addresses report the soonest certificate and list each address when they disagree', () => {
  const results = [
    makeResult(target, { address: '192.0.2.10', daysLeft: 60 }),
    makeResult(target, { address: '2001:db8::10', daysLeft: 4, fingerprint: '11:22:33:44:55:66:77:88:99:00:AA:BB:CC', problems: [{ code: 'EXPIRES_SOON', severity: 'critical', message: 'expires in 4 days' }] }),
    makeResult(target, { address: '192.0.2.11', error: { code: 'CONNECT_REFUSED', message: 'connection refused' } }),
  ];
  const reply = formatResults(target, results);
  assert.equal(reply.status, 'error');
  assert.equal(field(reply, 'Addresses'), '192.0.2.10, 2001:db8::10, 192.0.2.11');
  assert.equal(field(reply, 'Days left'), '4 days left');
  assert.deepEqual(reply.text, ['EXPIRES_SOON (critical): expires in 4 days [2001:db8::10]', 'CONNECT_REFUSED: connection refused [192.0.2.11]']);
  assert.equal(reply.items?.length, 3);
  assert.match(reply.items![0]!, /^192\.0\.2\.10: ok, 60 days left/);
  assert.match(reply.items![2]!, /^192\.0\.2\.11: error, CONNECT_REFUSED$/);
  assert.equal(reply.buttons, undefined);
});

test('format: identical addresses are summarised without per-address lines', () => {
  const reply = formatResults(target, [makeResult(target, { address: '192.0.2.10' }), makeResult(target, { address: '192.0.2.11' })]);
  assert.equal(reply.items, undefined);
});

test('format: STARTTLS_NOT_OFFERED appears once although it is both problem and error', () => {
  const problem = { code: 'STARTTLS_NOT_OFFERED' as const, severity: 'critical' as const, message: 'smtp server does not offer TLS' };
  const r = makeResult(target, { problems: [problem], error: { code: 'STARTTLS_NOT_OFFERED', message: 'smtp server does not offer TLS' } });
  const reply = formatResults(target, [r]);
  assert.equal(reply.status, 'critical');
  assert.deepEqual(reply.text, ['STARTTLS_NOT_OFFERED (critical): smtp server does not offer TLS']);
  assert.equal(reply.title, 'mail.example.com:587: critical: STARTTLS_NOT_OFFERED');
});

test('format: notes are shown in the reply but leave the status alone', () => {
  const r = { ...makeResult(target), notes: [{ code: 'CLIENT_CERT_REQUIRED' as const, message: 'mail.example.com:587: the server demands a client certificate' }] };
  const reply = formatResults(target, [r]);
  assert.equal(reply.status, 'ok');
  assert.deepEqual(reply.text, ['Note, CLIENT_CERT_REQUIRED: mail.example.com:587: the server demands a client certificate']);
});

test('format: control characters and bidi overrides from certificates are removed and lengths bounded', () => {
  const evil = `CN=\u001b[2J\u001b]0;pwned\u0007evil\u202eexample${'A'.repeat(500)}`;
  const reply = formatResults(target, [makeResult(target, { issuer: evil, subject: evil })]);
  const issuer = field(reply, 'Issuer')!;
  assert.doesNotMatch(issuer, /[\u0000-\u001f\u007f-\u009f\u202e]/);
  assert.ok(issuer.length <= 200);
  assert.ok(issuer.endsWith('…'));
  assert.equal(clean('a\r\nb'), 'a  b');
});

test('format: a target never checked says so and still offers its buttons', () => {
  const reply = formatLatest(record, undefined);
  assert.equal(reply.title, 'mail.example.com:587: not checked yet');
  assert.equal(reply.status, 'info');
  assert.equal(reply.buttons?.length, 3);
  assert.equal(formatListItem(record, undefined, NOW), '[NEW] k3x9p2 mail.example.com:587 (smtp STARTTLS) — not checked yet — Relay');
});

test('format: list items show a running mute and hide an expired one', () => {
  const latest = { targetId: 'k3x9p2', checkedAt: NOW.toISOString(), status: 'ok' as const, results: [makeResult(target, { daysLeft: 1 })] };
  const running = formatListItem({ ...record, mutedUntil: '2025-06-08T12:00:00.000Z' }, latest, NOW);
  assert.equal(running, '[OK] k3x9p2 mail.example.com:587 (smtp STARTTLS) — ok, 1 day left — Relay — muted until 2025-06-08 12:00 UTC');
  const expired = formatListItem({ ...record, mutedUntil: '2025-05-01T00:00:00.000Z' }, latest, NOW);
  assert.doesNotMatch(expired, /muted/);
});

test('format: days left reads naturally around expiry', () => {
  const at = '2025-06-01T12:00:00.000Z';
  const cert = (notAfterMs: number) => {
    const notAfter = new Date(Date.parse(at) + notAfterMs);
    // daysLeft exactly as src/cert/info.ts computes it.
    return { notAfter: notAfter.toISOString(), daysLeft: Math.floor((notAfter.getTime() - Date.parse(at)) / 86_400_000) };
  };
  const day = 86_400_000;
  assert.equal(expiryText(cert(2.5 * day), at), '2 days left');
  assert.equal(expiryText(cert(1.5 * day), at), '1 day left');
  assert.equal(expiryText(cert(3_600_000), at), 'expires today');
  assert.equal(expiryText(cert(0), at), 'expires today', 'at notAfter itself the certificate is still valid');
  assert.equal(expiryText(cert(-1000), at), 'expired today', 'one second late is not "1 day ago"');
  assert.equal(expiryText(cert(-1.5 * day), at), 'expired 1 day ago');
  assert.equal(expiryText(cert(-9 * day), at), 'expired 9 days ago');
});

test('format: an expired certificate is counted the way the EXPIRED finding counts it, in every part of a reply', () => {
  // 30.5 days past notAfter: daysLeft is -31 (floor), the judge says "expired 30 days ago".
  const target = parseTarget('mail.example.com:587');
  const r = makeResult(target, { problems: [{ code: 'EXPIRED', severity: 'critical', message: 'certificate expired 30 days ago (2025-05-01)' }] });
  const notAfter = new Date(NOW.getTime() - 30.5 * 86_400_000);
  r.certificate = { ...r.certificate!, notAfter: notAfter.toISOString(), daysLeft: Math.floor((notAfter.getTime() - NOW.getTime()) / 86_400_000) };
  assert.equal(r.certificate.daysLeft, -31);
  const other = { ...r, address: '192.0.2.11', status: 'ok' as const, problems: [], certificate: { ...r.certificate, fingerprint256: 'FF' } };
  const reply = formatResults(target, [r, other]);
  const text = replyText(reply);
  assert.match(reply.title, /expired 30 days ago$/);
  assert.equal(field(reply, 'Days left'), 'expired 30 days ago');
  assert.doesNotMatch(text, /31/, text);
  const digest = digestReply([{ id: 'k3x9p2', target, channel: CHANNEL, addedBy: { id: 'u' }, addedAt: NOW.toISOString() }], new Map([['k3x9p2', { targetId: 'k3x9p2', checkedAt: NOW.toISOString(), status: 'critical' as const, results: [r] }]]));
  assert.deepEqual(digest.items, ['CRITICAL mail.example.com:587: expired 30 days ago [k3x9p2]']);
  assert.equal(formatListItem({ id: 'k3x9p2', target, channel: CHANNEL, addedBy: { id: 'u' }, addedAt: NOW.toISOString() }, { targetId: 'k3x9p2', checkedAt: NOW.toISOString(), status: 'critical', results: [r] }, NOW), '[CRITICAL] k3x9p2 mail.example.com:587 (smtp STARTTLS) — critical, expired 30 days ago');
});

test('format: IPv6 endpoints are bracketed', () => {
  const v6 = parseTarget('[2001:db8::1]:993');
  const reply = formatResults(v6, [makeResult(v6, { address: '2001:db8::1' })]);
  assert.equal(field(reply, 'Endpoint'), '[2001:db8::1]:993');
  assert.equal(field(reply, 'Protocol'), 'imap, implicit TLS');
  assert.match(replyText(reply), /\[2001:db8::1\]:993: ok/);
});
