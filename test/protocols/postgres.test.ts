import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeError } from '../../src/probe/errors.ts';
import { SSL_REQUEST, parseErrorFields, postgres } from '../../src/probe/protocols/postgres.ts';
import { createProbeContext, handshake } from '../../src/probe/tls.ts';
import { testPki, type ServerCreds, type Issued } from '../helpers/pki.ts';
import { expectHealthy, expectProbeError, probeFake } from './line-harness.ts';
import { SHORT_DEADLINE_MS, runDialect, serverPool } from './socket-harness.ts';

const { serve, track, closeAll } = serverPool();

async function expectError(port: number, code: string, step: string, message?: RegExp): Promise<ProbeError> {
  const { error } = await runDialect(port, postgres, code === 'TIMEOUT' ? SHORT_DEADLINE_MS : undefined);
  assert.ok(error, 'the dialect should have failed');
  assert.equal(error.code, code, error.message);
  assert.equal(error.step, step);
  if (message !== undefined) assert.match(error.message, message);
  return error;
}

/** An ErrorResponse body as a protocol 3 server sends it. */
function errorResponse(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([
    ...Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`, 'utf8')),
    Buffer.from([0]),
  ]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from('E'), len, body]);
}

describe('postgres dialect', () => {
  let creds: ServerCreds;
  let leaf: Issued;
  before(async () => {
    ({ serverCreds: creds, leaf } = await testPki());
  });
  after(async () => {
    await closeAll();
  });

  it('postgres: SSLRequest is exactly length 8 and code 80877103', () => {
    assert.deepEqual(SSL_REQUEST, Buffer.from('0000000804d2162f', 'hex'));
    assert.equal(SSL_REQUEST.readUInt32BE(4), 80877103);
  });

  it("postgres: sends the exact SSLRequest bytes and completes a TLS handshake after 'S'", async () => {
    let received: Buffer | null = null;
    const port = await serve(async (conn) => {
      received = await conn.readBytes(8);
      conn.write('S');
      conn.startTls(creds);
    });
    const { error, rest, socket } = await runDialect(port, postgres);
    assert.equal(error, null);
    assert.equal(rest.length, 0);
    assert.deepEqual(received, SSL_REQUEST);
    const capture = await handshake(socket, 'localhost', createProbeContext(), AbortSignal.timeout(2000));
    assert.deepEqual(capture.chain[0], leaf.der);
    socket.destroy();
  });

  it("postgres: reports STARTTLS_NOT_OFFERED when the server answers 'N'", async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      conn.write('N');
    });
    await expectError(port, 'STARTTLS_NOT_OFFERED', 'SSLRequest', /answered 'N'/);
  });

  it("postgres: leaves bytes injected right after 'S' unread so that the probe refuses them", async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      conn.write('SR\0\0\0\x08\0\0\0\0');
    });
    const { error, rest, socket } = await runDialect(port, postgres);
    socket.destroy();
    assert.equal(error, null);
    assert.deepEqual(rest, Buffer.from('R\0\0\0\x08\0\0\0\0', 'latin1'));
  });

  it('postgres: reports PROTOCOL_ERROR with the server message for an ErrorResponse (too many clients)', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      conn.write(errorResponse({ S: 'FATAL', V: 'FATAL', C: '53300', M: 'sorry, too many clients already' }));
      conn.close();
    });
    await expectError(port, 'PROTOCOL_ERROR', 'SSLRequest', /FATAL 53300: sorry, too many clients already/);
  });

  it('postgres: quotes a protocol 2 error string that ends with the connection', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      conn.write('EFATAL:  unsupported frontend protocol\n');
      conn.close();
    });
    await expectError(port, 'PROTOCOL_ERROR', 'SSLRequest', /unsupported frontend protocol/);
  });

  it('postgres: reports PROTOCOL_ERROR for a reply that is not S, N or E', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      conn.write('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await expectError(port, 'PROTOCOL_ERROR', 'SSLRequest', /byte 0x48/);
  });

  it('postgres: hints at implicit mode when the port answers with TLS', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      conn.write(Buffer.from([0x16]));
    });
    const err = await expectError(port, 'PROTOCOL_ERROR', 'SSLRequest');
    assert.match(err.hint ?? '', /implicit/);
  });

  it('postgres: reports TIMEOUT during SSLRequest when the server stays silent', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
    });
    await expectError(port, 'TIMEOUT', 'SSLRequest');
  });

  it('postgres: reports TIMEOUT when an ErrorResponse drips in slower than the deadline', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      await conn.drip(errorResponse({ S: 'FATAL', M: 'x'.repeat(40) }).toString('latin1'), 30);
    });
    await expectError(port, 'TIMEOUT', 'SSLRequest');
  });

  it('postgres: refuses an oversized ErrorResponse length without waiting for its bytes', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      conn.write(Buffer.from([0x45, 0x00, 0x10, 0x00, 0x00]));
    });
    // The bytes never come: waiting for them would end in TIMEOUT, not PROTOCOL_ERROR.
    await expectError(port, 'PROTOCOL_ERROR', 'SSLRequest', /1048576 bytes/);
  });

  it('postgres: reports PROTOCOL_ERROR when the server closes instead of answering', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(8);
      conn.close();
    });
    await expectError(port, 'PROTOCOL_ERROR', 'SSLRequest', /closed/);
  });

  it('postgres: parses ErrorResponse fields and rejects an unterminated one', () => {
    assert.equal(parseErrorFields(Buffer.from('SERROR\0C0A000\0Mno\0\0')), 'ERROR 0A000: no');
    assert.equal(parseErrorFields(Buffer.from('SERROR\0Mno')), null);
    assert.equal(parseErrorFields(Buffer.from('SERROR\0\0')), null);
  });

  it("postgres: the Prober reads the full chain after 'S' and judges it healthy", async () => {
    const { root, leaf: leafCert, serverCreds } = await testPki();
    const { result, sent } = await probeFake('postgres', root, async (conn) => {
      await conn.readBytes(8);
      conn.write('S');
      conn.startTls(serverCreds);
    });
    expectHealthy(result, leafCert);
    assert.equal(Buffer.from(sent, 'latin1').toString('hex'), SSL_REQUEST.toString('hex'));
  });

  it("postgres: the Prober refuses bytes injected right after 'S' as PROTOCOL_ERROR", async () => {
    const { result } = await probeFake('postgres', (await testPki()).root, async (conn) => {
      await conn.readBytes(8);
      conn.write('SQ\0\0\0\x0bselect 1\0');
    });
    expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
  });

  it("postgres: the Prober reports 'N' as a critical STARTTLS_NOT_OFFERED finding", async () => {
    const { result } = await probeFake('postgres', (await testPki()).root, async (conn) => {
      await conn.readBytes(8);
      conn.write('N');
    });
    expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'SSLRequest');
    assert.equal(result.status, 'critical');
    assert.deepEqual(result.problems.map((p) => p.code), ['STARTTLS_NOT_OFFERED']);
  });
});
