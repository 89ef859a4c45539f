// What the strictest clients (webpki, Go crypto/x509, mozilla::pkix) refuse although OpenSSL
// and node:crypto read it: validity times outside RFC 5280's two forms, non-standard RSASSA-PSS
// parameters, Ed25519 keys under publicly trusted roots.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { constants, createPrivateKey, sign, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { children, readTlv } from '../../src/cert/der.ts';
import { judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { Judgement } from '../../src/cert/types.ts';
import { makeCa, makeLeaf, testPki, tlv, type Issued } from '../helpers/pki.ts';

const DAY = 86_400_000;

function run(chain: Buffer[], trust: TrustStore, now = new Date()): Judgement {
  return judge({ chain, tlsVersion: 'TLSv1.3', expectedName: 'localhost', now, warnDays: 30, critDays: 7 }, trust);
}

const codes = (j: Judgement): string[] => j.problems.map((p) => p.code).sort();

interface Rebuild {
  /** New validity SEQUENCE content (notBefore, notAfter as whole TLVs). */
  validity?: Uint8Array[];
  /** New signatureAlgorithm (inner and outer). */
  alg?: Uint8Array;
  /** node:crypto sign options beyond the key (PSS padding and salt). */
  signOptions?: { padding?: number; saltLength?: number };
}

/** `cert` with its TBS fields edited as peculiar cannot write them, signed again by `signer`. */
function rebuild(cert: Issued, signer: Issued, r: Rebuild): Buffer {
  const der = cert.der;
  const [tbsT, algT] = children(der, readTlv(der, 0));
  const fields: Uint8Array[] = children(der, tbsT!).map((f) => der.subarray(f.at, f.end));
  // version [0], serial, signature, issuer, validity, subject, spki, extensions [3]
  if (r.alg !== undefined) fields[2] = r.alg;
  if (r.validity !== undefined) fields[4] = tlv(0x30, ...r.validity);
  const tbs = Buffer.from(tlv(0x30, ...fields));
  const alg = r.alg ?? der.subarray(algT!.at, algT!.end);
  const signature = sign('sha256', tbs, { key: createPrivateKey(signer.keyPem), dsaEncoding: 'der', ...r.signOptions });
  return Buffer.from(tlv(0x30, tbs, alg, tlv(0x03, Buffer.from([0]), signature)));
}

const utc = (s: string): Uint8Array => tlv(0x17, Buffer.from(s, 'latin1'));
const gen = (s: string): Uint8Array => tlv(0x18, Buffer.from(s, 'latin1'));
const yy = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(2, 14);

describe('validity time encodings (RFC 5280 section 4.1.2.5)', async () => {
  const { root, inter, leaf } = await testPki();
  const trust = TrustStore.fromPem(root.certPem);
  const before = yy(new Date(Date.now() - DAY));
  const after = yy(new Date(Date.now() + 90 * DAY));

  it('validity: a leaf whose notBefore has fractional seconds is MALFORMED_CERTIFICATE naming the field and the rule', () => {
    const bad = rebuild(leaf, inter, { validity: [gen(`20${before}.5Z`), utc(`${after}Z`)] });
    const j = run([bad, inter.der], trust);
    assert.deepEqual(codes(j), ['MALFORMED_CERTIFICATE']);
    assert.match(j.problems[0]!.message, /server certificate .*notBefore .*GeneralizedTime.*RFC 5280 section 4\.1\.2\.5/);
  });

  it('validity: a UTCTime with a +hhmm offset on the leaf is MALFORMED_CERTIFICATE', () => {
    const bad = rebuild(leaf, inter, { validity: [utc(`${before}Z`), utc(`${after}+0100`)] });
    const j = run([bad, inter.der], trust);
    assert.deepEqual(codes(j), ['MALFORMED_CERTIFICATE']);
    assert.match(j.problems[0]!.message, /notAfter .*UTCTime/);
  });

  it('validity: a GeneralizedTime for a year before 2050 passes (Go, webpki, Chrome and OpenSSL accept it); a UTCTime without seconds is refused by node:crypto already', () => {
    const j = run([rebuild(leaf, inter, { validity: [gen(`20${before}Z`), utc(`${after}Z`)] }), inter.der], trust);
    assert.deepEqual(codes(j), []);
    // OpenSSL cannot read it: the leaf is a parse error (never "ok"), a chain certificate MALFORMED.
    const noSeconds = rebuild(inter, root, { validity: [utc(`${before.slice(0, 10)}Z`), utc(`${after}Z`)] });
    assert.throws(() => run([noSeconds], trust), /cannot be parsed/);
    assert.ok(codes(run([leaf.der, noSeconds], trust)).includes('MALFORMED_CERTIFICATE'));
  });

  it('validity: an intermediate with fractional seconds is MALFORMED_CERTIFICATE; well-formed times, GeneralizedTime from 2050 included, pass', async () => {
    const badInter = rebuild(inter, root, { validity: [utc(`${before}Z`), gen(`20${after}.000Z`)] });
    const l = await makeLeaf(inter);
    const j = run([l.der, badInter], trust);
    assert.deepEqual(codes(j), ['MALFORMED_CERTIFICATE']);
    assert.match(j.problems[0]!.message, /intermediate certificate .*notAfter/);
    const good = rebuild(inter, root, { validity: [utc(`${before}Z`), gen('20500101000000Z')] });
    assert.deepEqual(run([l.der, good], trust).problems, []);
  });

  it('validity: a trust anchor with fractional seconds is not checked (an anchor is a name and a key)', async () => {
    const oddRoot = await makeCa({ name: 'odd root' });
    const selfSigned = rebuild(oddRoot, oddRoot, { validity: [gen(`20${before}.5Z`), utc(`${after}Z`)] });
    const anchors = TrustStore.fromPem(new X509Pem(selfSigned).pem);
    const l = await makeLeaf(oddRoot);
    assert.deepEqual(run([l.der], anchors).problems, []);
  });
});

class X509Pem {
  readonly pem: string;
  constructor(der: Buffer) {
    this.pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  }
}

/** RSASSA-PSS AlgorithmIdentifier (RFC 4055 section 3.1) over SHA-256 with the given salt; hash parameters NULL as webpki writes them. */
function pssSha256(salt: number, trailer?: number): Uint8Array {
  const sha256 = tlv(0x30, tlv(0x06, Buffer.from('608648016503040201', 'hex')), Buffer.from([0x05, 0x00]));
  const mgf1 = tlv(0x30, tlv(0x06, Buffer.from('2a864886f70d010108', 'hex')), sha256);
  const params = tlv(0x30, tlv(0xa0, sha256), tlv(0xa1, mgf1), tlv(0xa2, tlv(0x02, Buffer.from([salt]))), ...(trailer === undefined ? [] : [tlv(0xa3, tlv(0x02, Buffer.from([trailer])))]));
  return tlv(0x30, tlv(0x06, Buffer.from('2a864886f70d01010a', 'hex')), params);
}

describe('RSASSA-PSS parameters', async () => {
  const rsaRoot = await makeCa({ key: { type: 'rsa', bits: 2048 } });
  const rsaTrust = TrustStore.fromPem(rsaRoot.certPem);
  const base = await makeLeaf(rsaRoot, { pss: true, hash: 'SHA-256' });
  const pss = (saltLength: number): Rebuild['signOptions'] => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });

  it('pss: SHA-256 with a 20-byte salt is refused like an unsupported signature algorithm (UNTRUSTED), saying why', () => {
    const odd = rebuild(base, rsaRoot, { alg: pssSha256(20), signOptions: pss(20) });
    const j = run([odd], rsaTrust);
    assert.equal(j.trusted, false);
    assert.deepEqual(codes(j), ['UNTRUSTED']);
    assert.match(j.problems[0]!.message, /RSASSA-PSS over SHA-256 with a 20-byte salt .*unsupported signature algorithm/);
  });

  it('pss: the standard SHA-256 parameter set, rebuilt the same way, is accepted', () => {
    const std = rebuild(base, rsaRoot, { alg: pssSha256(32), signOptions: pss(32) });
    const j = run([std], rsaTrust);
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
  });

  it('pss: a trailerField other than 1 is refused', () => {
    const odd = rebuild(base, rsaRoot, { alg: pssSha256(32, 2), signOptions: pss(32) });
    assert.deepEqual(codes(run([odd], rsaTrust)), ['UNTRUSTED']);
  });
});

