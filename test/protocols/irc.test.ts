import assert from 'node:assert/strict';
import { test } from 'node:test';
import { irc } from '../../src/probe/protocols/irc.ts';
import { testPki } from '../helpers/pki.ts';
import { expectError, expectGoAhead, expectHealthy, expectProbeError, oversized, probeFake, runDialect } from './line-harness.ts';

const { root, leaf, serverCreds } = await testPki();

const NOTICES = ':irc.example.net NOTICE * :*** Looking up your hostname...\r\n:irc.example.net NOTICE * :*** Found your hostname\r\n';
const GO = ':irc.example.net 670 * :STARTTLS successful, go ahead with TLS handshake\r\n';

test('irc: sends exactly STARTTLS, skips notices and completes TLS after 670', async () => {
  const { result, sent, serverErrors } = await probeFake('irc', root, async (conn) => {
    conn.write(NOTICES);
    assert.equal(await conn.readLine(), 'STARTTLS');
    conn.write(GO);
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'STARTTLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('irc: speaks first to a server that stays silent until the client talks', async () => {
  const run = await runDialect(irc, async (conn) => {
    assert.equal(await conn.readLine(), 'STARTTLS');
    conn.write(GO);
  });
  expectGoAhead(run);
});

test('irc: answers a PING cookie with PONG and then takes the 670', async () => {
  const run = await runDialect(irc, async (conn) => {
    await conn.readLine();
    conn.write('PING :A1B2C3\r\n');
    assert.equal(await conn.readLine(), 'PONG :A1B2C3');
    conn.write(GO);
  });
  expectGoAhead(run);
  assert.equal(run.sent, 'STARTTLS\r\nPONG :A1B2C3\r\n');
});

test('irc: reports STARTTLS_REJECTED on 691 ERR_STARTTLS', async () => {
  const run = await runDialect(irc, async (conn) => {
    await conn.readLine();
    conn.write(':irc.example.net 691 * :STARTTLS failure\r\n');
  });
  const err = expectError(run, 'STARTTLS_REJECTED', 'STARTTLS');
  assert.match(err.message, /691 \* :STARTTLS failure/);
});

test('irc: reports STARTTLS_NOT_OFFERED as a critical finding on 421 unknown command', async () => {
  const { result } = await probeFake('irc', root, async (conn) => {
    conn.write(NOTICES);
    await conn.readLine();
    conn.write(':irc.example.net 421 * STARTTLS :Unknown command\r\n');
  });
  expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'STARTTLS');
  assert.equal(result.status, 'critical');
});

test('irc: reports STARTTLS_NOT_OFFERED on 451 not registered', async () => {
  const run = await runDialect(irc, async (conn) => {
    await conn.readLine();
    conn.write(':irc.example.net 451 * STARTTLS :You have not registered\r\n');
  });
  expectError(run, 'STARTTLS_NOT_OFFERED', 'STARTTLS');
});

test('irc: refuses bytes injected after the 670 go-ahead', async () => {
  const { result } = await probeFake('irc', root, async (conn) => {
    await conn.readLine();
    conn.write(`${GO}:irc.example.net NOTICE * :injected\r\n`);
  });
  expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
});

test('irc: reports PROTOCOL_ERROR with an SMTP hint when an SMTP server answers', async () => {
  const run = await runDialect(irc, (conn) => conn.write('220 mail.example.org ESMTP\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /not an IRC message/);
  assert.match(err.hint ?? '', /--protocol smtp/);
});

test('irc: reports PROTOCOL_ERROR on a line that is no IRC message after a notice', async () => {
  const run = await runDialect(irc, (conn) => conn.write(`${NOTICES}hello there\r\n`));
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('irc: reports PROTOCOL_ERROR when the server sends ERROR', async () => {
  const run = await runDialect(irc, (conn) => conn.write('ERROR :Closing Link: 127.0.0.1 (Throttled)\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
  assert.match(err.message, /Throttled/);
});

test('irc: times out at greeting when the server never says anything', async () => {
  expectError(await runDialect(irc, () => {}, 300), 'TIMEOUT', 'greeting');
});

test('irc: times out naming STARTTLS when the 670 drips in slowly', async () => {
  const run = await runDialect(
    irc,
    async (conn) => {
      conn.write(NOTICES);
      await conn.readLine();
      await conn.drip(GO, 40);
    },
    400,
  );
  expectError(run, 'TIMEOUT', 'STARTTLS');
});

test('irc: reports PROTOCOL_ERROR on an oversized line', async () => {
  const run = await runDialect(irc, (conn) => conn.write(`:irc.example.net NOTICE * :${oversized}`));
  expectError(run, 'PROTOCOL_ERROR', 'greeting');
});

test('irc: bounds the lines before the reply to STARTTLS', async () => {
  const run = await runDialect(irc, (conn) => conn.write(':irc NOTICE * :spam\r\n'.repeat(60)));
  const err = expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
  assert.match(err.message, /within 50 lines/);
});

test('irc: reports PROTOCOL_ERROR when the server closes before answering', async () => {
  const run = await runDialect(irc, async (conn) => {
    conn.write(NOTICES);
    await conn.readLine();
    conn.close();
  });
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('irc: accepts message tags, prefix-less NOTICE AUTH, lower-case commands and LF endings', async () => {
  const run = await runDialect(irc, async (conn) => {
    conn.write('NOTICE AUTH :*** Processing connection\nnotice * :hi\n:irc 020 * :Please wait\n');
    await conn.readLine();
    conn.write('@time=2026-01-01T00:00:00.000Z :irc.example.net 670 certwatch :STARTTLS successful\n');
  });
  expectGoAhead(run);
});
