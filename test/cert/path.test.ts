import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { CertCache } from '../../src/cert/cache.ts';
import { judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { JudgeInput } from '../../src/cert/types.ts';
import { makeCa, testPki, type Issued } from '../helpers/pki.ts';

const DAY = 86_400_000;

/** `subject`'s name and key, signed by `issuer`: a cross-certificate as CAs publish them. */
async function crossSign(subject: Issued, issuer: Issued, notAfter: Date): Promise<Buffer> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '7f01',
    subject: subject.cert.subject,
    issuer: issuer.cert.subject,
    notBefore: new Date(notAfter.getTime() - 400 * DAY),
    notAfter,
    publicKey: subject.keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(subject.keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return Buffer.from(cert.rawData);
}

function input(chain: Buffer[]): JudgeInput {
  return { chain, tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7 };
}

describe('path building', async () => {
  const { root, inter, leaf } = await testPki();
  const oldRoot = await makeCa({ name: 'certwatch old root' });
  const expiredCross = await crossSign(root, oldRoot, new Date(Date.now() - 10 * DAY));

  it('path: a trusted root is preferred over an expired cross-certificate the server still sends', () => {
    const j = judge(input([leaf.der, inter.der, expiredCross]), TrustStore.fromPem(root.certPem));
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
    assert.equal(j.chain.length, 3);
    assert.equal(j.chain[2]?.issuer, 'CN=certwatch old root, O=certwatch tests');
  });

  it('path: a sent certificate with an anchor\'s name and key counts as that anchor', () => {
    const liveCross = crossSign(root, oldRoot, new Date(Date.now() + 300 * DAY));
    return liveCross.then((cross) => {
      const j = judge(input([leaf.der, inter.der, cross]), TrustStore.fromPem(root.certPem));
      assert.equal(j.trusted, true);
      assert.deepEqual(j.problems, []);
    });
  });

  it('path: an expired cross-certificate on the only path to the anchor is critical and untrusted', () => {
    const j = judge(input([leaf.der, inter.der, expiredCross]), TrustStore.fromPem(oldRoot.certPem));
    assert.equal(j.trusted, false);
    assert.deepEqual(j.problems.map((p) => p.code), ['CHAIN_EXPIRED']);
    assert.match(j.problems[0]?.message ?? '', /expired on/);
  });

  it('path: judging the same chain twice gives equal verdicts and shares frozen certificate info from the cache', () => {
    const trust = TrustStore.fromPem(root.certPem);
    const first = judge(input([leaf.der, inter.der]), trust);
    assert.throws(() => (first.certificate.sans as string[]).push('mutated by a caller'), TypeError);
    assert.throws(() => Object.assign(first.certificate, { daysLeft: 0 }), TypeError);
    const second = judge(input([leaf.der, inter.der]), trust);
    assert.equal(second.certificate, first.certificate, 'one object per certificate and day, not one per result');
    assert.equal(second.chain[0], second.certificate);
    assert.deepEqual(second.certificate.sans, ['localhost', '127.0.0.1']);
    assert.equal(second.trusted, true);
    assert.equal(trust.certs.size, 2);
    assert.equal(trust.withExtra(oldRoot.certPem).certs, trust.certs, 'derived stores share the cache');
  });

  it('path: the certificate cache evicts the least recently used entry beyond its capacity', () => {
    const cache = new CertCache(2);
    const a = cache.get(leaf.der);
    const b = cache.get(inter.der);
    assert.equal(cache.get(leaf.der), a);
    cache.get(root.der);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(leaf.der), a, 'recently used entry kept');
    assert.notEqual(cache.get(inter.der), b, 'least recently used entry was evicted and parsed again');
    assert.throws(() => cache.get(Buffer.from('not a certificate')));
  });

  it('path: two certificates sharing the cache key (length and last bytes) are never taken for each other', () => {
    const cache = new CertCache();
    // Same length and signature bytes, another subject: one byte of the leaf's name changed.
    const twin = Buffer.from(leaf.der);
    const at = twin.indexOf(Buffer.from('localhost'));
    assert.ok(at > 0 && at < twin.length - 64);
    twin[at] = 'L'.charCodeAt(0);
    const a = cache.get(leaf.der);
    const b = cache.get(twin);
    assert.notEqual(b, a);
    assert.ok(b.der.equals(twin) && !b.der.equals(leaf.der));
    const again = cache.get(leaf.der);
    assert.ok(again.der.equals(leaf.der), 'the original is parsed again, not served from its twin');
    assert.match(again.subjectKey, /CN=localhost/);
    assert.equal(cache.get(leaf.der), again);
  });
});