describe('Ed25519 keys', async () => {
  const root = await makeCa({ name: 'ed25519 tests root' });
  const inter = await makeCa({ issuer: root, name: 'ed25519 tests intermediate' });
  const ed = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '7e02', subject: 'CN=localhost', issuer: inter.cert.subject, publicKey: ed.publicKey, signingKey: inter.keys.privateKey,
    notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 90 * DAY),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]), new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }]), await x509.AuthorityKeyIdentifierExtension.create(inter.keys.publicKey), await x509.SubjectKeyIdentifierExtension.create(ed.publicKey)],
  });
  const edLeaf = Buffer.from(cert.rawData);

  it('ed25519: a leaf with an Ed25519 key under a publicly trusted root is WEAK_KEY, critical, citing CABF 6.1.5', () => {
    const j = run([edLeaf, inter.der], TrustStore.fromBundle([root.certPem]));
    assert.deepEqual(codes(j), ['WEAK_KEY']);
    assert.equal(j.problems[0]!.severity, 'critical');
    assert.match(j.problems[0]!.message, /Ed25519.*CABF.*6\.1\.5/);
  });

  it('ed25519: the same leaf under a private anchor (--ca) is accepted', () => {
    const j = run([edLeaf, inter.der], TrustStore.fromPem(root.certPem));
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
  });
});

