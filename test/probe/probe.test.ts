import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { TrustStore } from '../../src/cert/trust.ts';
import { HttpClient } from '../../src/net/http-client.ts';
import { Prober, type Address, type ProbeOptions, type Resolver } from '../../src/probe/probe.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { Revocation } from '../../src/revocation/index.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { startFakeServer, startTlsServer, type FakeServer, type FakeTls } from '../helpers/fake-server.ts';
import { creds, makeCa, makeLeaf, testPki, type Issued } from '../helpers/pki.ts';

const loopback4: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
const opts: ProbeOptions = { timeoutMs: 3000, warnDays: 30, critDays: 7 };

/** Probes `localhost:<port>` as plain implicit TLS (protocol "tls", whatever the port number). */
async function probeOne(prober: Prober, port: number, extra: Partial<ProbeOptions> = {}): Promise<ProbeResult> {
  const results = await prober.probe(parseTarget(`localhost:${port}`, { protocol: 'tls' }), { ...opts, ...extra });
  assert.equal(results.length, 1);
  return results[0]!;
}

function codes(r: ProbeResult): string[] {
  return r.problems.map((p) => p.code).sort();
}

describe('probe over implicit TLS', async () => {
  const pki = await testPki();
  const trust = TrustStore.fromPem(pki.root.certPem);
  const prober = new Prober({ trust, resolve: loopback4 });
  const servers: FakeServer[] = [];
  const serve = async (tls: FakeTls): Promise<number> => {
    const s = await startTlsServer(tls);
    servers.push(s);
    return s.port;
  };
  after(() => Promise.all(servers.map((s) => s.close())));

  it('probe: reports a valid leaf and intermediate, as sent, with no problems', async () => {
    const r = await probeOne(prober, await serve(pki.serverCreds));
    assert.equal(r.status, 'ok');
    assert.equal(r.error, null);
    assert.equal(r.address, '127.0.0.1');
    assert.deepEqual(r.problems, []);
    assert.equal(r.trusted, true);
    assert.equal(r.hostnameMatch, true);
    assert.equal(r.tls?.version, 'TLSv1.3');
    assert.match(r.tls?.cipher ?? '', /^TLS_/);
    assert.equal(r.chain.length, 2);
    assert.equal(r.certificate?.fingerprint256, new X509Certificate(pki.leaf.der).fingerprint256);
    assert.deepEqual(r.chain[0], r.certificate);
    assert.equal(r.chain[0]?.subject, 'CN=localhost');
    assert.equal(r.chain[1]?.subject, 'CN=certwatch test intermediate, O=certwatch tests');
    assert.equal(r.target.servername, 'localhost');
    assert.ok(r.timings.totalMs >= (r.timings.tlsMs ?? 0));
  });

  it('probe: a leaf sent without its intermediate is CHAIN_INCOMPLETE with one certificate, even with the root as extra CA', async () => {
    const r = await probeOne(prober, await serve(creds(pki.leaf)));
    assert.equal(r.chain.length, 1);
    assert.deepEqual(codes(r), ['CHAIN_INCOMPLETE']);
    assert.equal(r.status, 'critical');
    assert.equal(r.trusted, false);
  });

  it('probe: a server that also sends the trusted root (slapd with GnuTLS does) reports 3 certificates and stays ok', async () => {
    const r = await probeOne(prober, await serve(creds(pki.leaf, pki.inter, pki.root)));
    assert.equal(r.chain.length, 3);
    assert.equal(r.chain[2]?.fingerprint256, new X509Certificate(pki.root.der).fingerprint256);
    assert.deepEqual(r.problems, []);
    assert.equal(r.trusted, true);
  });

  it('probe: reads the chain the server sent, in issuing order, without splicing trusted issuers or listing a stray', async () => {
    const stray = await makeCa({ name: 'stray CA' });
    // The root is an anchor here: a client that spliced issuers from its store would show it.
    const twoSent = await probeOne(prober, await serve(creds(pki.leaf, pki.inter)));
    assert.equal(twoSent.chain.length, 2);
    // A stray certificate issues nothing on the path: it is dropped (see sentChain in tls.ts).
    const r = await probeOne(prober, await serve(creds(pki.leaf, stray, pki.inter)));
    assert.deepEqual(
      r.chain.map((c) => c.subject),
      ['CN=localhost', 'CN=certwatch test intermediate, O=certwatch tests'],
    );
    assert.equal(r.trusted, true);
    assert.deepEqual(r.problems, []);
  });

  it('probe: a chain to a root outside the trust store is UNTRUSTED although Node could verify nothing itself', async () => {
    const other = await testPki();
    const r = await probeOne(new Prober({ trust: TrustStore.bundled(), resolve: loopback4 }), await serve(creds(other.leaf, other.inter, other.root)));
    assert.equal(r.chain.length, 3);
    assert.deepEqual(codes(r), ['UNTRUSTED']);
    assert.equal(r.trusted, false);
    // The same server judged with that root as a per-probe extra CA is trusted.
    const again = await probeOne(prober, await serve(creds(other.leaf, other.inter, other.root)), {
      trust: TrustStore.bundled().withExtra(other.root.certPem),
    });
    assert.equal(again.trusted, true);
    assert.deepEqual(again.problems, []);
  });

  it('probe: a private CA leaf whose commonName is not in its SAN is ok with a CN_NOT_IN_SAN note; under a public root it is a warning', async () => {
    const leaf = await makeLeaf(pki.inter, { name: 'valid.interop', sans: ['localhost', '127.0.0.1'] });
    const port = await serve(creds(leaf, pki.inter));
    const r = await probeOne(prober, port);
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.notes?.map((n) => n.code), ['CN_NOT_IN_SAN']);
    assert.match(r.notes?.[0]?.message ?? '', /commonName "valid\.interop".*is a private one/);
    // The same chain when its root is one of the bundled (public) roots: a BR mis-issuance.
    const pub = await probeOne(prober, port, { trust: TrustStore.fromBundle([pki.root.certPem]) });
    assert.equal(pub.status, 'warning');
    assert.deepEqual(pub.problems.map((p) => [p.code, p.severity]), [['CN_NOT_IN_SAN', 'warning']]);
    assert.deepEqual(pub.notes, []);
    // Revocation (on by default in the bot) judges through its own service: the note survives it.
    const http = new HttpClient({ addressPolicy: createAddressPolicy({}) });
    const withRevocation = await probeOne(new Prober({ trust, resolve: loopback4, revocation: new Revocation({ http }) }), port);
    assert.equal(withRevocation.status, 'ok');
    assert.deepEqual(withRevocation.notes?.map((n) => n.code), ['CN_NOT_IN_SAN']);
  });

  it('probe: reports LEGACY_TLS for a server that only speaks TLS 1.0', async (t) => {
    let port: number;
    try {
      port = await serve({ ...pki.serverCreds, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    } catch (err) {
      t.skip(`local OpenSSL refuses a TLS 1.0 server: ${(err as Error).message}`);
      return;
    }
    const r = await probeOne(prober, port);
    if (r.error !== null) {
      t.skip(`local OpenSSL cannot negotiate TLS 1.0: ${r.error.message}`);
      return;
    }
    assert.equal(r.tls?.version, 'TLSv1');
    assert.deepEqual(codes(r), ['LEGACY_TLS']);
    assert.equal(r.status, 'critical');
  });

  it('probe: completes a handshake with an RSA-1024 SHA-1 certificate and reports both weaknesses', async () => {
    const rsaRoot = await makeCa({ key: { type: 'rsa', bits: 2048 } });
    const weak: Issued = await makeLeaf(rsaRoot, { key: { type: 'rsa', bits: 1024 }, hash: 'SHA-1' });
    const port = await serve({ ...creds(weak), ciphers: 'DEFAULT:@SECLEVEL=0' });
    const r = await probeOne(prober, port, { trust: TrustStore.fromPem(rsaRoot.certPem) });
    assert.equal(r.error, null);
    assert.deepEqual(codes(r), ['WEAK_KEY', 'WEAK_SIGNATURE']);
    assert.equal(r.certificate?.keyBits, 1024);
    assert.equal(r.certificate?.signatureAlgorithm, 'sha1WithRSAEncryption');
    // Clients refuse a path that relies on a SHA-1 signature or a 1024-bit RSA key.
    assert.equal(r.trusted, false);
  });
});

describe('probe errors', async () => {
  const pki = await testPki();
  const trust = TrustStore.fromPem(pki.root.certPem);
  const prober = new Prober({ trust, resolve: loopback4 });

  it('probe: a closed port is CONNECT_REFUSED', async () => {
    const server = createNetServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const r = await probeOne(prober, port);
    assert.equal(r.status, 'error');
    assert.equal(r.error?.code, 'CONNECT_REFUSED');
    assert.equal(r.certificate, null);
    assert.deepEqual(r.chain, []);
    assert.match(r.error?.message ?? '', new RegExp(`localhost:${port}: connection to port ${port} refused`));
  });

  it('probe: a server that accepts and stays silent times out during the TLS handshake', async () => {
    const silent = await startFakeServer(() => new Promise<void>(() => {}));
    try {
      const started = performance.now();
      const r = await probeOne(prober, silent.port, { timeoutMs: 300 });
      assert.equal(r.error?.code, 'TIMEOUT');
      assert.match(r.error?.message ?? '', /during TLS handshake/);
      assert.ok(performance.now() - started < 2000);
    } finally {
      await silent.close();
    }
  });

  it('probe: a plaintext SMTP server probed as implicit TLS is TLS_HANDSHAKE_FAILED with a hint', async () => {
    const smtp = await startFakeServer((conn) => {
      conn.write('220 mail.example.org ESMTP ready\r\n');
    });
    try {
      const r = await probeOne(prober, smtp.port);
      assert.equal(r.error?.code, 'TLS_HANDSHAKE_FAILED');
      assert.match(r.error?.message ?? '', /try --mode starttls/);
    } finally {
      await smtp.close();
    }
  });

  it('probe: a server that closes the connection mid-handshake is TLS_HANDSHAKE_FAILED', async () => {
    const rude = await startFakeServer(async (conn) => {
      await conn.readBytes(5);
      conn.destroy();
    });
    try {
      const r = await probeOne(prober, rude.port);
      assert.equal(r.error?.code, 'TLS_HANDSHAKE_FAILED');
      assert.match(r.error?.message ?? '', /during TLS handshake/);
    } finally {
      await rude.close();
    }
  });

  it('probe: a name that does not resolve is DNS_FAILED with one result and no address', async () => {
    const notFound: Resolver = async (host) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    };
    const results = await new Prober({ trust, resolve: notFound }).probe(parseTarget('nowhere.invalid:443'), opts);
    assert.equal(results.length, 1);
    assert.equal(results[0]?.address, null);
    assert.equal(results[0]?.error?.code, 'DNS_FAILED');
    assert.match(results[0]?.error?.message ?? '', /nowhere\.invalid.*ENOTFOUND/);
  });

  it('probe: a resolver that never answers ends in TIMEOUT during DNS lookup', async () => {
    // Never settles; the interval stands in for the pending lookup that keeps a real process alive.
    const hang: Resolver = (_host, signal) =>
      new Promise<Address[]>(() => {
        const alive = setInterval(() => {}, 1000);
        signal.addEventListener('abort', () => clearInterval(alive), { once: true });
      });
    const results = await new Prober({ trust, resolve: hang }).probe(parseTarget('slow.example:443'), { ...opts, timeoutMs: 200 });
    assert.equal(results[0]?.error?.code, 'TIMEOUT');
    assert.match(results[0]?.error?.message ?? '', /DNS lookup/);
  });

  it('probe: an address refused by the address policy is BLOCKED_TARGET and never contacted', async () => {
    let contacted = false;
    const watcher = await startFakeServer(() => {
      contacted = true;
    });
    try {
      const r = await probeOne(prober, watcher.port, { addressPolicy: (a) => (a.address === '127.0.0.1' ? 'loopback' : null) });
      assert.equal(r.error?.code, 'BLOCKED_TARGET');
      assert.match(r.error?.message ?? '', /127\.0\.0\.1 is not allowed: loopback/);
      assert.equal(contacted, false);
    } finally {
      await watcher.close();
    }
  });
});

