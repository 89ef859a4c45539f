import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mxMatches, parsePolicy, parseStsRecord } from '../../src/mail/mta-sts.ts';
import { parseTlsRpt } from '../../src/mail/tlsrpt.ts';

test('mta-sts: parses the TXT record and refuses two records or a bad id', () => {
  assert.deepEqual(parseStsRecord(['other', 'v=STSv1; id=20160831085700Z']), { id: '20160831085700Z' });
  assert.equal(parseStsRecord(['v=spf1 -all']), null);
  assert.match((parseStsRecord(['v=STSv1; id=1', 'v=STSv1; id=2']) as { error: string }).error, /exactly one/);
  assert.match((parseStsRecord(['v=STSv1; id=' + 'a'.repeat(33)]) as { error: string }).error, /id=/);
  assert.match((parseStsRecord(['v=STSv2; id=1']) as { error: string }).error, /unknown version/);
});

test('mta-sts: parses a policy and lists every error of a bad one', () => {
  assert.deepEqual(parsePolicy('version: STSv1\nmode: testing\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n'), {
    version: 'STSv1', mode: 'testing', mx: ['mail.example.com', '*.example.net'], maxAge: 604800,
  });
  const bad = parsePolicy('version: STSv2\nmode: strict\nmax_age: 99999999999\n') as { errors: string[] };
  assert.equal(bad.errors.length, 4, bad.errors.join(' | '));
  assert.ok(!('errors' in parsePolicy('version: STSv1\nmode: none\nmax_age: 0\n')), 'mode none needs no mx');
});

test('mta-sts: "*." matches exactly one leftmost label', () => {
  assert.equal(mxMatches('*.example.com', 'mx1.example.com'), true);
  assert.equal(mxMatches('*.example.com', 'a.b.example.com'), false);
  assert.equal(mxMatches('*.example.com', 'example.com'), false);
  assert.equal(mxMatches('MX.example.com', 'mx.example.com.'), true);
});

test('tls-rpt: accepts mailto and https rua, refuses others and duplicates', () => {
  assert.deepEqual(parseTlsRpt(['v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/x']), { state: 'valid', rua: ['mailto:a@example.com', 'https://r.example.com/x'] });
  assert.deepEqual(parseTlsRpt(['v=spf1']), { state: 'none' });
  assert.equal(parseTlsRpt(['v=TLSRPTv1;']).state, 'invalid');
  assert.equal(parseTlsRpt(['v=TLSRPTv1; rua=mailto:a@x', 'v=TLSRPTv1; rua=mailto:b@x']).state, 'invalid');
});

test('mta-sts: a policy with extension keys holding "-" or "." is valid; unknown keys are ignored (RFC 8461 section 3.2)', () => {
  assert.deepEqual(parsePolicy('version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 86400\r\nx-vendor.note: hello\r\n'), {
    version: 'STSv1', mode: 'enforce', mx: ['mx.example.com'], maxAge: 86400,
  });
});
