import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeError } from '../../src/probe/errors.ts';
import { STARTTLS_COMMAND, streamHeader, xmppClient, xmppServer } from '../../src/probe/protocols/xmpp.ts';
import { XmlSyntaxError, decodeEntities, scanToken } from '../../src/probe/protocols/xmpp-xml.ts';
import { createProbeContext, handshake } from '../../src/probe/tls.ts';
import type { FakeConn } from '../helpers/fake-server.ts';
import { testPki, type Issued, type ServerCreds } from '../helpers/pki.ts';
import { expectHealthy, expectProbeError, probeFake } from './line-harness.ts';
import { SHORT_DEADLINE_MS, runDialect, serverPool } from './socket-harness.ts';

const { serve, track, closeAll } = serverPool();

async function expectError(port: number, code: string, step: string, message?: RegExp, dialect = xmppClient): Promise<ProbeError> {
  const { error } = await runDialect(port, dialect, code === 'TIMEOUT' ? SHORT_DEADLINE_MS : undefined);
  assert.ok(error, 'the dialect should have failed');
  assert.equal(error.code, code, error.message);
  assert.equal(error.step, step);
  if (message !== undefined) assert.match(error.message, message);
  return error;
}

const CLIENT_HEADER = streamHeader('client', 'localhost');
const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** Prosody-style answer: single quotes, stream: prefix, <required/> inside <starttls>. */
const SERVER_HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "id='a1b2' from='localhost' version='1.0' xml:lang='en'>";
const FEATURES = `<stream:features><starttls xmlns='${TLS_NS}'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
const PROCEED = `<proceed xmlns='${TLS_NS}'/>`;

/** A server that reads our header, sends `opening`, reads <starttls/> and sends `answer`. */
function scripted(opening: string, answer?: string, after?: (conn: FakeConn) => void): (conn: FakeConn) => Promise<void> {
  return async (conn) => {
    await conn.readBytes(CLIENT_HEADER.length);
    conn.write(opening);
    if (answer === undefined) return;
    await conn.readBytes(STARTTLS_COMMAND.length);
    conn.write(answer);
    after?.(conn);
  };
}

/** Writes `data` in small pieces so that elements straddle reads. */
async function chunked(conn: FakeConn, data: string, size: number): Promise<void> {
  for (let i = 0; i < data.length; i += size) {
    if (conn.socket.destroyed) return;
    conn.write(data.slice(i, i + size));
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe('xmpp dialect', () => {
  let creds: ServerCreds;
  let leaf: Issued;
  before(async () => {
    ({ serverCreds: creds, leaf } = await testPki());
  });
  after(async () => {
    await closeAll();
  });

  it('xmpp: the client stream header and <starttls/> are exactly as RFC 6120 shows them', () => {
    assert.equal(
      CLIENT_HEADER,
      "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    );
    assert.equal(STARTTLS_COMMAND, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    assert.equal(
      streamHeader('server', "a'b&c"),
      "<?xml version='1.0'?><stream:stream from='certwatch.invalid' to='a&#39;b&#38;c' version='1.0' xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>",
    );
  });

  it('xmpp: negotiates STARTTLS with a Prosody-style server and completes a TLS handshake after <proceed/>', async () => {
    const seen: string[] = [];
    const port = await serve(async (conn) => {
      seen.push((await conn.readBytes(CLIENT_HEADER.length)).toString('latin1'));
      conn.write(SERVER_HEADER + FEATURES);
      seen.push((await conn.readBytes(STARTTLS_COMMAND.length)).toString('latin1'));
      conn.write(PROCEED);
      conn.startTls(creds);
    });
    const { error, rest, socket } = await runDialect(port, xmppClient);
    assert.equal(error, null);
    assert.equal(rest.length, 0);
    assert.deepEqual(seen, [CLIENT_HEADER, STARTTLS_COMMAND]);
    const capture = await handshake(socket, 'localhost', createProbeContext(), AbortSignal.timeout(2000));
    assert.deepEqual(capture.chain[0], leaf.der);
    socket.destroy();
  });

  it('xmpp: xmpp-server sends a jabber:server header with from and to and accepts <proceed/>', async () => {
    const serverHeader = streamHeader('server', 'localhost');
    let seen = '';
    const port = await serve(async (conn) => {
      seen = (await conn.readBytes(serverHeader.length)).toString('latin1');
      conn.write(SERVER_HEADER.replace("'jabber:client'", "'jabber:server'") + FEATURES);
      await conn.readBytes(STARTTLS_COMMAND.length);
      conn.write(PROCEED);
    });
    const { error, rest, socket } = await runDialect(port, xmppServer);
    socket.destroy();
    assert.equal(error, null);
    assert.equal(rest.length, 0);
    assert.equal(seen, serverHeader);
    assert.match(seen, /xmlns='jabber:server'/);
  });

  it("xmpp-server: accepts Prosody's s2s answer (to='', jabber:server with the dialback namespace, a dialback feature) in one write", async () => {
    // Seen in the interop suite (docs/interop.md): Prosody 0.12 on port 5269.
    const serverHeader = streamHeader('server', 'localhost');
    const prosodyS2s =
      "<?xml version='1.0'?><stream:stream xmlns:db='jabber:server:dialback' xmlns:stream='http://etherx.jabber.org/streams' " +
      "xml:lang='en' to='' from='localhost' id='s2s-7f' version='1.0' xmlns='jabber:server'>" +
      `<stream:features><dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback><starttls xmlns='${TLS_NS}'/></stream:features>`;
    const port = await serve(async (conn) => {
      await conn.readBytes(serverHeader.length);
      conn.write(prosodyS2s);
      await conn.readBytes(STARTTLS_COMMAND.length);
      conn.write(PROCEED);
    });
    const { error, rest, socket } = await runDialect(port, xmppServer);
    socket.destroy();
    assert.equal(error, null, error?.message);
    assert.equal(rest.length, 0);
  });

  it('xmpp: accepts default namespaces, double quotes, prefixed TLS elements, keep-alives and elements split across reads', async () => {
    const opening =
      '<?xml version="1.0" encoding="UTF-8"?>\n<stream xmlns="http://etherx.jabber.org/streams" version="1.0" from="localhost">' +
      ' \n <features><tls:starttls xmlns:tls="urn:ietf:params:xml:ns:xmpp-tls"/><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></features>  ';
    const port = await serve(async (conn) => {
      await conn.readBytes(CLIENT_HEADER.length);
      await chunked(conn, opening, 3);
      await conn.readBytes(STARTTLS_COMMAND.length);
      await chunked(conn, ` <tls:proceed xmlns:tls="${TLS_NS}"></tls:proceed>`, 4);
    });
    const { error, rest, socket } = await runDialect(port, xmppClient, 3000);
    socket.destroy();
    assert.equal(error, null);
    assert.equal(rest.length, 0);
  });

  it('xmpp: reports STARTTLS_NOT_OFFERED when the features lack <starttls/>', async () => {
    const features = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    const port = await serve(scripted(SERVER_HEADER + features));
    await expectError(port, 'STARTTLS_NOT_OFFERED', 'stream features', /offered: mechanisms/);
  });

  it('xmpp: does not count a <starttls/> in a foreign namespace as the offer', async () => {
    const features = "<stream:features><starttls xmlns='urn:example:not-tls'/></stream:features>";
    const port = await serve(scripted(SERVER_HEADER + features));
    await expectError(port, 'STARTTLS_NOT_OFFERED', 'stream features');
  });

  it('xmpp: reports STARTTLS_NOT_OFFERED for a pre-1.0 stream without a version', async () => {
    const port = await serve(scripted("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x'>"));
    await expectError(port, 'STARTTLS_NOT_OFFERED', 'stream header', /version 0\.9/);
  });

  it('xmpp: reports STARTTLS_REJECTED when the server answers <failure/>', async () => {
    const port = await serve(scripted(SERVER_HEADER + FEATURES, `<failure xmlns='${TLS_NS}'/></stream:stream>`, (c) => c.close()));
    await expectError(port, 'STARTTLS_REJECTED', 'STARTTLS', /<failure\/>/);
  });

  it('xmpp: reports STARTTLS_REJECTED with the condition when the server answers with a stream error', async () => {
    const error =
      "<stream:error><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
      "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no certificate &amp; no key</text></stream:error>";
    const port = await serve(scripted(SERVER_HEADER + FEATURES, error));
    await expectError(port, 'STARTTLS_REJECTED', 'STARTTLS', /<internal-server-error\/>: no certificate & no key/);
  });

  it('xmpp: reports PROTOCOL_ERROR with a --servername hint for host-unknown before the features', async () => {
    const error = "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>";
    const port = await serve(scripted(SERVER_HEADER + error));
    const err = await expectError(port, 'PROTOCOL_ERROR', 'stream features', /<host-unknown\/>/);
    assert.match(err.hint ?? '', /--servername/);
  });

  it('xmpp: refuses bytes sent right behind <proceed/>', async () => {
    const port = await serve(scripted(SERVER_HEADER + FEATURES, `${PROCEED}<message>injected</message>`));
    await expectError(port, 'PROTOCOL_ERROR', 'after STARTTLS', /27 unexpected bytes/);
  });

  it('xmpp: reports PROTOCOL_ERROR for a text greeting that is not XML', async () => {
    const port = await serve((conn) => {
      conn.write('220 mail.example.test ESMTP\r\n');
    });
    await expectError(port, 'PROTOCOL_ERROR', 'stream header', /220 mail\.example\.test/);
  });

  it('xmpp: reports PROTOCOL_ERROR for an XML root that is not an XMPP stream', async () => {
    const port = await serve(scripted("<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'>"));
    await expectError(port, 'PROTOCOL_ERROR', 'stream header', /<html>/);
  });

  it('xmpp: reports PROTOCOL_ERROR for restricted XML such as comments', async () => {
    const port = await serve(scripted(`${SERVER_HEADER}<!-- hello -->${FEATURES}`));
    await expectError(port, 'PROTOCOL_ERROR', 'stream features', /restricted/);
  });

  it('xmpp: escapes and bounds the server text it quotes in XML syntax errors', async () => {
    const name = `\x1b[2J\x9b31m${'x'.repeat(5000)}`;
    for (const bad of [`</${name}>`, `<${name} a='1' a='2'/>`, `<p${name}:x/>`, `<a>&\x1b[2J;</a>`, `<a></${name}>`, `<${name} \x1b/>`]) {
      const port = await serve(scripted(SERVER_HEADER + bad));
      const err = await expectError(port, 'PROTOCOL_ERROR', 'stream features');
      assert.doesNotMatch(err.message, /[\x00-\x1f\x7f-\x9f]/, JSON.stringify(err.message.slice(0, 80)));
      assert.ok(err.message.length < 300, `${err.message.length} characters`);
    }
  });

  it('xmpp: reports PROTOCOL_ERROR when the server closes the stream instead of sending features', async () => {
    const port = await serve(scripted(`${SERVER_HEADER}</stream:stream>`));
    await expectError(port, 'PROTOCOL_ERROR', 'stream features', /closed the stream/);
  });

  it('xmpp: reports PROTOCOL_ERROR for an unexpected answer to <starttls/>', async () => {
    const port = await serve(scripted(SERVER_HEADER + FEATURES, "<iq type='error' id='1'/>"));
    await expectError(port, 'PROTOCOL_ERROR', 'STARTTLS', /got <iq>/);
  });

  it('xmpp: reports TIMEOUT during the stream header when the server stays silent', async () => {
    const port = await serve(() => {});
    await expectError(port, 'TIMEOUT', 'stream header');
  });

  it('xmpp: reports TIMEOUT during STARTTLS when the server does not answer <starttls/>', async () => {
    const port = await serve(scripted(SERVER_HEADER + FEATURES));
    await expectError(port, 'TIMEOUT', 'STARTTLS');
  });

  it('xmpp: reports TIMEOUT when the features drip in slower than the deadline', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(CLIENT_HEADER.length);
      conn.write(SERVER_HEADER);
      await conn.drip(FEATURES, 20);
    });
    await expectError(port, 'TIMEOUT', 'stream features');
  });

  it('xmpp: refuses a tag longer than the limit without waiting for its end', async () => {
    const port = await serve(scripted(`<stream:stream xmlns:stream='http://etherx.jabber.org/streams' x='${'a'.repeat(9000)}`));
    await expectError(port, 'PROTOCOL_ERROR', 'stream header', /longer than 8192/);
  });

  it('xmpp: refuses endless features at the total byte limit', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(CLIENT_HEADER.length);
      conn.write(`${SERVER_HEADER}<stream:features>`);
      conn.write('<x/>'.repeat(20_000));
    });
    await expectError(port, 'PROTOCOL_ERROR', 'stream features', /more than 65536 bytes/);
  });

  it('xmpp: refuses elements nested deeper than the limit', async () => {
    const port = await serve(scripted(`${SERVER_HEADER}<stream:features>${'<a>'.repeat(40)}`));
    await expectError(port, 'PROTOCOL_ERROR', 'stream features', /nested deeper/);
  });

  it('xmpp: reports PROTOCOL_ERROR when the server closes in the middle of the features', async () => {
    const port = await serve(async (conn) => {
      await conn.readBytes(CLIENT_HEADER.length);
      conn.write(`${SERVER_HEADER}<stream:features><starttls xmlns=`);
      conn.close();
    });
    await expectError(port, 'PROTOCOL_ERROR', 'stream features', /closed/);
  });

  it('xmpp: the scanner decodes only predefined entities and character references', () => {
    assert.equal(decodeEntities('a&lt;b&#65;&#x42;&apos;'), "a<bAB'");
    assert.throws(() => decodeEntities('&nbsp;'), XmlSyntaxError);
    assert.throws(() => decodeEntities('a & b'), XmlSyntaxError);
    assert.equal(scanToken('<a x="1"', 0), null);
    assert.throws(() => scanToken('<a x="1" y>', 0), XmlSyntaxError);
    assert.throws(() => scanToken("<a x='1' x='2'/>", 0), XmlSyntaxError);
    assert.throws(() => scanToken('<?php echo 1 ?>', 0), XmlSyntaxError);
  });

  it('xmpp: the Prober reads the full chain after <proceed/> and judges it healthy', async () => {
    const pki = await testPki();
    const { result, sent } = await probeFake('xmpp', pki.root, async (conn) => {
      await conn.readBytes(CLIENT_HEADER.length);
      conn.write(SERVER_HEADER + FEATURES);
      await conn.readBytes(STARTTLS_COMMAND.length);
      conn.write(PROCEED);
      conn.startTls(pki.serverCreds);
    });
    expectHealthy(result, pki.leaf);
    assert.equal(sent, CLIENT_HEADER + STARTTLS_COMMAND);
  });

  it('xmpp-server: the Prober reads the full chain after <proceed/> and judges it healthy', async () => {
    const pki = await testPki();
    const header = streamHeader('server', 'localhost');
    const { result, sent } = await probeFake('xmpp-server', pki.root, async (conn) => {
      await conn.readBytes(header.length);
      conn.write(SERVER_HEADER.replace("'jabber:client'", "'jabber:server'") + FEATURES);
      await conn.readBytes(STARTTLS_COMMAND.length);
      conn.write(PROCEED);
      conn.startTls(pki.serverCreds);
    });
    expectHealthy(result, pki.leaf);
    assert.equal(sent, header + STARTTLS_COMMAND);
  });

  it('xmpp: the Prober refuses bytes injected after <proceed/> as PROTOCOL_ERROR', async () => {
    const { result } = await probeFake('xmpp', (await testPki()).root, scripted(SERVER_HEADER + FEATURES, `${PROCEED}<iq/>`));
    expectProbeError(result, 'PROTOCOL_ERROR', 'after STARTTLS');
  });

  it('xmpp: the Prober reports missing <starttls/> as a critical STARTTLS_NOT_OFFERED finding', async () => {
    const { result } = await probeFake('xmpp', (await testPki()).root, scripted(`${SERVER_HEADER}<stream:features/>`));
    expectProbeError(result, 'STARTTLS_NOT_OFFERED', 'stream features');
    assert.equal(result.status, 'critical');
  });
});
