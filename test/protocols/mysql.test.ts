import { createServer, type AddressInfo, type Socket } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TrustStore } from '../../src/cert/trust.ts';
import { ProbeError } from '../../src/probe/errors.ts';
import { Prober } from '../../src/probe/probe.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { mysql, parseMysqlGreeting, sslRequest } from '../../src/probe/protocols/mysql.ts';
import { createProbeContext, handshake } from '../../src/probe/tls.ts';
import type { FakeConn } from '../helpers/fake-server.ts';
import { testPki, type Issued, type ServerCreds } from '../helpers/pki.ts';
import { expectHealthy, expectProbeError } from './line-harness.ts';
import { SHORT_DEADLINE_MS, runDialect, serverPool } from './socket-harness.ts';

const { serve, track, closeAll } = serverPool();

/**
 * A MySQL server that greets, reads the 36-byte SSL Request and starts TLS. The client sends
 * its ClientHello right behind the request (there is no go-ahead), so bytes read past the
 * request are handed back to the socket before TLS wraps it (FakeConn would swallow them).
 */
async function startMysqlTls(greeting: Buffer, creds: ServerCreds): Promise<{ port: number; request: Promise<Buffer> }> {
  let gotRequest: (b: Buffer) => void = () => {};
  const request = new Promise<Buffer>((resolve) => (gotRequest = resolve));
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.write(greeting);
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 36) return;
      socket.off('data', onData);
      socket.pause();
      gotRequest(got.subarray(0, 36));
      if (got.length > 36) socket.unshift(got.subarray(36));
      const secure = new TLSSocket(socket, { isServer: true, secureContext: createSecureContext(creds) });
      secure.on('error', () => {});
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track({
    port: (server.address() as AddressInfo).port,
    errors: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  return { port: (server.address() as AddressInfo).port, request };
}

/** One probe through the real Prober (dialect, leftover check, TLS, judge). */
async function probeMysql(port: number, root: Issued): Promise<ProbeResult> {
  const prober = new Prober({ trust: TrustStore.fromPem(root.certPem) });
  const target = {
    input: `mysql://localhost:${port}`,
    host: '127.0.0.1',
    port,
    protocol: 'mysql' as const,
    mode: 'starttls' as const,
    servername: 'localhost',
  };
  const results = await prober.probe(target, { timeoutMs: 3000, warnDays: 30, critDays: 7 });
  assert.equal(results.length, 1);
  return results[0]!;
}

async function expectError(port: number, code: string, message?: RegExp, step = 'greeting'): Promise<ProbeError> {
  const { error } = await runDialect(port, mysql, code === 'TIMEOUT' ? SHORT_DEADLINE_MS : undefined);
  assert.ok(error, 'the dialect should have failed');
  assert.equal(error.code, code, error.message);
  assert.equal(error.step, step);
  if (message !== undefined) assert.match(error.message, message);
  return error;
}

async function dripBytes(conn: FakeConn, data: Buffer, intervalMs: number): Promise<void> {
  for (const byte of data) {
    if (conn.socket.destroyed) return;
    conn.write(Buffer.from([byte]));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function packet(seq: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = seq;
  return Buffer.concat([header, payload]);
}

interface GreetingSpec {
  version: string;
  capsLow: number;
  capsHigh: number;
  charset: number;
  /** MariaDB 10.2+ extended capabilities, written into the last 4 reserved bytes. */
  mariadb?: number;
  plugin: string;
}

/** Protocol::HandshakeV10 as documented by MySQL and MariaDB. */
function greetingPayload(g: GreetingSpec): Buffer {
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10);
  let o = 0;
  o = fixed.writeUInt32LE(42, o); // connection id
  fixed.write('abcdefgh', o, 'latin1'); // auth-plugin-data part 1
  o += 9; // and the 0x00 filler
  o = fixed.writeUInt16LE(g.capsLow, o);
  fixed[o++] = g.charset;
  o = fixed.writeUInt16LE(0x0002, o); // SERVER_STATUS_AUTOCOMMIT
  o = fixed.writeUInt16LE(g.capsHigh, o);
  fixed[o++] = 21; // auth-plugin-data length
  if (g.mariadb !== undefined) fixed.writeUInt32LE(g.mariadb, o + 6);
  return Buffer.concat([
    Buffer.from([10]),
    Buffer.from(`${g.version}\0`, 'latin1'),
    fixed,
    Buffer.from('ijklmnopqrst\0', 'latin1'), // auth-plugin-data part 2
    Buffer.from(`${g.plugin}\0`, 'latin1'),
  ]);
}

const mysql8: GreetingSpec = { version: '8.0.36', capsLow: 0xffff, capsHigh: 0xdfff, charset: 255, plugin: 'caching_sha2_password' };
const mariadb1011: GreetingSpec = {
  version: '5.5.5-10.11.6-MariaDB-0+deb12u1',
  capsLow: 0xfffe,
  capsHigh: 0x81ff,
  charset: 45,
  mariadb: 0x1d,
  plugin: 'mysql_native_password',
};
const mariadb11: GreetingSpec = { ...mariadb1011, version: '11.4.2-MariaDB-ubu2404', mariadb: 0x7d };

const expectedSslRequest = Buffer.concat([
  Buffer.from('20000001', 'hex'), // payload length 32, sequence id 1
  Buffer.from('018a0000', 'hex'), // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION
  Buffer.from('00000001', 'hex'), // max packet 16 MiB
  Buffer.from([33]), // utf8_general_ci
  Buffer.alloc(23),
]);

describe('mysql dialect', () => {
  let creds: ServerCreds;
  let leaf: Issued;
  before(async () => {
    ({ serverCreds: creds, leaf } = await testPki());
  });
  after(async () => {
    await closeAll();
  });

  it('mysql: the SSL Request packet has the exact documented bytes', () => {
    assert.deepEqual(sslRequest(), expectedSslRequest);
    assert.equal(sslRequest().length, 36);
  });

  for (const [name, spec] of [
    ['MySQL 8', mysql8],
    ['MariaDB 10.11', mariadb1011],
    ['MariaDB 11', mariadb11],
  ] as const) {
    it(`mysql: answers a ${name} greeting with the SSL Request and completes a TLS handshake`, async () => {
      const { port, request } = await startMysqlTls(packet(0, greetingPayload(spec)), creds);
      const { error, rest, socket } = await runDialect(port, mysql);
      assert.equal(error, null);
      assert.equal(rest.length, 0);
      const capture = await handshake(socket, 'localhost', createProbeContext(), AbortSignal.timeout(2000));
      assert.deepEqual(await request, expectedSslRequest);
      assert.deepEqual(capture.chain[0], leaf.der);
      socket.destroy();
    });
  }

  it('mysql: parses MySQL 8 and MariaDB greetings, including MariaDB extended capabilities', () => {
    const my = parseMysqlGreeting(greetingPayload(mysql8), 'greeting');
    assert.deepEqual(my, { protocolVersion: 10, serverVersion: '8.0.36', connectionId: 42, capabilities: 0xdfffffff, mariadbCapabilities: null });
    const maria = parseMysqlGreeting(greetingPayload(mariadb1011), 'greeting');
    assert.equal(maria.serverVersion, '5.5.5-10.11.6-MariaDB-0+deb12u1');
    assert.equal(maria.capabilities, 0x81fffffe);
    assert.equal(maria.mariadbCapabilities, 0x1d);
    assert.equal(parseMysqlGreeting(greetingPayload(mariadb11), 'greeting').mariadbCapabilities, 0x7d);
  });

  it('mysql: reports STARTTLS_NOT_OFFERED when the greeting lacks CLIENT_SSL', async () => {
    const port = await serve((conn) => {
      conn.write(packet(0, greetingPayload({ ...mysql8, capsLow: 0xffff & ~0x0800 })));
    });
    await expectError(port, 'STARTTLS_NOT_OFFERED', /8\.0\.36 does not announce CLIENT_SSL/);
  });

  it('mysql: reports PROTOCOL_ERROR with the message for an ERR packet (host not allowed)', async () => {
    const port = await serve((conn) => {
      const msg = "Host '10.0.0.9' is not allowed to connect to this MySQL server";
      conn.write(packet(0, Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from(msg)])));
      conn.close();
    });
    await expectError(port, 'PROTOCOL_ERROR', /refused the connection: 1130: Host '10\.0\.0\.9' is not allowed/);
  });

  it('mysql: reports PROTOCOL_ERROR with the SQL state for an ERR packet (too many connections)', async () => {
    const port = await serve((conn) => {
      conn.write(packet(0, Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('#08004Too many connections')])));
      conn.close();
    });
    await expectError(port, 'PROTOCOL_ERROR', /1040 \(08004\): Too many connections/);
  });

  it('mysql: leaves bytes sent after the greeting unread so that the probe refuses them', async () => {
    const port = await serve((conn) => {
      conn.write(Buffer.concat([packet(0, greetingPayload(mysql8)), Buffer.from('INJECTED')]));
    });
    const { error, rest, socket } = await runDialect(port, mysql);
    socket.destroy();
    assert.equal(error, null);
    assert.equal(rest.toString('latin1'), 'INJECTED');
  });

  it('mysql: reports PROTOCOL_ERROR for a text greeting without reading the length it implies', async () => {
    const port = await serve((conn) => {
      conn.write('220 mail.example.test ESMTP\r\n');
    });
    await expectError(port, 'PROTOCOL_ERROR', /announces 3158578 bytes/);
  });

  it('mysql: reports PROTOCOL_ERROR for a greeting with an unknown protocol version', async () => {
    const port = await serve((conn) => {
      conn.write(packet(0, Buffer.concat([Buffer.from([0x41]), greetingPayload(mysql8).subarray(1)])));
    });
    await expectError(port, 'PROTOCOL_ERROR', /protocol version 65/);
  });

  it('mysql: reports PROTOCOL_ERROR for a first packet with a non-zero sequence id', async () => {
    const port = await serve((conn) => {
      conn.write(packet(3, greetingPayload(mysql8)));
    });
    await expectError(port, 'PROTOCOL_ERROR', /sequence id 3/);
  });

  it('mysql: reports PROTOCOL_ERROR for a greeting truncated before its capability flags', async () => {
    const port = await serve((conn) => {
      conn.write(packet(0, greetingPayload(mysql8).subarray(0, 16)));
    });
    await expectError(port, 'PROTOCOL_ERROR', /truncated before capability flags/);
  });

  it('mysql: reports TIMEOUT during the greeting when the server stays silent', async () => {
    const port = await serve(() => {});
    const err = await expectError(port, 'TIMEOUT');
    assert.match(err.message, /no greeting/);
  });

  it('mysql: reports TIMEOUT when the greeting drips in slower than the deadline', async () => {
    const port = await serve(async (conn) => {
      await conn.drip(packet(0, greetingPayload(mysql8)), 30);
    });
    await expectError(port, 'TIMEOUT');
  });

  it('mysql: refuses an oversized first packet without waiting for its bytes', async () => {
    const port = await serve((conn) => {
      conn.write(Buffer.from([0xff, 0xff, 0xff, 0x00]));
    });
    // The bytes never come: waiting for them would end in TIMEOUT, not PROTOCOL_ERROR.
    await expectError(port, 'PROTOCOL_ERROR', /16777215 bytes/);
  });

  it('mysql: reports PROTOCOL_ERROR when the server closes in the middle of the greeting', async () => {
    const port = await serve((conn) => {
      conn.write(packet(0, greetingPayload(mysql8)).subarray(0, 20));
      conn.close();
    });
    await expectError(port, 'PROTOCOL_ERROR', /closed/);
  });

  it('mysql: the Prober reads the full chain after the SSL Request and judges it healthy', async () => {
    const pki = await testPki();
    const { port, request } = await startMysqlTls(packet(0, greetingPayload(mariadb11)), pki.serverCreds);
    expectHealthy(await probeMysql(port, pki.root), pki.leaf);
    assert.deepEqual(await request, expectedSslRequest);
  });

  it('mysql: the Prober refuses bytes sent behind the greeting as PROTOCOL_ERROR', async () => {
    const port = await serve((conn) => {
      conn.write(Buffer.concat([packet(0, greetingPayload(mysql8)), packet(1, Buffer.from([0xfe]))]));
    });
    expectProbeError(await probeMysql(port, (await testPki()).root), 'PROTOCOL_ERROR', 'after STARTTLS');
  });

  it('mysql: the Prober reports a greeting without CLIENT_SSL as a critical STARTTLS_NOT_OFFERED finding', async () => {
    const port = await serve((conn) => {
      conn.write(packet(0, greetingPayload({ ...mariadb1011, capsLow: 0xf7fe })));
    });
    const result = await probeMysql(port, (await testPki()).root);
    expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'greeting');
    assert.equal(result.status, 'critical');
  });
});
