import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { Judgement, JudgeInput } from '../../src/cert/types.ts';
import { makeCa, makeLeaf, testPki, tlv, type Issued } from '../helpers/pki.ts';

function run(chain: Issued[], trust: TrustStore, over: Partial<JudgeInput> = {}): Judgement {
  return judge({ chain: chain.map((c) => c.der), tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7, ...over }, trust);
}

const codes = (j: Judgement): string[] => j.problems.map((p) => p.code).sort();

describe('path rules', async () => {
  const { root, inter, leaf } = await testPki();
  const publicRoot = await makeCa({ name: 'some public root' });

  it('rules: a chain ending at an intermediate of an untrusted private root is UNTRUSTED with the --ca advice, not CHAIN_INCOMPLETE', () => {
    const j = run([leaf, inter], TrustStore.fromPem(publicRoot.certPem));
    assert.deepEqual(codes(j), ['UNTRUSTED']);
    assert.match(j.problems[0]!.message, /certwatch test intermediate.*--ca/);
  });

  it('rules: a server that omits the intermediate is CHAIN_INCOMPLETE', () => {
    const j = run([leaf], TrustStore.fromPem(root.certPem));
    assert.deepEqual(codes(j), ['CHAIN_INCOMPLETE']);
    assert.match(j.problems[0]!.message, /serve the intermediate/);
  });

  it('rules: a keyUsage that asserts no usage is MALFORMED_CERTIFICATE, however its BIT STRING is written', async () => {
    const trust = TrustStore.fromPem(root.certPem);
    // DER's empty BIT STRING (03 01 00), and a padded one whose bits are all zero (03 02 07 00).
    for (const bits of [[0x03, 0x01, 0x00], [0x03, 0x02, 0x07, 0x00]]) {
      const ku = new x509.Extension('2.5.29.15', true, new Uint8Array(bits));
      const bare = await makeLeaf(inter, { keyUsage: null, extensions: [ku], key: { type: 'rsa', bits: 2048 } });
      const j = run([bare, inter], trust);
      assert.deepEqual(codes(j), ['MALFORMED_CERTIFICATE'], bits.join(' '));
      assert.match(j.problems[0]!.message, /keyUsage extension is malformed/);
    }
    assert.deepEqual(codes(run([await makeLeaf(inter, { keyUsage: x509.KeyUsageFlags.digitalSignature }), inter], trust)), []);
  });

  it('rules: a cRLDistributionPoints name that is neither a URI nor a directory name is MALFORMED_CERTIFICATE', async () => {
    const trust = TrustStore.fromPem(root.certPem);
    const cdp = (...names: Uint8Array[]): x509.Extension => new x509.Extension('2.5.29.31', false, tlv(0x30, tlv(0x30, tlv(0xa0, tlv(0xa0, ...names)))));
    const url = tlv(0x86, Buffer.from('http://crl.example/ca.crl'));
    const dns = tlv(0x82, Buffer.from('example.com'));
    const bad = run([await makeLeaf(inter, { extensions: [cdp(url, dns)] }), inter], trust);
    assert.deepEqual(codes(bad), ['MALFORMED_CERTIFICATE']);
    assert.match(bad.problems[0]!.message, /cRLDistributionPoints extension is malformed \(a distribution point name is neither a URI nor a directory name\)/);
    assert.deepEqual(codes(run([await makeLeaf(inter, { extensions: [cdp(url)] }), inter], trust)), []);
  });

  it('rules: a signature-only key (Ed25519) whose keyUsage allows key agreement is MALFORMED_CERTIFICATE (RFC 8410 section 5)', async () => {
    const { webcrypto } = await import('node:crypto');
    const ed = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
    const issuerKey = inter.keys;
    const make = async (ku: x509.KeyUsageFlags): Promise<Buffer> => {
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: '7e01', subject: 'CN=localhost', issuer: inter.cert.subject, publicKey: ed.publicKey, signingKey: issuerKey.privateKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
        extensions: [new x509.KeyUsagesExtension(ku, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]), new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }]), await x509.AuthorityKeyIdentifierExtension.create(issuerKey.publicKey), await x509.SubjectKeyIdentifierExtension.create(ed.publicKey)],
      });
      return Buffer.from(cert.rawData);
    };
    const trust = TrustStore.fromPem(root.certPem);
    const bad = judge({ chain: [await make(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement), inter.der], tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7 }, trust);
    assert.deepEqual(codes(bad), ['MALFORMED_CERTIFICATE']);
    assert.match(bad.problems[0]!.message, /Ed25519 key, which only signs, but its keyUsage allows enciphering or key agreement/);
    const good = judge({ chain: [await make(x509.KeyUsageFlags.digitalSignature), inter.der], tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7 }, trust);
    assert.deepEqual(codes(good), []);
  });

  it('rules: a leaf used as an issuer is INVALID_CA naming the certificate', async () => {
    const fake = await makeLeaf(leaf, { sans: ['localhost'], name: 'child of a leaf' });
    const j = run([fake, leaf, inter], TrustStore.fromPem(root.certPem));
    assert.equal(j.trusted, false);
    assert.ok(codes(j).includes('INVALID_CA'), JSON.stringify(j.problems));
    assert.match(j.problems.find((p) => p.code === 'INVALID_CA')!.message, /"localhost" signs certificates but is not a CA/);
  });

  it('rules: the search backtracks past a sent expired cross-certificate to a live path', async () => {
    const otherRoot = await makeCa({ name: 'certwatch old root' });
    const j = run([leaf, inter], TrustStore.fromPem([otherRoot.certPem, root.certPem]));
    assert.equal(j.trusted, true);
    assert.deepEqual(j.problems, []);
  });
});
