// Issue 8 item 4, "never lose the certificate": a session that fails after the server sent its
// Certificate message still reports the certificate, its judgement and what happened.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { createServer as createNetServer, connect as netConnect } from 'node:net';
import { TrustStore } from '../../src/cert/trust.ts';
import { formatTable } from '../../src/cli/format.ts';
import { Prober, type ProbeOptions, type Resolver } from '../../src/probe/probe.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { creds, makeLeaf, testPki } from '../helpers/pki.ts';
import { startAlertServer } from './alert-relay.ts';

const loopback4: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
const opts: ProbeOptions = { timeoutMs: 3000, warnDays: 30, critDays: 7 };
const versions = ['TLSv1.2', 'TLSv1.3'] as const;

describe('probe of sessions that fail after the server certificate', async () => {
  const pki = await testPki();
  const trust = TrustStore.fromPem(pki.root.certPem);
  const prober = new Prober({ trust, resolve: loopback4 });
  const leafPrint = new X509Certificate(pki.leaf.der).fingerprint256;
  const closers: (() => Promise<unknown>)[] = [];
  after(() => Promise.all(closers.map((c) => c())));
  const probe = async (port: number): Promise<ProbeResult> => {
    const rs = await prober.probe(parseTarget(`localhost:${port}`, { protocol: 'tls' }), opts);
    assert.equal(rs.length, 1);
    return rs[0]!;
  };

  /** A node:tls server that demands a client certificate (requestCert + rejectUnauthorized). */
  const clientAuthServer = async (version: (typeof versions)[number], serverCreds = pki.serverCreds): Promise<number> => {
    const server = createTlsServer({ ...serverCreds, ca: [pki.root.certPem], requestCert: true, rejectUnauthorized: true, minVersion: version, maxVersion: version });
    server.on('tlsClientError', () => {});
    server.on('secureConnection', (s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((r) => server.close(r)));
    return (server.address() as AddressInfo).port;
  };

  for (const version of versions) {
    it(`probe: a ${version} server that demands a client certificate reports its certificate, status ok and the note CLIENT_CERT_REQUIRED`, async () => {
      const r = await probe(await clientAuthServer(version));
      assert.equal(r.error, null);
      assert.equal(r.status, 'ok');
      assert.deepEqual(r.problems, []);
      assert.equal(r.certificate?.fingerprint256, leafPrint);
      assert.equal(r.chain.length, 2);
      assert.equal(r.trusted, true);
      assert.equal(r.tls?.version, version);
      assert.deepEqual(r.notes?.map((n) => n.code), ['CLIENT_CERT_REQUIRED']);
      assert.match(r.notes?.[0]?.message ?? '', version === 'TLSv1.3' ? /requires a client certificate \(certificate_required/ : /asked for a client certificate and ended the session without one \(handshake_failure alert \(40\)\)/);
      // The table shows the note under an OK row; the exit status stays 0.
      const table = formatTable([r], { color: false });
      assert.match(table, /OK/);
      assert.match(table, /CLIENT_CERT_REQUIRED \(note\): localhost:\d+: server/);
    });

    it(`probe: a ${version} server demanding a client certificate still has its expired certificate judged (EXPIRED, critical)`, async () => {
      const expired = await makeLeaf(pki.inter, { notBefore: new Date(Date.now() - 20 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
      const r = await probe(await clientAuthServer(version, creds(expired, pki.inter)));
      assert.equal(r.status, 'critical');
      assert.deepEqual(r.problems.map((p) => p.code), ['EXPIRED']);
      assert.deepEqual(r.notes?.map((n) => n.code), ['CLIENT_CERT_REQUIRED']);
      assert.equal(r.certificate?.fingerprint256, new X509Certificate(expired.der).fingerprint256);
    });

    it(`probe: a ${version} server that completes the handshake and then sends internal_error is TLS_ALERT_AFTER_HANDSHAKE, critical, with its certificate`, async () => {
      const relay = await startAlertServer(pki.serverCreds, version, 80);
      closers.push(() => relay.close());
      const r = await probe(relay.port);
      assert.equal(r.error, null);
      assert.equal(r.status, 'critical');
      assert.deepEqual(r.problems.map((p) => [p.code, p.severity]), [['TLS_ALERT_AFTER_HANDSHAKE', 'critical']]);
      assert.match(r.problems[0]?.message ?? '', /^localhost:\d+: server completed the TLS handshake, then sent a fatal internal_error alert \(80\): no client can use this endpoint$/);
      assert.equal(r.certificate?.fingerprint256, leafPrint);
      assert.equal(r.trusted, true);
      assert.deepEqual(r.notes, []);
    });

    it(`probe: a ${version} server that asked for a client certificate and answers the finished handshake with certificate_unknown is CLIENT_CERT_REQUIRED, not an alarm`, async () => {
      const relay = await startAlertServer(pki.serverCreds, version, 46, true);
      closers.push(() => relay.close());
      const r = await probe(relay.port);
      assert.equal(r.status, 'ok');
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.notes?.map((n) => n.code), ['CLIENT_CERT_REQUIRED']);
      assert.match(r.notes?.[0]?.message ?? '', /certificate_unknown alert \(46\)/);
    });

    it(`probe: a ${version} server that never asked for a client certificate but sends certificate_unknown after the handshake is TLS_ALERT_AFTER_HANDSHAKE`, async () => {
      const relay = await startAlertServer(pki.serverCreds, version, 46, false);
      closers.push(() => relay.close());
      const r = await probe(relay.port);
      assert.equal(r.status, 'critical');
      assert.deepEqual(r.problems.map((p) => p.code), ['TLS_ALERT_AFTER_HANDSHAKE']);
      assert.deepEqual(r.notes, []);
    });
  }

  it('probe: a TLS 1.3 server that asks for an optional client certificate and keeps the session is ok, without a note', async () => {
    const server = createTlsServer({ ...pki.serverCreds, ca: [pki.root.certPem], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    server.on('tlsClientError', () => {});
    server.on('secureConnection', (s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((r) => server.close(r)));
    const r = await probe((server.address() as AddressInfo).port);
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.notes, []);
    assert.equal(r.certificate?.fingerprint256, leafPrint);
  });

  it('probe: a TLS 1.2 server whose connection drops after its certificate is TLS_FAILED_AFTER_CERTIFICATE with the certificate', async () => {
    // A cut cable in front of a healthy server: the first flight passes, the client's answer
    // (ClientKeyExchange, Finished) ends the connection.
    const backend = createTlsServer({ ...pki.serverCreds, maxVersion: 'TLSv1.2' });
    backend.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const relay = createNetServer((client) => {
      const server = netConnect((backend.address() as AddressInfo).port, '127.0.0.1');
      let flights = 0;
      client.on('error', () => {});
      server.on('error', () => {});
      client.on('data', (d) => {
        if (++flights === 2) {
          client.destroy();
          server.destroy();
        } else server.write(d);
      });
      server.on('data', (d) => client.write(d));
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((r) => relay.close(r)), () => new Promise((r) => backend.close(r)));
    const r = await probe((relay.address() as AddressInfo).port);
    assert.equal(r.error, null);
    assert.equal(r.status, 'critical');
    assert.deepEqual(r.problems.map((p) => p.code), ['TLS_FAILED_AFTER_CERTIFICATE']);
    assert.match(r.problems[0]?.message ?? "", /after (sending|the server sent) its certificate/);
    assert.equal(r.certificate?.fingerprint256, leafPrint);
    assert.equal(r.tls?.version, 'TLSv1.2');
  });

  it('probe: a TLS 1.2 server that stops answering after its certificate reports the certificate and TLS_FAILED_AFTER_CERTIFICATE at the deadline, not a bare TIMEOUT', async () => {
    // The first flight passes; the client's answer is swallowed and nothing more comes back.
    const backend = createTlsServer({ ...pki.serverCreds, maxVersion: 'TLSv1.2' });
    backend.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const held: import('node:net').Socket[] = [];
    const relay = createNetServer((client) => {
      const server = netConnect((backend.address() as AddressInfo).port, '127.0.0.1');
      held.push(client, server);
      let flights = 0;
      client.on('error', () => {});
      server.on('error', () => {});
      client.on('data', (d) => {
        if (++flights < 2) server.write(d);
      });
      server.on('data', (d) => {
        if (flights < 2) client.write(d);
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    closers.push(
      () => new Promise((r) => relay.close(r)),
      () => new Promise((r) => backend.close(r)),
      async () => held.forEach((s) => s.destroy()),
    );
    const started = performance.now();
    const [r] = await prober.probe(parseTarget(`localhost:${(relay.address() as AddressInfo).port}`, { protocol: 'tls' }), { ...opts, timeoutMs: 800 });
    assert.ok(performance.now() - started < 2500);
    assert.equal(r?.error, null, JSON.stringify(r?.error));
    assert.equal(r?.status, 'critical');
    assert.deepEqual(r?.problems.map((p) => p.code), ['TLS_FAILED_AFTER_CERTIFICATE']);
    assert.match(r?.problems[0]?.message ?? '', /stopped answering during the TLS handshake, after sending its certificate/);
    assert.equal(r?.certificate?.fingerprint256, leafPrint);
  });
});
