import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imap } from '../../src/probe/protocols/imap.ts';
import type { FakeConn } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';
import { expectError, expectGoAhead, expectHealthy, expectProbeError, oversized, probeFake, runDialect } from './line-harness.ts';

const { root, leaf, serverCreds } = await testPki();

const DOVECOT = '* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot ready.\r\n';

/** A server that greets without capabilities (Exchange does) and answers a001 CAPABILITY. */
async function askedCapabilities(conn: FakeConn, caps = 'IMAP4rev1 STARTTLS AUTH=PLAIN'): Promise<void> {
  conn.write('* OK The Microsoft Exchange IMAP4 service is ready.\r\n');
  assert.equal(await conn.readLine(), 'a001 CAPABILITY');
  conn.write(`* CAPABILITY ${caps}\r\na001 OK CAPABILITY completed.\r\n`);
}

test('imap: uses the greeting capabilities, sends exactly "a002 STARTTLS" and completes TLS', async () => {
  const { result, sent, serverErrors } = await probeFake('imap', root, async (conn) => {
    conn.write(DOVECOT);
    await conn.readLine();
    conn.write('a002 OK Begin TLS negotiation now.\r\n');
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'a002 STARTTLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('imap: asks CAPABILITY when the greeting has none and skips untagged lines before OK', async () => {
  const { result, sent, serverErrors } = await probeFake('imap', root, async (conn) => {
    await askedCapabilities(conn);
    await conn.readLine();
    conn.write('* OK [ALERT] maintenance tonight\r\na002 OK Begin TLS negotiation now.\r\n');
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'a001 CAPABILITY\r\na002 STARTTLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('imap: reports STARTTLS_NOT_OFFERED at greeting when its capabilities lack STARTTLS', async () => {
  const run = await runDialect(imap, (conn) => conn.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n'));
  expectError(run, 'STARTTLS_NOT_OFFERED', 'greeting');
  assert.equal(run.sent, '');
});

test('imap: reports STARTTLS_NOT_OFFERED when CAPABILITY lacks STARTTLS', async () => {
  const { result } = await probeFake('imap', root, (conn) => askedCapabilities(conn, 'IMAP4rev1 AUTH=PLAIN STARTTLSX'));
  expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'CAPABILITY');
  assert.equal(result.status, 'critical');
});

test('imap: reports a PREAUTH greeting as STARTTLS_NOT_OFFERED (RFC 9051 7.1.4)', async () => {
  const run = await runDialect(imap, (conn) => conn.write('* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in as joe\r\n'));
  const err = expectError(run, 'STARTTLS_NOT_OFFERED', 'greeting');
  assert.match(err.message, /PREAUTH/);
  assert.equal(run.sent, '');
});

test('imap: reports PROTOCOL_ERROR when the greeting is BYE', async () => {
  const run = await runDialect(imap, (conn) => conn.write('* BYE Too many connections from your IP\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /refused the session: \* BYE Too many/);
});

for (const refusal of ['a002 NO [UNAVAILABLE] TLS not available', 'a002 BAD unknown command', '* BYE shutting down']) {
  test(`imap: reports STARTTLS_REJECTED when STARTTLS is answered "${refusal}"`, async () => {
    const run = await runDialect(imap, async (conn) => {
      conn.write(DOVECOT);
      await conn.readLine();
      conn.write(`${refusal}\r\n`);
    });
    const err = expectError(run, 'STARTTLS_REJECTED', 'STARTTLS');
    assert.ok(err.message.includes(refusal), err.message);
  });
}

test('imap: refuses bytes injected after the tagged OK', async () => {
  const { result } = await probeFake('imap', root, async (conn) => {
    conn.write(DOVECOT);
    await conn.readLine();
    conn.write('a002 OK Begin TLS negotiation now.\r\n* OK injected\r\n');
  });
  expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
});

test('imap: reports PROTOCOL_ERROR with an SMTP hint when an SMTP server greets', async () => {
  const run = await runDialect(imap, (conn) => conn.write('220 mail.example.org ESMTP Postfix\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /not an IMAP greeting: "220 mail/);
  assert.match(err.hint ?? '', /--protocol smtp/);
});

test('imap: times out at greeting when the server stays silent', async () => {
  expectError(await runDialect(imap, () => {}, 300), 'TIMEOUT', 'greeting');
});

test('imap: times out naming CAPABILITY when its reply drips in slowly', async () => {
  const run = await runDialect(
    imap,
    async (conn) => {
      conn.write('* OK ready\r\n');
      await conn.readLine();
      await conn.drip('* CAPABILITY IMAP4rev1 STARTTLS\r\na001 OK done\r\n', 40);
    },
    400,
  );
  expectError(run, 'TIMEOUT', 'CAPABILITY');
});

test('imap: reports PROTOCOL_ERROR on an oversized greeting', async () => {
  const run = await runDialect(imap, (conn) => conn.write(`* OK ${oversized}`));
  expectError(run, 'PROTOCOL_ERROR', 'greeting');
});

test('imap: reports PROTOCOL_ERROR when the server closes after STARTTLS', async () => {
  const run = await runDialect(imap, async (conn) => {
    conn.write(DOVECOT);
    await conn.readLine();
    conn.close();
  });
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('imap: refuses a completion with the wrong tag', async () => {
  const run = await runDialect(imap, async (conn) => {
    conn.write(DOVECOT);
    await conn.readLine();
    conn.write('a001 OK Begin TLS negotiation now.\r\n');
  });
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('imap: refuses a continuation request in answer to STARTTLS', async () => {
  const run = await runDialect(imap, async (conn) => {
    conn.write(DOVECOT);
    await conn.readLine();
    conn.write('+ go on\r\n');
  });
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('imap: bounds the untagged lines before a completion', async () => {
  const run = await runDialect(imap, async (conn) => {
    conn.write(DOVECOT);
    await conn.readLine();
    conn.write('* OK still here\r\n'.repeat(60));
  });
  const err = expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
  assert.match(err.message, /more than 50 untagged/);
});

test('imap: accepts lower-case keywords and a greeting arriving in pieces', async () => {
  const run = await runDialect(imap, async (conn) => {
    await conn.drip('* ok [capability imap4rev1 starttls] hi\r\n', 1);
    await conn.readLine();
    conn.write('a002 ok begin\r\n');
  });
  expectGoAhead(run);
  assert.equal(run.sent, 'a002 STARTTLS\r\n');
});

test('imap: skips an untagged response carrying a literal', async () => {
  const run = await runDialect(imap, async (conn) => {
    conn.write('* OK ready\r\n');
    await conn.readLine();
    conn.write('* ID ("name" {7}\r\nDovecot)\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na001 OK done\r\n');
    await conn.readLine();
    conn.write('a002 OK go\r\n');
  });
  expectGoAhead(run);
});

test('imap: refuses a literal larger than it will buffer', async () => {
  const run = await runDialect(imap, async (conn) => {
    conn.write('* OK ready\r\n');
    await conn.readLine();
    conn.write('* ID ("name" {100000}\r\n');
  });
  const err = expectError(run, 'PROTOCOL_ERROR', 'CAPABILITY');
  assert.match(err.message, /literal of 100000 bytes/);
});
