import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { Judgement, JudgeInput, ProblemCode } from '../../src/cert/types.ts';
import { makeCa, makeLeaf, testPki, type Issued } from '../helpers/pki.ts';

const DAY = 86_400_000;

function run(chain: Issued[], trust: TrustStore, over: Partial<JudgeInput> = {}): Judgement {
  return judge(
    { chain: chain.map((c) => c.der), tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7, ...over },
    trust,
  );
}

function codes(j: Judgement): ProblemCode[] {
  return j.problems.map((p) => p.code).sort();
}

function problem(j: Judgement, code: ProblemCode): { severity: string; message: string } {
  const p = j.problems.find((x) => x.code === code);
  assert.ok(p, `expected ${code} in ${JSON.stringify(j.problems)}`);
  return p;
}

describe('judge', async () => {
  const { root, inter, leaf } = await testPki();
  const trust = TrustStore.fromPem(root.certPem);

  it('judge: a valid chain to a known root has no problems and is trusted', () => {
    const j = run([leaf, inter], trust);
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
    assert.equal(j.hostnameMatch, true);
    assert.equal(j.chain.length, 2);
  });

  it('judge: reports the certificate fields as Node and openssl print them', () => {
    const j = run([leaf, inter], trust);
    const node = new X509Certificate(leaf.der);
    assert.equal(j.certificate.subject, 'CN=localhost');
    assert.equal(j.certificate.issuer, 'CN=certwatch test intermediate, O=certwatch tests');
    assert.deepEqual(j.certificate.sans, ['localhost', '127.0.0.1']);
    assert.equal(j.certificate.fingerprint256, node.fingerprint256);
    assert.match(j.certificate.serialNumber, /^[0-9A-F]+$/);
    assert.equal(j.certificate.serialNumber, node.serialNumber.toUpperCase());
    assert.equal(j.certificate.notAfter, leaf.cert.notAfter.toISOString());
    assert.equal(j.certificate.notBefore, leaf.cert.notBefore.toISOString());
    assert.equal(j.certificate.daysLeft, 364);
    assert.equal(j.certificate.keyType, 'EC');
    assert.equal(j.certificate.keyBits, 256);
    assert.equal(j.certificate.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.equal(j.certificate.selfSigned, false);
    assert.equal(j.chain[1]?.subject, 'CN=certwatch test intermediate, O=certwatch tests');
    assert.deepEqual(j.chain[1]?.sans, []);
  });

  it('judge: reports RSA key size and the RSA signature algorithm name', async () => {
    const rsaRoot = await makeCa({ key: { type: 'rsa', bits: 2048 }, hash: 'SHA-384' });
    const rsaLeaf = await makeLeaf(rsaRoot, { key: { type: 'rsa', bits: 2048 } });
    const j = run([rsaLeaf], TrustStore.fromPem(rsaRoot.certPem));
    assert.equal(j.certificate.keyType, 'RSA');
    assert.equal(j.certificate.keyBits, 2048);
    assert.equal(j.certificate.signatureAlgorithm, 'sha256WithRSAEncryption');
    assert.equal(j.chain.length, 1);
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
  });

  it('judge: reports EXPIRED with a negative daysLeft for an expired certificate', async () => {
    const old = await makeLeaf(inter, { notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - 3 * DAY - 1000) });
    const j = run([old, inter], trust);
    assert.deepEqual(codes(j), ['EXPIRED']);
    assert.equal(problem(j, 'EXPIRED').severity, 'critical');
    assert.match(problem(j, 'EXPIRED').message, /^certificate expired 3 days ago \(\d{4}-\d\d-\d\d\)$/);
    assert.equal(j.certificate.daysLeft, -4);
  });

  it('judge: reports NOT_YET_VALID for a certificate valid from tomorrow', async () => {
    const early = await makeLeaf(inter, { notBefore: new Date(Date.now() + DAY), days: 90 });
    const j = run([early, inter], trust);
    assert.deepEqual(codes(j), ['NOT_YET_VALID']);
    assert.equal(problem(j, 'NOT_YET_VALID').severity, 'critical');
  });

  it('judge: EXPIRES_SOON is a warning below warnDays and critical below critDays', async () => {
    const soon = await makeLeaf(inter, { notAfter: new Date(Date.now() + 20 * DAY + 60_000) });
    const w = run([soon, inter], trust);
    assert.deepEqual(codes(w), ['EXPIRES_SOON']);
    assert.equal(problem(w, 'EXPIRES_SOON').severity, 'warning');
    assert.match(problem(w, 'EXPIRES_SOON').message, /^certificate expires in 20 days \(\d{4}-\d\d-\d\d\)$/);
    const sooner = await makeLeaf(inter, { notAfter: new Date(Date.now() + 5 * DAY + 60_000) });
    const c = run([sooner, inter], trust);
    assert.equal(problem(c, 'EXPIRES_SOON').severity, 'critical');
    assert.equal(c.certificate.daysLeft, 5);
    assert.deepEqual(run([soon, inter], trust, { warnDays: 20 }).problems, [], 'exactly warnDays left is not below the threshold');
  });

  it('judge: reports CHAIN_EXPIRES_SOON when a sent intermediate expires before the leaf', async () => {
    const shortInter = await makeCa({ issuer: root, notAfter: new Date(Date.now() + 10 * DAY + 60_000) });
    const longLeaf = await makeLeaf(shortInter, { days: 90 });
    const j = run([longLeaf, shortInter], trust);
    assert.deepEqual(codes(j), ['CHAIN_EXPIRES_SOON']);
    assert.equal(problem(j, 'CHAIN_EXPIRES_SOON').severity, 'warning');
    assert.match(problem(j, 'CHAIN_EXPIRES_SOON').message, /certwatch test intermediate.*expires in 10 days/);
    assert.equal(j.trusted, true);
    assert.equal(problem(run([longLeaf, shortInter], trust, { critDays: 11 }), 'CHAIN_EXPIRES_SOON').severity, 'critical');
  });

  it('judge: in the last second of validity a certificate expires "today" with 0 days left, not "in -1 days"', async () => {
    const end = new Date(Math.floor(Date.now() / 1000) * 1000 + 5 * DAY);
    const last = await makeLeaf(inter, { notAfter: end });
    const j = run([last, inter], trust, { now: new Date(end.getTime() + 999) });
    assert.deepEqual(codes(j), ['EXPIRES_SOON']);
    assert.match(problem(j, 'EXPIRES_SOON').message, /^certificate expires today /);
    assert.equal(j.certificate.daysLeft, 0);
    assert.deepEqual(codes(run([last, inter], trust, { now: new Date(end.getTime() + 1000) })), ['EXPIRED']);
  });

  it('judge: reports CHAIN_EXPIRES_SOON when the trusted root expires before the leaf (its expiry is CHAIN_EXPIRED)', async () => {
    const shortRoot = await makeCa({ notAfter: new Date(Date.now() + 10 * DAY + 60_000) });
    const i = await makeCa({ issuer: shortRoot, days: 365 });
    const l = await makeLeaf(i, { days: 90 });
    const shortTrust = TrustStore.fromPem(shortRoot.certPem);
    const j = run([l, i], shortTrust);
    assert.deepEqual(codes(j), ['CHAIN_EXPIRES_SOON']);
    assert.match(problem(j, 'CHAIN_EXPIRES_SOON').message, /trusted root "certwatch test root" expires in 10 days/);
    assert.equal(j.trusted, true);
    assert.deepEqual(codes(run([l, i], shortTrust, { now: new Date(Date.now() + 11 * DAY) })), ['CHAIN_EXPIRED']);
  });

  it('judge: an expired intermediate is critical CHAIN_EXPIRED and the chain is not trusted', async () => {
    const deadInter = await makeCa({ issuer: root, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
    const l = await makeLeaf(deadInter, { days: 90 });
    const j = run([l, deadInter], trust);
    assert.deepEqual(codes(j), ['CHAIN_EXPIRED']);
    assert.equal(problem(j, 'CHAIN_EXPIRED').severity, 'critical');
    assert.match(problem(j, 'CHAIN_EXPIRED').message, /expired on/);
    assert.equal(j.trusted, false);
  });

  it('judge: an intermediate expiring after the leaf is not CHAIN_EXPIRES_SOON', async () => {
    const soonLeaf = await makeLeaf(inter, { notAfter: new Date(Date.now() + 10 * DAY) });
    assert.deepEqual(codes(run([soonLeaf, inter], trust)), ['EXPIRES_SOON']);
  });

  it('judge: reports HOSTNAME_MISMATCH naming the expected name and the names in the certificate', () => {
    const j = run([leaf, inter], trust, { expectedName: 'mail.example.org' });
    assert.deepEqual(codes(j), ['HOSTNAME_MISMATCH']);
    assert.equal(j.hostnameMatch, false);
    assert.equal(j.trusted, true);
    assert.equal(problem(j, 'HOSTNAME_MISMATCH').message, 'certificate is not valid for mail.example.org (it names localhost, 127.0.0.1)');
  });

  it('judge: a wildcard matches one left-most label only (RFC 6125 section 6.4.3)', async () => {
    const wild = await makeLeaf(inter, { sans: ['*.example.com'] });
    const check = (name: string): boolean => run([wild, inter], trust, { expectedName: name }).hostnameMatch;
    assert.equal(check('www.example.com'), true);
    assert.equal(check('WWW.Example.COM'), true);
    assert.equal(check('example.com'), false);
    assert.equal(check('a.b.example.com'), false);
    assert.equal(check('www.example.net'), false);
  });

  it('judge: a partial wildcard label does not match', async () => {
    const partial = await makeLeaf(inter, { sans: ['w*.example.com'] });
    assert.equal(run([partial, inter], trust, { expectedName: 'www.example.com' }).hostnameMatch, false);
  });

  it('judge: an IP address is matched against IP SANs, not DNS names', async () => {
    assert.equal(run([leaf, inter], trust, { expectedName: '127.0.0.1' }).hostnameMatch, true);
    assert.equal(run([leaf, inter], trust, { expectedName: '127.0.0.2' }).hostnameMatch, false);
    const v6 = await makeLeaf(inter, { sans: ['::1', '127.0.0.1.example'] });
    assert.equal(run([v6, inter], trust, { expectedName: '::1' }).hostnameMatch, true);
    assert.equal(run([v6, inter], trust, { expectedName: '0:0:0:0:0:0:0:1' }).hostnameMatch, true);
    assert.deepEqual(run([v6, inter], trust, { expectedName: '::1' }).certificate.sans, ['::1', '127.0.0.1.example']);
  });

  it('judge: an IPv6 address with a zone index is judged, not thrown on: a mismatch, as Go and OpenSSL refuse it', async () => {
    const v6 = await makeLeaf(inter, { sans: ['fe80::1'] });
    assert.equal(run([v6, inter], trust, { expectedName: 'fe80::1' }).hostnameMatch, true);
    const j = run([v6, inter], trust, { expectedName: 'fe80::1%eth0' });
    assert.equal(j.hostnameMatch, false);
    assert.match(problem(j, 'HOSTNAME_MISMATCH').message, /zone index/);
  });

  it('judge: reports SELF_SIGNED, not UNTRUSTED, for a self-signed leaf', async () => {
    const self = await makeLeaf(null);
    const j = run([self], trust);
    assert.deepEqual(codes(j), ['SELF_SIGNED']);
    assert.equal(j.certificate.selfSigned, true);
    assert.equal(j.trusted, false);
  });

  it('judge: a self-signed leaf listed among the extra CAs is trusted', async () => {
    const self = await makeLeaf(null);
    const j = run([self], TrustStore.bundled().withExtra(self.certPem));
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
  });

  it('judge: reports CHAIN_INCOMPLETE, not UNTRUSTED, when the server omits the intermediate', () => {
    const j = run([leaf], trust);
    assert.deepEqual(codes(j), ['CHAIN_INCOMPLETE']);
    assert.equal(j.trusted, false);
    assert.match(problem(j, 'CHAIN_INCOMPLETE').message, /did not send the issuer of "localhost" \("certwatch test intermediate"\)/);
  });

  it('judge: reports UNTRUSTED when the chain ends at a root that is not an anchor', async () => {
    const other = await testPki();
    const j = run([other.leaf, other.inter, other.root], trust);
    assert.deepEqual(codes(j), ['UNTRUSTED']);
    assert.equal(j.trusted, false);
    assert.equal(j.chain.length, 3);
    assert.equal(j.chain[2]?.selfSigned, true);
  });

  it('judge: reports UNTRUSTED when a signature does not verify', () => {
    const tampered = Buffer.from(leaf.der);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 0x01, tampered.length - 1);
    const j = judge({ chain: [tampered, inter.der], tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7 }, trust);
    assert.deepEqual(codes(j), ['UNTRUSTED']);
    assert.match(problem(j, 'UNTRUSTED').message, /does not verify/);
    assert.equal(j.trusted, false);
  });

  it('judge: finds the issuer among the sent certificates whatever their order', async () => {
    const inter2 = await makeCa({ issuer: inter, name: 'certwatch second intermediate' });
    const deep = await makeLeaf(inter2);
    const j = run([deep, inter, inter2], trust);
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
    assert.deepEqual(j.chain.map((c) => c.subject.split(',')[0]), ['CN=localhost', 'CN=certwatch test intermediate', 'CN=certwatch second intermediate']);
  });

  it('judge: reports WEAK_KEY for an RSA-1024 leaf', async () => {
    const weak = await makeLeaf(inter, { key: { type: 'rsa', bits: 1024 } });
    const j = run([weak, inter], trust);
    assert.deepEqual(codes(j), ['WEAK_KEY']);
    assert.equal(j.certificate.keyBits, 1024);
    assert.match(problem(j, 'WEAK_KEY').message, /1024-bit RSA key/);
  });

  it('judge: reports WEAK_KEY once for weak keys on several chain certificates', async () => {
    const weakRoot = await makeCa({ key: { type: 'rsa', bits: 1024 } });
    const weakInter = await makeCa({ issuer: weakRoot, key: { type: 'rsa', bits: 1024 } });
    const l = await makeLeaf(weakInter);
    const j = run([l, weakInter], TrustStore.fromPem(weakRoot.certPem));
    assert.deepEqual(codes(j), ['WEAK_KEY']);
    assert.match(problem(j, 'WEAK_KEY').message, /certwatch test intermediate/);
  });

  it('judge: reports WEAK_SIGNATURE for a SHA-1 signed leaf', async () => {
    const rsaRoot = await makeCa({ key: { type: 'rsa', bits: 2048 } });
    const sha1 = await makeLeaf(rsaRoot, { hash: 'SHA-1' });
    const j = run([sha1], TrustStore.fromPem(rsaRoot.certPem));
    assert.deepEqual(codes(j), ['WEAK_SIGNATURE']);
    assert.equal(j.certificate.signatureAlgorithm, 'sha1WithRSAEncryption');
    assert.equal(j.trusted, true);
  });

  it('judge: an RSASSA-PSS signature over SHA-1 (its digest is in the parameters) is WEAK_SIGNATURE; over SHA-256 it is not', async () => {
    const rsaRoot = await makeCa({ key: { type: 'rsa', bits: 2048 } });
    const rsaTrust = TrustStore.fromPem(rsaRoot.certPem);
    const sha256 = await makeLeaf(rsaRoot, { pss: true, hash: 'SHA-256' });
    assert.deepEqual(run([sha256], rsaTrust).problems, []);
    const sha1 = await makeLeaf(rsaRoot, { pss: true, hash: 'SHA-1' });
    const j = run([sha1], rsaTrust);
    assert.deepEqual(codes(j), ['WEAK_SIGNATURE']);
    assert.match(problem(j, 'WEAK_SIGNATURE').message, /SHA-1 \(rsassaPss\)/);
  });

  it('judge: a SHA-1 self-signature on a sent root is not WEAK_SIGNATURE', async () => {
    const sha1Root = await makeCa({ key: { type: 'rsa', bits: 2048 }, hash: 'SHA-1' });
    const l = await makeLeaf(sha1Root);
    const j = run([l, sha1Root], TrustStore.fromPem(sha1Root.certPem));
    assert.deepEqual(j.problems, []);
    assert.equal(j.chain[1]?.signatureAlgorithm, 'sha1WithRSAEncryption');
  });

  it('judge: a sent certificate off the chosen path (a SHA-1 cross-certificate of the root, a stray 1024-bit CA) is neither WEAK_SIGNATURE nor WEAK_KEY', async () => {
    const rsa = { type: 'rsa', bits: 2048 } as const;
    const r = await makeCa({ key: rsa });
    const oldRoot = await makeCa({ key: rsa, name: 'certwatch old root' });
    const i = await makeCa({ issuer: r, key: rsa });
    const l = await makeLeaf(i);
    // Clients stop at the trusted root (its name and key); the cross-certificate's signature is never checked.
    const cross = await makeCa({ issuer: oldRoot, sameAs: r, hash: 'SHA-1' });
    const stray = await makeCa({ key: { type: 'rsa', bits: 1024 }, name: 'certwatch stray CA' });
    const j = run([l, i, cross, stray], TrustStore.fromPem(r.certPem));
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
    // On the path, the same SHA-1 signature is still reported.
    const sha1Inter = await makeCa({ issuer: r, key: rsa, hash: 'SHA-1' });
    const l2 = await makeLeaf(sha1Inter);
    assert.deepEqual(codes(run([l2, sha1Inter], TrustStore.fromPem(r.certPem))), ['WEAK_SIGNATURE']);
  });

  it('judge: reports LEGACY_TLS as critical for TLS 1.0 and 1.1 but not 1.2', () => {
    for (const v of ['TLSv1', 'TLSv1.1']) {
      const j = run([leaf, inter], trust, { tlsVersion: v });
      assert.deepEqual(codes(j), ['LEGACY_TLS']);
      assert.equal(problem(j, 'LEGACY_TLS').severity, 'critical');
      assert.match(problem(j, 'LEGACY_TLS').message, /RFC 8996/);
    }
    assert.deepEqual(run([leaf, inter], trust, { tlsVersion: 'TLSv1.2' }).problems, []);
  });

  it('judge: lists every problem of a bad certificate at once', async () => {
    const weak = await makeLeaf(null, { key: { type: 'rsa', bits: 1024 }, hash: 'SHA-1', notAfter: new Date(Date.now() - DAY), notBefore: new Date(Date.now() - 10 * DAY) });
    const j = run([weak], trust, { tlsVersion: 'TLSv1', expectedName: 'example.com' });
    assert.deepEqual(codes(j), ['EXPIRED', 'HOSTNAME_MISMATCH', 'LEGACY_TLS', 'SELF_SIGNED', 'WEAK_KEY', 'WEAK_SIGNATURE']);
    assert.ok(j.problems.every((p) => p.severity === 'critical'));
  });
});

describe('trust store', async () => {
  const { root, inter, leaf } = await testPki();

  it('trust: the bundled store holds Node\'s Mozilla roots (more than 100)', () => {
    assert.ok(TrustStore.bundled().size > 100);
  });

  it('trust: a chain to a private root is trusted only once the root is added with withExtra', () => {
    const bundled = TrustStore.bundled();
    assert.equal(run([leaf, inter], bundled).trusted, false);
    const extended = bundled.withExtra(root.certPem);
    assert.equal(run([leaf, inter], extended).trusted, true);
    assert.equal(extended.size, bundled.size + 1);
    assert.equal(run([leaf, inter], bundled).trusted, false, 'withExtra returns a new store');
  });

  it('trust: reads several certificates from one PEM text and from several texts', async () => {
    const other = await testPki();
    const both = TrustStore.fromPem(root.certPem + other.root.certPem);
    assert.equal(both.size, 2);
    assert.equal(run([other.leaf, other.inter], both).trusted, true);
    const list = TrustStore.fromPem([root.certPem, other.root.certPem]).withExtra(inter.certPem);
    assert.equal(list.size, 3);
  });

  it('trust: bad PEM text gets an error that says what is wrong with it', () => {
    assert.throws(() => TrustStore.fromPem('hello', 'ca.pem'), /ca\.pem: no "-----BEGIN CERTIFICATE-----" block found/);
    assert.throws(() => TrustStore.bundled().withExtra(leaf.keyPem, 'key.pem'), /key\.pem: .*found PRIVATE KEY instead/);
    assert.throws(() => TrustStore.fromPem('-----BEGIN CERTIFICATE-----\nn*t base64\n-----END CERTIFICATE-----\n'), /not base64/);
    assert.throws(() => TrustStore.fromPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /certificate 1 is not a valid X\.509 certificate/);
  });
});
