import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TrustStore } from '../../src/cert/trust.ts';
import { Prober, type ProbeOptions, type Resolver } from '../../src/probe/probe.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { startFakeServer, type FakeConn, type FakeServer } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';

const loopback4: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
const opts: ProbeOptions = { timeoutMs: 3000, warnDays: 30, critDays: 7 };

describe('probe over SMTP STARTTLS', async () => {
  const pki = await testPki();
  const prober = new Prober({ trust: TrustStore.fromPem(pki.root.certPem), resolve: loopback4 });
  const servers: FakeServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  async function smtpServer(afterGoAhead: (conn: FakeConn) => void, ehlo = '250-mail.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n'): Promise<number> {
    const s = await startFakeServer(async (conn) => {
      conn.write('220 mail.example.org ESMTP\r\n');
      assert.match(await conn.readLine(), /^EHLO /);
      conn.write(ehlo);
      assert.equal(await conn.readLine(), 'STARTTLS');
      afterGoAhead(conn);
    });
    servers.push(s);
    return s.port;
  }

  async function probe(port: number): Promise<ProbeResult> {
    const [r] = await prober.probe(parseTarget(`localhost:${port}`, { protocol: 'smtp', mode: 'starttls' }), opts);
    assert.ok(r);
    return r;
  }

  it('probe: upgrades an SMTP session with STARTTLS and judges the certificate', async () => {
    const r = await probe(
      await smtpServer((conn) => {
        conn.write('220 2.0.0 go ahead\r\n');
        conn.startTls(pki.serverCreds);
      }),
    );
    assert.equal(r.error, null, r.error?.message);
    assert.equal(r.status, 'ok');
    assert.equal(r.chain.length, 2);
    assert.equal(r.trusted, true);
    assert.ok((r.timings.starttlsMs ?? -1) >= 0);
  });

  it('probe: bytes injected after the STARTTLS go-ahead are a PROTOCOL_ERROR (RFC 3207 section 4.2)', async () => {
    const r = await probe(
      await smtpServer((conn) => {
        conn.write('220 2.0.0 go ahead\r\n250 injected\r\n');
        conn.startTls(pki.serverCreds);
      }),
    );
    assert.equal(r.error?.code, 'PROTOCOL_ERROR');
    assert.match(r.error?.message ?? '', /unexpected bytes after the TLS go-ahead/);
    assert.equal(r.certificate, null);
  });

  it('probe: a plaintext answer to the ClientHello after the go-ahead says so, without suggesting --mode starttls', async () => {
    const r = await probe(
      await smtpServer((conn) => {
        conn.write('220 2.0.0 go ahead\r\n');
        conn.socket.once('data', () => conn.write('500 5.5.1 command unrecognized\r\n'));
      }),
    );
    assert.equal(r.error?.code, 'TLS_HANDSHAKE_FAILED');
    assert.match(r.error?.message ?? '', /agreed to start TLS, then did not answer with TLS/);
    assert.doesNotMatch(r.error?.message ?? '', /--mode starttls/);
  });

  it('probe: a server without STARTTLS is the critical finding STARTTLS_NOT_OFFERED', async () => {
    const s = await startFakeServer(async (conn) => {
      conn.write('220 mail.example.org ESMTP\r\n');
      await conn.readLine();
      conn.write('250-mail.example.org\r\n250 PIPELINING\r\n');
      await conn.readLine();
    });
    servers.push(s);
    const r = await probe(s.port);
    assert.equal(r.status, 'critical');
    assert.equal(r.error?.code, 'STARTTLS_NOT_OFFERED');
    assert.deepEqual(r.problems.map((p) => [p.code, p.severity]), [['STARTTLS_NOT_OFFERED', 'critical']]);
  });
});
