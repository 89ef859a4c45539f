import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pop3 } from '../../src/probe/protocols/pop3.ts';
import type { FakeConn } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';
import { expectError, expectGoAhead, expectHealthy, expectProbeError, oversized, probeFake, runDialect } from './line-harness.ts';

const { root, leaf, serverCreds } = await testPki();

const CAPA_STLS = '+OK\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nSASL PLAIN\r\nSTLS\r\nIMPLEMENTATION Dovecot\r\n.\r\n';

async function upToStls(conn: FakeConn, capa = CAPA_STLS): Promise<void> {
  conn.write('+OK Dovecot ready.\r\n');
  assert.equal(await conn.readLine(), 'CAPA');
  conn.write(capa);
  assert.equal(await conn.readLine(), 'STLS');
}

test('pop3: sends exactly CAPA then STLS and completes TLS after +OK', async () => {
  const { result, sent, serverErrors } = await probeFake('pop3', root, async (conn) => {
    await upToStls(conn);
    conn.write('+OK Begin TLS negotiation now.\r\n');
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'CAPA\r\nSTLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('pop3: reports STARTTLS_NOT_OFFERED when CAPA lacks STLS, without sending STLS', async () => {
  const { result, sent } = await probeFake('pop3', root, async (conn) => {
    conn.write('+OK ready\r\n');
    await conn.readLine();
    conn.write('+OK Capability list follows\r\nTOP\r\nUSER\r\n.\r\n');
  });
  expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'CAPA');
  assert.equal(result.status, 'critical');
  assert.equal(sent, 'CAPA\r\n');
});

test('pop3: tries STLS when CAPA is unknown and completes on +OK', async () => {
  const run = await runDialect(pop3, async (conn) => {
    await upToStls(conn, '-ERR unknown command\r\n');
    conn.write('+OK go\r\n');
  });
  expectGoAhead(run);
  assert.equal(run.sent, 'CAPA\r\nSTLS\r\n');
});

test('pop3: reports STARTTLS_NOT_OFFERED when CAPA and STLS are both unknown', async () => {
  const run = await runDialect(pop3, async (conn) => {
    await upToStls(conn, '-ERR unknown command\r\n');
    conn.write('-ERR unknown command\r\n');
  });
  expectError(run, 'STARTTLS_NOT_OFFERED', 'STLS');
});

test('pop3: reports STARTTLS_REJECTED when advertised STLS is answered -ERR', async () => {
  const run = await runDialect(pop3, async (conn) => {
    await upToStls(conn);
    conn.write('-ERR [SYS/TEMP] TLS unavailable\r\n');
  });
  const err = expectError(run, 'STARTTLS_REJECTED', 'STLS');
  assert.match(err.message, /-ERR \[SYS\/TEMP\] TLS unavailable/);
});

test('pop3: refuses bytes injected after the +OK go-ahead', async () => {
  const { result } = await probeFake('pop3', root, async (conn) => {
    await upToStls(conn);
    conn.write('+OK go\r\n+OK injected\r\n');
  });
  expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
});

test('pop3: reports PROTOCOL_ERROR on a garbage greeting', async () => {
  const run = await runDialect(pop3, (conn) => conn.write('HTTP/1.1 400 Bad Request\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /not a POP3 greeting/);
  assert.match(err.hint ?? '', /HTTP/);
});

test('pop3: refuses a lower-case +ok status (RFC 1939 requires upper case)', async () => {
  const run = await runDialect(pop3, (conn) => conn.write('+ok ready\r\n'));
  expectError(run, 'PROTOCOL_ERROR', 'greeting');
});

test('pop3: reports PROTOCOL_ERROR when the greeting is -ERR', async () => {
  const run = await runDialect(pop3, (conn) => conn.write('-ERR too many connections\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /refused the session/);
});

test('pop3: times out at greeting when the server stays silent', async () => {
  expectError(await runDialect(pop3, () => {}, 300), 'TIMEOUT', 'greeting');
});

test('pop3: times out naming CAPA when the list drips in slowly', async () => {
  const run = await runDialect(
    pop3,
    async (conn) => {
      conn.write('+OK ready\r\n');
      await conn.readLine();
      await conn.drip(CAPA_STLS, 40);
    },
    400,
  );
  expectError(run, 'TIMEOUT', 'CAPA');
});

test('pop3: reports PROTOCOL_ERROR on an oversized CAPA line', async () => {
  const run = await runDialect(pop3, async (conn) => {
    conn.write('+OK ready\r\n');
    await conn.readLine();
    conn.write(`+OK\r\n${oversized}`);
  });
  expectError(run, 'PROTOCOL_ERROR', 'CAPA');
});

test('pop3: refuses a CAPA list that never ends', async () => {
  const run = await runDialect(pop3, async (conn) => {
    conn.write('+OK ready\r\n');
    await conn.readLine();
    conn.write(`+OK\r\n${'X-CAP\r\n'.repeat(120)}`);
  });
  const err = expectError(run, 'PROTOCOL_ERROR', 'CAPA');
  assert.match(err.message, /longer than 100 lines/);
});

test('pop3: reports PROTOCOL_ERROR when the server closes after STLS', async () => {
  const run = await runDialect(pop3, async (conn) => {
    await upToStls(conn);
    conn.close();
  });
  expectError(run, 'PROTOCOL_ERROR', 'STLS');
});

test('pop3: accepts lower-case stls, a dot-stuffed line and a greeting in pieces', async () => {
  const run = await runDialect(pop3, async (conn) => {
    await conn.drip('+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n', 1);
    await conn.readLine();
    conn.write('+OK\r\n..odd\r\nstls\r\nuser\r\n.\r\n');
    await conn.readLine();
    conn.write('+OK\r\n');
  });
  expectGoAhead(run);
});

test('pop3: does not take a dot-stuffed ".STLS" line for the STLS capability', async () => {
  // "..STLS" is the stuffed form of ".STLS", which is not the STLS capability.
  const run = await runDialect(pop3, async (conn) => {
    conn.write('+OK ready\r\n');
    await conn.readLine();
    conn.write('+OK\r\n..STLS\r\n.\r\n');
  });
  expectError(run, 'STARTTLS_NOT_OFFERED', 'CAPA');
});
