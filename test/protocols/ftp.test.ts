import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ftp } from '../../src/probe/protocols/ftp.ts';
import type { FakeConn } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';
import { expectError, expectGoAhead, expectHealthy, expectProbeError, oversized, probeFake, runDialect } from './line-harness.ts';

const { root, leaf, serverCreds } = await testPki();

async function upToAuth(conn: FakeConn, greeting = '220 (vsFTPd 3.0.5)\r\n'): Promise<void> {
  conn.write(greeting);
  assert.equal(await conn.readLine(), 'AUTH TLS');
}

test('ftp: sends exactly "AUTH TLS" after a multi-line greeting and completes TLS after 234', async () => {
  const greeting = '220-Welcome to ProFTPD\r\n220-Be nice\r\n  indented line\r\n220 ProFTPD Server ready.\r\n';
  const { result, sent, serverErrors } = await probeFake('ftp', root, async (conn) => {
    await upToAuth(conn, greeting);
    conn.write('234 AUTH TLS successful\r\n');
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'AUTH TLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('ftp: waits through a 120 preliminary reply for the 220', async () => {
  const run = await runDialect(ftp, async (conn) => {
    await upToAuth(conn, '120 Service ready in 1 minute\r\n220 ready\r\n');
    conn.write('234 go\r\n');
  });
  expectGoAhead(run);
});

test('ftp: ends a multi-line reply only at its code and a space (RFC 959 4.2)', async () => {
  const run = await runDialect(ftp, async (conn) => {
    await upToAuth(conn, '220-first\r\n123 not the end\r\n220-still not\r\n220\r\n');
    conn.write('234 go\r\n');
  });
  expectGoAhead(run);
});

test('ftp: reports STARTTLS_NOT_OFFERED as a critical finding when AUTH is unknown', async () => {
  const { result } = await probeFake('ftp', root, async (conn) => {
    await upToAuth(conn);
    conn.write('500 AUTH not understood\r\n');
  });
  expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'AUTH TLS');
  assert.equal(result.status, 'critical');
});

for (const reply of ['502 Command not implemented', '504 Unknown AUTH type', '530 Please login with USER and PASS.']) {
  test(`ftp: reports STARTTLS_NOT_OFFERED when AUTH TLS is answered "${reply}"`, async () => {
    const run = await runDialect(ftp, async (conn) => {
      await upToAuth(conn);
      conn.write(`${reply}\r\n`);
    });
    expectError(run, 'STARTTLS_NOT_OFFERED', 'AUTH TLS');
  });
}

for (const reply of ['534 Request denied for policy reasons', '431 Unable to accept security mechanism']) {
  test(`ftp: reports STARTTLS_REJECTED when AUTH TLS is answered "${reply}"`, async () => {
    const run = await runDialect(ftp, async (conn) => {
      await upToAuth(conn);
      conn.write(`${reply}\r\n`);
    });
    const err = expectError(run, 'STARTTLS_REJECTED', 'AUTH TLS');
    assert.ok(err.message.includes(reply));
  });
}

test('ftp: refuses 334 (ADAT wanted) as a go-ahead', async () => {
  const run = await runDialect(ftp, async (conn) => {
    await upToAuth(conn);
    conn.write('334 ADAT=abc\r\n');
  });
  expectError(run, 'PROTOCOL_ERROR', 'AUTH TLS');
});

test('ftp: refuses bytes injected after the 234 go-ahead', async () => {
  const { result } = await probeFake('ftp', root, async (conn) => {
    await upToAuth(conn);
    conn.write('234 go\r\n200 injected\r\n');
  });
  expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
});

test('ftp: reports PROTOCOL_ERROR with an IMAP hint on an IMAP greeting', async () => {
  const run = await runDialect(ftp, (conn) => conn.write('* OK [CAPABILITY IMAP4rev1] ready\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /not an FTP reply/);
  assert.match(err.hint ?? '', /--protocol imap/);
});

test('ftp: reports PROTOCOL_ERROR when the greeting is 421', async () => {
  const run = await runDialect(ftp, (conn) => conn.write('421 Too many users\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /421 Too many users/);
});

test('ftp: times out at greeting when the server stays silent', async () => {
  expectError(await runDialect(ftp, () => {}, 300), 'TIMEOUT', 'greeting');
});

test('ftp: times out naming AUTH TLS when the reply drips in slowly', async () => {
  const run = await runDialect(
    ftp,
    async (conn) => {
      await upToAuth(conn);
      await conn.drip('234 AUTH TLS successful\r\n', 40);
    },
    400,
  );
  expectError(run, 'TIMEOUT', 'AUTH TLS');
});

test('ftp: reports PROTOCOL_ERROR on an oversized line inside a multi-line greeting', async () => {
  const run = await runDialect(ftp, (conn) => conn.write(`220-hello\r\n${oversized}`));
  expectError(run, 'PROTOCOL_ERROR', 'greeting');
});

test('ftp: refuses a multi-line greeting that never ends', async () => {
  const run = await runDialect(ftp, (conn) => conn.write(`220-hello\r\n${'banner\r\n'.repeat(150)}`));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /longer than 100 lines/);
});

test('ftp: reports PROTOCOL_ERROR when the server closes after AUTH TLS', async () => {
  const run = await runDialect(ftp, async (conn) => {
    await upToAuth(conn);
    conn.destroy();
  });
  expectError(run, 'PROTOCOL_ERROR', 'AUTH TLS');
});

test('ftp: accepts a greeting arriving in pieces', async () => {
  const run = await runDialect(ftp, async (conn) => {
    await conn.drip('220-Pure-FTPd\r\n220 You will be disconnected after 15 minutes\r\n', 1);
    await conn.readLine();
    conn.write('234 AUTH TLS OK.\r\n');
  });
  expectGoAhead(run);
  assert.equal(run.sent, 'AUTH TLS\r\n');
});

test('ftp: suggests --protocol smtp when an SMTP server does not know AUTH TLS', async () => {
  const run = await runDialect(ftp, async (conn) => {
    await upToAuth(conn, '220 mail.example.org ESMTP Postfix\r\n');
    conn.write('502 5.5.2 Error: command not recognized\r\n');
  });
  const err = expectError(run, 'STARTTLS_NOT_OFFERED', 'AUTH TLS');
  assert.match(err.hint ?? '', /--protocol smtp/);
});

test('ftp: gives no hint when a real FTP server does not know AUTH', async () => {
  const run = await runDialect(ftp, async (conn) => {
    await upToAuth(conn, '220 ftp.example.org FTP server (Version 6.00LS) ready.\r\n');
    conn.write('500 AUTH: command not understood.\r\n');
  });
  const err = expectError(run, 'STARTTLS_NOT_OFFERED', 'AUTH TLS');
  assert.equal(err.hint, undefined);
});