describe('probe of every address', async () => {
  const pki = await testPki();
  const trust = TrustStore.fromPem(pki.root.certPem);
  let server: TlsServer | null = null;
  let port = 0;
  let v6 = true;

  before(async () => {
    // One dual-stack listener on "::" answers on 127.0.0.1 and ::1 with the same port.
    const s = createTlsServer(pki.serverCreds);
    s.on('tlsClientError', () => {});
    try {
      s.listen({ port: 0, host: '::', ipv6Only: false });
      await once(s, 'listening');
      server = s;
      port = (s.address() as AddressInfo).port;
    } catch {
      v6 = false;
    }
  });
  after(() => new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve()))));

  it('probe: probes every resolved address with SNI set to the name and reports each', async (t) => {
    if (!v6 || server === null) {
      t.skip('this host has no IPv6 loopback');
      return;
    }
    const both: Resolver = async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ];
    const results = await new Prober({ trust, resolve: both }).probe(parseTarget(`localhost:${port}`, { protocol: 'tls' }), opts);
    assert.deepEqual(results.map((r) => r.address), ['127.0.0.1', '::1']);
    for (const r of results) {
      assert.equal(r.error, null, r.error?.message);
      assert.equal(r.status, 'ok');
      assert.equal(r.hostnameMatch, true);
    }
  });

  it('probe: family 4 or 6 probes only that family of a host name, and none of it is DNS_FAILED', async () => {
    const both: Resolver = async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ];
    const prober = new Prober({ trust, resolve: both });
    const target = parseTarget(`localhost:${port || 1}`, { protocol: 'tls' });
    assert.deepEqual((await prober.probe(target, { ...opts, family: 4 })).map((r) => r.address), ['127.0.0.1']);
    assert.deepEqual((await prober.probe(target, { ...opts, family: 6 })).map((r) => r.address), ['::1']);
    const v4only = new Prober({ trust, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const [none] = await v4only.probe(target, { ...opts, family: 6 });
    assert.equal(none?.error?.code, 'DNS_FAILED');
    assert.match(none?.error?.message ?? '', /no AAAA record/);
  });
});
