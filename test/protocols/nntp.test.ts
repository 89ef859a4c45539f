import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nntp } from '../../src/probe/protocols/nntp.ts';
import type { FakeConn } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';
import { expectError, expectGoAhead, expectHealthy, expectProbeError, oversized, probeFake, runDialect } from './line-harness.ts';

const { root, leaf, serverCreds } = await testPki();

const CAPS_TLS = '101 Capability list:\r\nVERSION 2\r\nREADER\r\nIHAVE\r\nSTARTTLS\r\nLIST ACTIVE NEWSGROUPS\r\n.\r\n';

async function upToStarttls(conn: FakeConn, caps = CAPS_TLS): Promise<void> {
  conn.write('200 news.example.org InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n');
  assert.equal(await conn.readLine(), 'CAPABILITIES');
  conn.write(caps);
  assert.equal(await conn.readLine(), 'STARTTLS');
}

test('nntp: sends exactly CAPABILITIES then STARTTLS and completes TLS after 382', async () => {
  const { result, sent, serverErrors } = await probeFake('nntp', root, async (conn) => {
    await upToStarttls(conn);
    conn.write('382 Begin TLS negotiation now\r\n');
    conn.startTls(serverCreds);
  });
  expectHealthy(result, leaf);
  assert.equal(sent, 'CAPABILITIES\r\nSTARTTLS\r\n');
  assert.deepEqual(serverErrors, []);
});

test('nntp: switches a mode-switching server to MODE READER to find STARTTLS', async () => {
  const run = await runDialect(nntp, async (conn) => {
    conn.write('200 news.example.org InterNetNews server INN 2.7.1 ready (transit mode)\r\n');
    await conn.readLine();
    conn.write('101 Capability list:\r\nVERSION 2\r\nIHAVE\r\nMODE-READER\r\n.\r\n');
    assert.equal(await conn.readLine(), 'MODE READER');
    conn.write('201 NNTP server ready (no posting)\r\n');
    assert.equal(await conn.readLine(), 'CAPABILITIES');
    conn.write(CAPS_TLS);
    await conn.readLine();
    conn.write('382 go\r\n');
  });
  expectGoAhead(run);
  assert.equal(run.sent, 'CAPABILITIES\r\nMODE READER\r\nCAPABILITIES\r\nSTARTTLS\r\n');
});

test('nntp: reports STARTTLS_NOT_OFFERED as a critical finding when CAPABILITIES lacks it', async () => {
  const { result, sent } = await probeFake('nntp', root, async (conn) => {
    conn.write('201 ready\r\n');
    await conn.readLine();
    conn.write('101 Capability list:\r\nVERSION 2\r\nREADER\r\n.\r\n');
  });
  expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'CAPABILITIES');
  assert.equal(result.status, 'critical');
  assert.equal(sent, 'CAPABILITIES\r\n');
});

test('nntp: tries STARTTLS on a server without CAPABILITIES and reports 500 as not offered', async () => {
  const run = await runDialect(nntp, async (conn) => {
    await upToStarttls(conn, '500 What?\r\n');
    conn.write('500 What?\r\n');
  });
  expectError(run, 'STARTTLS_NOT_OFFERED', 'STARTTLS');
});

for (const reply of ['580 Can not initiate TLS negotiation', '502 Command unavailable']) {
  test(`nntp: reports STARTTLS_REJECTED when STARTTLS is answered "${reply}"`, async () => {
    const run = await runDialect(nntp, async (conn) => {
      await upToStarttls(conn);
      conn.write(`${reply}\r\n`);
    });
    const err = expectError(run, 'STARTTLS_REJECTED', 'STARTTLS');
    assert.ok(err.message.includes(reply));
  });
}

test('nntp: refuses a 200 in place of the 382 go-ahead', async () => {
  const run = await runDialect(nntp, async (conn) => {
    await upToStarttls(conn);
    conn.write('200 ok\r\n');
  });
  expectError(run, 'PROTOCOL_ERROR', 'STARTTLS');
});

test('nntp: refuses bytes injected after the 382 go-ahead', async () => {
  const { result } = await probeFake('nntp', root, async (conn) => {
    await upToStarttls(conn);
    conn.write('382 go\r\n211 injected\r\n');
  });
  expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
});

test('nntp: reports PROTOCOL_ERROR on a garbage greeting', async () => {
  const run = await runDialect(nntp, (conn) => conn.write('hello there\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /not an NNTP greeting: "hello there"/);
});

test('nntp: reports PROTOCOL_ERROR when the greeting is 400', async () => {
  const run = await runDialect(nntp, (conn) => conn.write('400 Service temporarily unavailable\r\n'));
  const err = expectError(run, 'PROTOCOL_ERROR', 'greeting');
  assert.match(err.message, /refused the session/);
});

test('nntp: times out at greeting when the server stays silent', async () => {
  expectError(await runDialect(nntp, () => {}, 300), 'TIMEOUT', 'greeting');
});

test('nntp: times out naming CAPABILITIES when the list drips in slowly', async () => {
  const run = await runDialect(
    nntp,
    async (conn) => {
      conn.write('200 ready\r\n');
      await conn.readLine();
      await conn.drip(CAPS_TLS, 40);
    },
    400,
  );
  expectError(run, 'TIMEOUT', 'CAPABILITIES');
});

test('nntp: reports PROTOCOL_ERROR on an oversized capability line', async () => {
  const run = await runDialect(nntp, async (conn) => {
    conn.write('200 ready\r\n');
    await conn.readLine();
    conn.write(`101 caps\r\n${oversized}`);
  });
  expectError(run, 'PROTOCOL_ERROR', 'CAPABILITIES');
});

test('nntp: refuses a capability list that never ends', async () => {
  const run = await runDialect(nntp, async (conn) => {
    conn.write('200 ready\r\n');
    await conn.readLine();
    conn.write(`101 caps\r\n${'X-CAP\r\n'.repeat(120)}`);
  });
  expectError(run, 'PROTOCOL_ERROR', 'CAPABILITIES');
});

test('nntp: reports PROTOCOL_ERROR when the server closes after CAPABILITIES', async () => {
  const run = await runDialect(nntp, async (conn) => {
    conn.write('200 ready\r\n');
    await conn.readLine();
    conn.close();
  });
  expectError(run, 'PROTOCOL_ERROR', 'CAPABILITIES');
});

test('nntp: accepts lower-case starttls and a greeting in pieces', async () => {
  const run = await runDialect(nntp, async (conn) => {
    await conn.drip('201 news ready\r\n', 1);
    await conn.readLine();
    conn.write('101 list\r\nversion 2\r\nreader\r\nstarttls\r\n.\r\n');
    await conn.readLine();
    conn.write('382 Continue with TLS negotiation\r\n');
  });
  expectGoAhead(run);
});
