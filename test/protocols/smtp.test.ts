import assert from 'node:assert/strict';
import { test } from 'node:test';
import { smtp } from '../../src/probe/protocols/smtp.ts';
import { testPki } from '../helpers/pki.ts';
import { expectError, expectGoAhead, expectHealthy, expectProbeError, oversized, probeFake, runDialect } from './line-harness.ts';

const { root, leaf, serverCreds } = await testPki();

const EHLO_TLS = '250-mail.example.org Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n';

test('smtp: completes the TLS handshake after 220 and judges the certificate', async () => {
  const { result, sent, serverErrors } = await probeFake('smtp', root, async (conn) => {
    conn.write('220 mail.example.org ESMTP Postfix\r\n');
    await conn.readLine();
    conn.write(EHLO_TLS);
    await conn.readLine();
    conn.write('220 2.0.0 Ready to start TLS\r\n');
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'EHLO certwatch.invalid\r\nSTARTTLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('smtp: reports STARTTLS_NOT_OFFERED as a critical finding when EHLO lacks STARTTLS', async () => {
  const { result, sent } = await probeFake('smtp', root, async (conn) => {
    conn.write('220 mail.example.org ESMTP\r\n');
    await conn.readLine();
    conn.write('250-mail.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n');
  });
  expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'EHLO');
  assert.equal(result.status, 'critical');
  assert.equal(result.problems[0]?.code, 'STARTTLS_NOT_OFFERED');
  assert.equal(sent, 'EHLO certwatch.invalid\r\n');
});

test('smtp: reports STARTTLS_NOT_OFFERED when the server does not know EHLO', async () => {
  const run = await runDialect(smtp, async (conn) => {
    conn.write('220 old.example.org SMTP\r\n');
    await conn.readLine();
    conn.write('502 5.5.2 Error: command not recognized\r\n');
  });
  expectError(run, 'STARTTLS_NOT_OFFERED', 'EHLO');
});

test('smtp: reports STARTTLS_REJECTED when STARTTLS is answered 454', async () => {
  const run = await runDialect(smtp, async (conn) => {
    conn.write('220 mail.example.org ESMTP\r\n');
    await conn.readLine();
    conn.write(EHLO_TLS);
    await conn.readLine();
    conn.write('454 4.7.0 TLS not available due to local problem\r\n');
  });
  const err = expectError(run, 'STARTTLS_REJECTED', 'STARTTLS');
  assert.match(err.message, /454 4\.7\.0 TLS not available/);
});

test('smtp: refuses a 250 in place of the 220 go-ahead', async () => {
  const run = await runDialect(smtp, async (conn) => {
    conn.write('220 mail.example.org ESMTP\r\n');
    await conn.readLine();
    conn.write(EHLO_TLS);
    await conn.readLine();
    conn.write('250 OK\r\n');
  });
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('smtp: refuses bytes injected after the 220 go-ahead in the same write', async () => {
  const { result } = await probeFake('smtp', root, async (conn) => {
    conn.write('220 mail.example.org ESMTP\r\n');
    await conn.readLine();
    conn.write(EHLO_TLS);
    await conn.readLine();
    conn.write('220 Ready\r\n250-injected\r\n');
  });
  expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
  assert.equal(result.status, 'error');
});

test('smtp: reports PROTOCOL_ERROR with a hint when an SSH server greets', async () => {
  const run = await runDialect(smtp, (conn) => conn.write('SSH-2.0-OpenSSH_9.6\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /not an SMTP reply: "SSH-2\.0-OpenSSH_9\.6"/);
  assert.match(err.hint ?? '', /SSH/);
});

test('smtp: suggests --protocol imap when an IMAP server greets', async () => {
  const run = await runDialect(smtp, (conn) => conn.write('* OK IMAP4rev1 ready\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.hint ?? '', /--protocol imap/);
});

test('smtp: reports PROTOCOL_ERROR when the greeting is 554', async () => {
  const run = await runDialect(smtp, (conn) => conn.write('554 5.7.1 No SMTP service here\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /refused the session: 554/);
});

test('smtp: times out at greeting when the server stays silent', async () => {
  const run = await runDialect(smtp, () => {}, 300);
  expectError(run, 'TIMEOUT', 'greeting');
});

test('smtp: times out naming EHLO when the reply drips in slowly', async () => {
  const run = await runDialect(
    smtp,
    async (conn) => {
      conn.write('220 mail.example.org ESMTP\r\n');
      await conn.readLine();
      await conn.drip(EHLO_TLS, 40);
    },
    400,
  );
  expectError(run, 'TIMEOUT', 'EHLO');
});

test('smtp: reports PROTOCOL_ERROR on an oversized line', async () => {
  const run = await runDialect(smtp, (conn) => conn.write(`220 ${oversized}`));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /longer than 4096/);
});

test('smtp: reports PROTOCOL_ERROR when the server closes after EHLO', async () => {
  const run = await runDialect(smtp, async (conn) => {
    conn.write('220 mail.example.org ESMTP\r\n');
    await conn.readLine();
    conn.close();
  });
  const err = expectError(run, 'PROTOCOL_ERROR', 'EHLO');
  assert.match(err.message, /closed the connection/);
});

test('smtp: reports PROTOCOL_ERROR when a multi-line reply changes its code', async () => {
  const run = await runDialect(smtp, (conn) => conn.write('220-mail.example.org\r\n250 ESMTP\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /changed from 220 to 250/);
});

test('smtp: refuses an endless multi-line reply', async () => {
  const run = await runDialect(smtp, (conn) => conn.write('220-x\r\n'.repeat(150)));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /longer than 100 lines/);
});

test('smtp: accepts a multi-line greeting in pieces, lower-case starttls and LF endings', async () => {
  const run = await runDialect(smtp, async (conn) => {
    await conn.drip('220-mail.example.org ESMTP\r\n220-no UCE\r\n220 ready\r\n', 1);
    await conn.readLine();
    conn.write('250-mail.example.org\n250-AUTH PLAIN LOGIN\n250-starttls\n250 SMTPUTF8\n');
    await conn.readLine();
    conn.write('220 go ahead\r\n');
  });
  expectGoAhead(run);
  assert.equal(run.sent, 'EHLO certwatch.invalid\r\nSTARTTLS\r\n');
});

test('smtp: does not take STARTTLS on the server-name line for an extension', async () => {
  const run = await runDialect(smtp, async (conn) => {
    conn.write('220 starttls ESMTP\r\n');
    await conn.readLine();
    conn.write('250-STARTTLS\r\n250 SIZE\r\n');
  });
  expectError(run, 'STARTTLS_NOT_OFFERED', 'EHLO');
});

test('smtp: suggests --protocol ftp when an FTP server does not know EHLO', async () => {
  const run = await runDialect(smtp, async (conn) => {
    conn.write('220 ProFTPD Server (Debian) [::ffff:127.0.0.1]\r\n');
    await conn.readLine();
    conn.write('500 EHLO not understood\r\n');
  });
  const err = expectError(run, 'STARTTLS_NOT_OFFERED', 'EHLO');
  assert.match(err.hint ?? '', /--protocol ftp/);
});
