import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lmtp } from '../../src/probe/protocols/lmtp.ts';
import { testPki } from '../helpers/pki.ts';
import { expectError, expectGoAhead, expectHealthy, expectProbeError, oversized, probeFake, runDialect } from './line-harness.ts';

const { root, leaf, serverCreds } = await testPki();

const LHLO_TLS = '250-lmtp.example.org\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n';

test('lmtp: says LHLO, not EHLO, and completes the TLS handshake after 220', async () => {
  const { result, sent, serverErrors } = await probeFake('lmtp', root, async (conn) => {
    conn.write('220 lmtp.example.org Dovecot ready.\r\n');
    await conn.readLine();
    conn.write(LHLO_TLS);
    await conn.readLine();
    conn.write('220 2.0.0 Begin TLS negotiation now.\r\n');
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'LHLO certwatch.invalid\r\nSTARTTLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('lmtp: reports STARTTLS_NOT_OFFERED naming LHLO when the extension is missing', async () => {
  const run = await runDialect(lmtp, async (conn) => {
    conn.write('220 lmtp.example.org LMTP\r\n');
    await conn.readLine();
    conn.write('250-lmtp.example.org\r\n250 PIPELINING\r\n');
  });
  const err = expectError(run, 'STARTTLS_NOT_OFFERED', 'LHLO');
  assert.match(err.message, /^LMTP server does not offer TLS/);
});

test('lmtp: reports STARTTLS_REJECTED when STARTTLS is answered 502', async () => {
  const run = await runDialect(lmtp, async (conn) => {
    conn.write('220 lmtp.example.org LMTP\r\n');
    await conn.readLine();
    conn.write(LHLO_TLS);
    await conn.readLine();
    conn.write('502 5.5.1 not now\r\n');
  });
  expectError(run, 'STARTTLS_REJECTED', 'STARTTLS');
});

test('lmtp: refuses bytes injected after the 220 go-ahead', async () => {
  const { result } = await probeFake('lmtp', root, async (conn) => {
    conn.write('220 lmtp.example.org LMTP\r\n');
    await conn.readLine();
    conn.write(LHLO_TLS);
    await conn.readLine();
    conn.write('220 go\r\nXX');
  });
  expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
});

test('lmtp: reports PROTOCOL_ERROR on a garbage greeting', async () => {
  const run = await runDialect(lmtp, (conn) => conn.write('\x00\x01hello\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /not an LMTP reply: "\\x00\\x01hello"/);
});

test('lmtp: times out at greeting when the server stays silent', async () => {
  expectError(await runDialect(lmtp, () => {}, 300), 'TIMEOUT', 'greeting');
});

test('lmtp: times out naming STARTTLS when the go-ahead drips in slowly', async () => {
  const run = await runDialect(
    lmtp,
    async (conn) => {
      conn.write('220 lmtp.example.org LMTP\r\n');
      await conn.readLine();
      conn.write(LHLO_TLS);
      await conn.readLine();
      await conn.drip('220 2.0.0 Begin TLS negotiation now.\r\n', 40);
    },
    400,
  );
  expectError(run, 'TIMEOUT', 'STARTTLS');
});

test('lmtp: reports PROTOCOL_ERROR on an oversized LHLO line', async () => {
  const run = await runDialect(lmtp, async (conn) => {
    conn.write('220 lmtp.example.org LMTP\r\n');
    await conn.readLine();
    conn.write(`250-${oversized}`);
  });
  expectError(run, 'PROTOCOL_ERROR', 'LHLO');
});

test('lmtp: reports PROTOCOL_ERROR when the server closes after STARTTLS', async () => {
  const run = await runDialect(lmtp, async (conn) => {
    conn.write('220 lmtp.example.org LMTP\r\n');
    await conn.readLine();
    conn.write(LHLO_TLS);
    await conn.readLine();
    conn.destroy();
  });
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('lmtp: accepts a bare "220" line and lower-case starttls', async () => {
  const run = await runDialect(lmtp, async (conn) => {
    conn.write('220\r\n');
    await conn.readLine();
    conn.write('250-lmtp\r\n250 starttls\r\n');
    await conn.readLine();
    conn.write('220\r\n');
  });
  expectGoAhead(run);
});
