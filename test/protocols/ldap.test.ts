import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeError } from '../../src/probe/errors.ts';
import { NOTICE_OF_DISCONNECTION_OID, START_TLS_OID, ldap, startTlsRequest } from '../../src/probe/protocols/ldap.ts';
import { integerBytes, tlv } from '../../src/probe/protocols/ldap-ber.ts';
import { createProbeContext, handshake } from '../../src/probe/tls.ts';
import type { FakeConn } from '../helpers/fake-server.ts';
import { testPki, type Issued, type ServerCreds } from '../helpers/pki.ts';
import { expectHealthy, expectProbeError, probeFake } from './line-harness.ts';
import { SHORT_DEADLINE_MS, runDialect, serverPool } from './socket-harness.ts';

const { serve, track, closeAll } = serverPool();

async function expectError(port: number, code: string, message?: RegExp, step = 'StartTLS'): Promise<ProbeError> {
  const { error } = await runDialect(port, ldap, code === 'TIMEOUT' ? SHORT_DEADLINE_MS : undefined);
  assert.ok(error, 'the dialect should have failed');
  assert.equal(error.code, code, error.message);
  assert.equal(error.step, step);
  if (message !== undefined) assert.match(error.message, message);
  return error;
}

interface ResponseFields {
  id?: number;
  code?: number;
  diagnostic?: string;
  name?: string | null;
  referral?: string[];
}

/** An LDAPMessage holding an ExtendedResponse, built from RFC 4511 section 4.12. */
function extendedResponse(f: ResponseFields = {}): Buffer {
  const parts = [
    tlv(0x0a, integerBytes(f.code ?? 0)),
    tlv(0x04, Buffer.alloc(0)),
    tlv(0x04, Buffer.from(f.diagnostic ?? '', 'utf8')),
  ];
  if (f.referral !== undefined) parts.push(tlv(0xa3, Buffer.concat(f.referral.map((r) => tlv(0x04, Buffer.from(r))))));
  const name = f.name === undefined ? START_TLS_OID : f.name;
  if (name !== null) parts.push(tlv(0x8a, Buffer.from(name)));
  return tlv(0x30, Buffer.concat([tlv(0x02, integerBytes(f.id ?? 1)), tlv(0x78, Buffer.concat(parts))]));
}

/** A server that reads the 31-byte request and answers with `reply`. */
function answering(reply: Buffer, then?: (conn: FakeConn) => void): (conn: FakeConn) => Promise<void> {
  return async (conn) => {
    await conn.readBytes(31);
    conn.write(reply);
    then?.(conn);
  };
}

