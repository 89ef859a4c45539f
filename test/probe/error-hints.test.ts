// What a user reads when a probe fails: OpenSSL's reason, never its raw error string, and a
// hint that says what to do (issue 10: N5, N8).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { formatResults, endpoint } from '../../src/chat/format.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import { opensslReason } from '../../src/probe/errors.ts';
import { Prober, type Resolver } from '../../src/probe/probe.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { replyText } from '../commands/fakes.ts';

const opts = { timeoutMs: 3000, warnDays: 30, critDays: 7 };

test('probe: a plaintext reply to the ClientHello gets the starttls hint, without OpenSSL codes or source paths', async (t) => {
  // An SMTP-like server that greets in plaintext whatever it receives.
  const server = createServer((s) => {
    s.on('error', () => {});
    s.end('220 mail.example.com ESMTP ready\r\n500 what?\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const loopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
  const [r] = await new Prober({ trust: TrustStore.bundled(), resolve: loopback }).probe(parseTarget(`localhost:${port}`, { protocol: 'tls' }), opts);
  assert.equal(r?.error?.code, 'TLS_HANDSHAKE_FAILED');
  const text = replyText(formatResults(r!.target, [r!]));
  assert.match(text, /this port speaks plaintext first: try --mode starttls or the right --protocol/);
  assert.doesNotMatch(text, /error:[0-9A-F]{8}|SSL routines|\.\.\/deps|ssl3_get_record/);
});

test('probe: opensslReason keeps only the reason of an OpenSSL error string', () => {
  const raw = new Error('C0B7A3F2:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:354:\n');
  assert.equal(opensslReason(raw), 'wrong version number');
  assert.equal(opensslReason(Object.assign(new Error('x'), { reason: 'sslv3 alert handshake failure' })), 'sslv3 alert handshake failure');
  assert.equal(opensslReason(new Error('socket hang up')), 'socket hang up');
});

test('probe: BLOCKED_TARGET says ALLOW_PRIVATE_TARGETS=true is an environment variable that takes effect on restart', async () => {
  const target = parseTarget('db.internal:5432');
  const prober = new Prober({ trust: TrustStore.bundled(), resolve: async () => [{ address: '10.1.2.3', family: 4 }] });
  const [r] = await prober.probe(target, { ...opts, addressPolicy: createAddressPolicy() });
  assert.equal(r?.error?.code, 'BLOCKED_TARGET');
  assert.match(r!.error!.message, /setting the environment variable ALLOW_PRIVATE_TARGETS=true .*and restarting certwatch/);
  const meta = new Prober({ trust: TrustStore.bundled(), resolve: async () => [{ address: '169.254.170.2', family: 4 }] });
  const [m] = await meta.probe(parseTarget('creds.example:443'), { ...opts, addressPolicy: createAddressPolicy({ allowPrivate: true }) });
  assert.match(m!.error!.message, /lists exactly 169\.254\.170\.2 in the environment variable ALLOWED_TARGET_CIDRS and restarts certwatch/);
  assert.doesNotMatch(m!.error!.message, /ALLOW_PRIVATE_TARGETS/, 'that variable would not help here');
  assert.equal(endpoint(target), 'db.internal:5432');
});
