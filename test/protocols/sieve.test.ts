import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sieve } from '../../src/probe/protocols/sieve.ts';
import type { FakeConn } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';
import { expectError, expectGoAhead, expectHealthy, expectProbeError, oversized, probeFake, runDialect } from './line-harness.ts';

const { root, leaf, serverCreds } = await testPki();

const DOVECOT = [
  '"IMPLEMENTATION" "Dovecot Pigeonhole"',
  '"SIEVE" "fileinto reject envelope encoded-character vacation subaddress comparator-i;ascii-numeric relational"',
  '"NOTIFY" "mailto"',
  '"SASL" ""',
  '"STARTTLS"',
  '"VERSION" "1.0"',
  'OK "Dovecot ready."',
  '',
].join('\r\n');

async function upToStarttls(conn: FakeConn, greeting = DOVECOT): Promise<void> {
  conn.write(greeting);
  assert.equal(await conn.readLine(), 'STARTTLS');
}

test('sieve: reads the capability greeting, sends exactly STARTTLS and completes TLS after OK', async () => {
  const { result, sent, serverErrors } = await probeFake('sieve', root, async (conn) => {
    await upToStarttls(conn);
    conn.write('OK "Begin TLS negotiation now."\r\n');
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'STARTTLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('sieve: reports STARTTLS_NOT_OFFERED as a critical finding when the greeting lacks it', async () => {
  const { result, sent } = await probeFake('sieve', root, (conn) =>
    conn.write('"IMPLEMENTATION" "Cyrus timsieved"\r\n"SASL" "PLAIN"\r\n"STARTTLSX"\r\nOK\r\n'),
  );
  expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'greeting');
  assert.equal(result.status, 'critical');
  assert.equal(sent, '');
});

for (const refusal of ['NO "TLS unavailable"', 'BYE (TRYLATER) "shutting down"', 'no']) {
  test(`sieve: reports STARTTLS_REJECTED when STARTTLS is answered ${refusal}`, async () => {
    const run = await runDialect(sieve, async (conn) => {
      await upToStarttls(conn);
      conn.write(`${refusal}\r\n`);
    });
    expectError(run, 'STARTTLS_REJECTED', 'STARTTLS');
  });
}

test('sieve: refuses a capability line in place of the OK go-ahead', async () => {
  const run = await runDialect(sieve, async (conn) => {
    await upToStarttls(conn);
    conn.write('"IMPLEMENTATION" "again"\r\n');
  });
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('sieve: refuses bytes injected after the OK go-ahead', async () => {
  const { result } = await probeFake('sieve', root, async (conn) => {
    await upToStarttls(conn);
    conn.write('OK\r\n"SASL" "PLAIN"\r\n');
  });
  expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
});

test('sieve: reports PROTOCOL_ERROR with a hint on an SMTP greeting', async () => {
  const run = await runDialect(sieve, (conn) => conn.write('220 mail.example.org ESMTP\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /not a ManageSieve capability line/);
  assert.match(err.hint ?? '', /--protocol smtp/);
});

test('sieve: reports PROTOCOL_ERROR when the greeting ends in BYE', async () => {
  const run = await runDialect(sieve, (conn) => conn.write('"IMPLEMENTATION" "x"\r\nBYE "Too many connections"\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /refused the session/);
});

test('sieve: reports PROTOCOL_ERROR on an unterminated quoted string', async () => {
  const run = await runDialect(sieve, (conn) => conn.write('"IMPLEMENTATION" "Dovecot\r\n'));
  expectError(run, 'PROTOCOL_ERROR', 'greeting');
});

test('sieve: times out at greeting when the server stays silent', async () => {
  expectError(await runDialect(sieve, () => {}, 300), 'TIMEOUT', 'greeting');
});

test('sieve: times out naming STARTTLS when the OK drips in slowly', async () => {
  const run = await runDialect(
    sieve,
    async (conn) => {
      await upToStarttls(conn);
      await conn.drip('OK "Begin TLS negotiation now."\r\n', 40);
    },
    400,
  );
  expectError(run, 'TIMEOUT', 'STARTTLS');
});

test('sieve: reports PROTOCOL_ERROR on an oversized capability line', async () => {
  const run = await runDialect(sieve, (conn) => conn.write(`"SIEVE" "${oversized}`));
  expectError(run, 'PROTOCOL_ERROR', 'greeting');
});

test('sieve: refuses a greeting that never ends', async () => {
  const run = await runDialect(sieve, (conn) => conn.write('"X-CAP"\r\n'.repeat(120)));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /longer than 100 capability lines/);
});

test('sieve: reports PROTOCOL_ERROR when the server closes mid-greeting', async () => {
  const run = await runDialect(sieve, (conn) => {
    conn.write('"IMPLEMENTATION" "x"\r\n');
    conn.close();
  });
  expectError(run, 'PROTOCOL_ERROR', 'greeting');
});

test('sieve: reads literals, escaped quotes, lower-case keywords and a greeting in pieces', async () => {
  const run = await runDialect(sieve, async (conn) => {
    await conn.drip('"IMPLEMENTATION" "Cyrus \\"timsieved\\" v3"\r\n"SIEVE" {12}\r\nfileinto foo\r\n"starttls"\r\nok\r\n', 1);
    await conn.readLine();
    conn.write('ok (SASL "abc") "go"\r\n');
  });
  expectGoAhead(run);
  assert.equal(run.sent, 'STARTTLS\r\n');
});

test('sieve: refuses a literal larger than it will buffer', async () => {
  const run = await runDialect(sieve, (conn) => conn.write('"SIEVE" {100000+}\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /literal of 100000 bytes/);
});

test('sieve: refuses a response with too many literals, saying so rather than blaming their size', async () => {
  const run = await runDialect(sieve, (conn) => conn.write(`"SIEVE" {1}\r\na${' {1}\r\na'.repeat(12)}\r\n`));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /more than 10 literals/);
  assert.doesNotMatch(err.message, /literal of 1 bytes/);
});