describe('ldap dialect', () => {
  let creds: ServerCreds;
  let leaf: Issued;
  before(async () => {
    ({ serverCreds: creds, leaf } = await testPki());
  });
  after(async () => {
    await closeAll();
  });

  it('ldap: the StartTLS ExtendedRequest has the exact RFC 4511 encoding', () => {
    const expected = Buffer.concat([
      Buffer.from('301d020101771880' + '16', 'hex'),
      Buffer.from('1.3.6.1.4.1.1466.20037', 'latin1'),
    ]);
    assert.deepEqual(startTlsRequest(), expected);
    assert.equal(expected.length, 31);
  });

  it('ldap: sends the request and completes a TLS handshake after a success ExtendedResponse', async () => {
    let received: Buffer | null = null;
    const port = await serve(async (conn) => {
      received = await conn.readBytes(31);
      conn.write(extendedResponse());
      conn.startTls(creds);
    });
    const { error, rest, socket } = await runDialect(port, ldap);
    assert.equal(error, null);
    assert.equal(rest.length, 0);
    assert.deepEqual(received, startTlsRequest());
    const capture = await handshake(socket, 'localhost', createProbeContext(), AbortSignal.timeout(2000));
    assert.deepEqual(capture.chain[0], leaf.der);
    socket.destroy();
  });

  it('ldap: accepts a success without responseName (RFC 4511) and 4-byte long-form lengths (Active Directory)', async () => {
    const body = extendedResponse({ name: null }).subarray(2);
    const adStyle = Buffer.concat([Buffer.from([0x30, 0x84, 0, 0, 0, body.length]), body]);
    const port = await serve(answering(adStyle));
    const { error, rest, socket } = await runDialect(port, ldap);
    socket.destroy();
    assert.equal(error, null);
    assert.equal(rest.length, 0);
  });

  it('ldap: reports STARTTLS_NOT_OFFERED when the server answers protocolError', async () => {
    const port = await serve(answering(extendedResponse({ code: 2, diagnostic: 'unsupported extended operation', name: null })));
    await expectError(port, 'STARTTLS_NOT_OFFERED', /protocolError \(2\): unsupported extended operation/);
  });

  it('ldap: reports STARTTLS_NOT_OFFERED with the URL when the server answers referral', async () => {
    const port = await serve(answering(extendedResponse({ code: 10, referral: ['ldap://tls.example.test/'] })));
    await expectError(port, 'STARTTLS_NOT_OFFERED', /referral \(10\).*ldap:\/\/tls\.example\.test\//);
  });

  it('ldap: reports STARTTLS_REJECTED with the diagnostic when the server answers unavailable', async () => {
    const port = await serve(answering(extendedResponse({ code: 52, diagnostic: 'Could not initialize TLS' })));
    await expectError(port, 'STARTTLS_REJECTED', /unavailable \(52\): Could not initialize TLS/);
  });

  it('ldap: escapes line separators and bidi overrides of a UTF-8 diagnostic in the message', async () => {
    const port = await serve(answering(extendedResponse({ code: 52, diagnostic: 'busy\u2028ok, 90 days left \u202egnp.exe\u2066' })));
    const err = await expectError(port, 'STARTTLS_REJECTED', /busy\\u2028ok, 90 days left \\u202egnp\.exe\\u2066/);
    assert.doesNotMatch(err.message, /[\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });

  it('ldap: reports STARTTLS_REJECTED when the server answers operationsError', async () => {
    const port = await serve(answering(extendedResponse({ code: 1, diagnostic: 'TLS already started' })));
    await expectError(port, 'STARTTLS_REJECTED', /operationsError \(1\)/);
  });

  it('ldap: reports STARTTLS_REJECTED with its message for a Notice of Disconnection', async () => {
    const notice = extendedResponse({ id: 0, code: 52, diagnostic: 'server is shutting down', name: NOTICE_OF_DISCONNECTION_OID });
    const port = await serve(answering(notice, (c) => c.close()));
    await expectError(port, 'STARTTLS_REJECTED', /notice of disconnection: unavailable \(52\): server is shutting down/);
  });

  it('ldap: reports PROTOCOL_ERROR for a response to another messageID', async () => {
    const port = await serve(answering(extendedResponse({ id: 7 })));
    await expectError(port, 'PROTOCOL_ERROR', /messageID 7/);
  });

  it('ldap: reports PROTOCOL_ERROR for an ExtendedResponse naming another operation', async () => {
    const port = await serve(answering(extendedResponse({ name: '1.3.6.1.4.1.4203.1.11.3' })));
    await expectError(port, 'PROTOCOL_ERROR', /not StartTLS/);
  });

  it('ldap: reports PROTOCOL_ERROR for a BindResponse in place of the ExtendedResponse', async () => {
    const bind = tlv(0x30, Buffer.concat([tlv(0x02, integerBytes(1)), tlv(0x61, Buffer.from('0a010004000400', 'hex'))]));
    const port = await serve(answering(bind));
    await expectError(port, 'PROTOCOL_ERROR', /expected an ExtendedResponse/);
  });

  it('ldap: reports PROTOCOL_ERROR for an element that overruns its container', async () => {
    const broken = Buffer.from('300902010178040a050000', 'hex');
    const port = await serve(answering(broken));
    await expectError(port, 'PROTOCOL_ERROR', /malformed LDAP response/);
  });

  it('ldap: leaves bytes injected right after the success response unread so that the probe refuses them', async () => {
    const port = await serve(answering(Buffer.concat([extendedResponse(), Buffer.from('INJECTED')])));
    const { error, rest, socket } = await runDialect(port, ldap);
    socket.destroy();
    assert.equal(error, null);
    assert.equal(rest.toString('latin1'), 'INJECTED');
  });

  it('ldap: reports PROTOCOL_ERROR for a text reply that is not LDAP at all', async () => {
    const port = await serve(answering(Buffer.from('220 mail.example.test ESMTP\r\n')));
    await expectError(port, 'PROTOCOL_ERROR', /not an LDAP message \(first byte 0x32\)/);
  });

  it('ldap: reports TIMEOUT during StartTLS when the server stays silent', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(31);
    });
    await expectError(port, 'TIMEOUT');
  });

  it('ldap: reports TIMEOUT when the response drips in slower than the deadline', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(31);
      await conn.drip(extendedResponse({ diagnostic: 'x'.repeat(30) }), 30);
    });
    await expectError(port, 'TIMEOUT');
  });

  it('ldap: refuses an oversized message length without waiting for its bytes', async () => {
    const port = await serve(answering(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff])));
    // The bytes never come: waiting for them would end in TIMEOUT, not PROTOCOL_ERROR.
    await expectError(port, 'PROTOCOL_ERROR', /2147483647 bytes/);
  });

  it('ldap: reports PROTOCOL_ERROR for an indefinite length, which LDAP forbids', async () => {
    const port = await serve(answering(Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01])));
    await expectError(port, 'PROTOCOL_ERROR', /indefinite/);
  });

  it('ldap: reports PROTOCOL_ERROR when the server closes in the middle of the response', async () => {
    const port = await serve(answering(extendedResponse().subarray(0, 10), (c) => c.close()));
    await expectError(port, 'PROTOCOL_ERROR', /closed/);
  });

  it('ldap: the Prober reads the full chain after a success response and judges it healthy', async () => {
    const pki = await testPki();
    const { result } = await probeFake('ldap', pki.root, async (conn) => {
      await conn.readBytes(31);
      conn.write(extendedResponse());
      conn.startTls(pki.serverCreds);
    });
    expectHealthy(result, pki.leaf);
  });

  it('ldap: the Prober refuses bytes injected right after the success response as PROTOCOL_ERROR', async () => {
    const { result } = await probeFake('ldap', (await testPki()).root, async (conn) => {
      await conn.readBytes(31);
      conn.write(Buffer.concat([extendedResponse(), startTlsRequest()]));
    });
    expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
  });

  it('ldap: the Prober reports an unavailable answer as a critical STARTTLS_REJECTED finding', async () => {
    const { result } = await probeFake('ldap', (await testPki()).root, answering(extendedResponse({ code: 52 })));
    expectProbeError(result, 'STARTTLS_REJECTED', 'StartTLS');
    assert.equal(result.status, 'critical');
  });
});
