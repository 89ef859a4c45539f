// Cases of upstream x509-limbo that the corpus copy (limbo-core.json.gz) does not hold, rebuilt
// here from their descriptions in the shape limbo's builder gives certificates (P-256, validity
// 1970-2969, CRLs with AKI and CRLNumber, validation time 2024-01-01 for the CRL cases): CRL
// structure, time, scope (issuingDistributionPoint) and entry extensions, the CA/Browser Forum
// extendedKeyUsage lists, empty keyUsage. Judged as run.ts judges the corpus (anchors as the
// bundle, CRLs hard-fail). Exit 1 on any disagreement. Usage: node test/limbo/generated.ts [substring]
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { Judgement, ProblemCode } from '../../src/cert/types.ts';
import { tlv } from '../helpers/pki.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const EPOCH = new Date(0);
const FAR = new Date(Date.UTC(2969, 4, 3));
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as const;
const T2024 = new Date('2024-01-01T00:00:00Z');
let serialN = 1000;
const serial = (): string => (0x10000000 + serialN++).toString(16);

const uri = (u: string): Uint8Array<ArrayBuffer> => tlv(0x86, Buffer.from(u));
const dnsGN = (d: string): Uint8Array<ArrayBuffer> => tlv(0x82, Buffer.from(d));

interface Pair { cert: x509.X509Certificate; keys: CryptoKeyPair; alg: typeof EC | typeof RSA }
async function keys(alg: typeof EC | typeof RSA = EC): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(alg as never, true, ['sign', 'verify'])) as CryptoKeyPair;
}
async function root(name = 'CN=x509-limbo-root', ku = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign): Promise<Pair> {
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name, keys: k, signingAlgorithm: EC, notBefore: EPOCH, notAfter: FAR,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(ku, false), new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'example.com' }]), await x509.SubjectKeyIdentifierExtension.create(k.publicKey)],
  });
  return { cert, keys: k, alg: EC };
}
async function ica(parent: Pair, o: { name?: string; ku?: number; extra?: x509.Extension[] } = {}): Promise<Pair> {
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: o.name ?? 'CN=x509-limbo-intermediate-pathlen-None', issuer: parent.cert.subject, publicKey: k.publicKey, signingKey: parent.keys.privateKey, signingAlgorithm: parent.alg, notBefore: EPOCH, notAfter: FAR,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(o.ku ?? x509.KeyUsageFlags.keyCertSign, false), new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'example.com' }]), await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey), await x509.SubjectKeyIdentifierExtension.create(k.publicKey), ...(o.extra ?? [])],
  });
  return { cert, keys: k, alg: EC };
}
async function leaf(parent: Pair, o: { eku?: string[] | null; ku?: x509.Extension | null; key?: typeof EC | typeof RSA; extra?: x509.Extension[]; notBefore?: Date; notAfter?: Date; cn?: string; san?: string } = {}): Promise<Pair> {
  const k = await keys(o.key ?? EC);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: `CN=${o.cn ?? 'example.com'}`, issuer: parent.cert.subject, publicKey: k.publicKey, signingKey: parent.keys.privateKey, signingAlgorithm: parent.alg, notBefore: o.notBefore ?? EPOCH, notAfter: o.notAfter ?? FAR,
    extensions: [
      await x509.SubjectKeyIdentifierExtension.create(k.publicKey), await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey),
      ...(o.ku === null ? [] : [o.ku ?? new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, false)]),
      ...(o.eku === null ? [] : [new x509.ExtendedKeyUsageExtension(o.eku ?? ['1.3.6.1.5.5.7.3.1'], false)]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: o.san ?? 'example.com' }]), ...(o.extra ?? []),
    ],
  });
  return { cert, keys: k, alg: o.key ?? EC };
}
async function crl(signer: Pair, o: { issuer?: string; thisUpdate?: Date; nextUpdate?: Date; revoked?: Array<{ serial: string; date?: Date; extensions?: x509.Extension[] }>; extensions?: x509.Extension[]; number?: boolean; signKey?: CryptoKeyPair } = {}): Promise<Buffer> {
  const c = await x509.X509CrlGenerator.create({
    issuer: o.issuer ?? signer.cert.subject, thisUpdate: o.thisUpdate ?? EPOCH, nextUpdate: o.nextUpdate ?? FAR,
    entries: (o.revoked ?? []).map((r) => ({ serialNumber: r.serial, revocationDate: r.date ?? new Date('2023-12-31T00:00:00Z'), ...(r.extensions ? { extensions: r.extensions } : {}) })),
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(signer.keys.publicKey), ...(o.number === false ? [] : [new x509.Extension('2.5.29.20', false, tlv(0x02, Buffer.from([0x05])))]), ...(o.extensions ?? [])],
    signingKey: (o.signKey ?? signer.keys).privateKey, signingAlgorithm: EC,
  });
  return Buffer.from(c.rawData);
}
const unknownExt = (critical: boolean): x509.Extension => new x509.Extension('1.3.6.1.4.1.55738.666.1', critical, new Uint8Array(0));
const cdp = (...names: Uint8Array[]): x509.Extension => new x509.Extension('2.5.29.31', false, tlv(0x30, tlv(0x30, tlv(0xa0, tlv(0xa0, ...names)))));
function idp(o: { names?: Uint8Array[]; rdn?: Uint8Array; user?: boolean; ca?: boolean; reasons?: Uint8Array; indirect?: boolean; attr?: boolean }): x509.Extension {
  const dp = o.names ? [tlv(0xa0, tlv(0xa0, ...o.names))] : o.rdn ? [tlv(0xa0, tlv(0xa1, ...[o.rdn]))] : [];
  const t = Buffer.from([0xff]);
  return new x509.Extension('2.5.29.28', true, tlv(0x30, ...dp, ...(o.user ? [tlv(0x81, t)] : []), ...(o.ca ? [tlv(0x82, t)] : []), ...(o.reasons ? [tlv(0x83, o.reasons)] : []), ...(o.indirect ? [tlv(0x84, t)] : []), ...(o.attr ? [tlv(0x85, t)] : [])));
}

interface Case { id: string; expect: 'SUCCESS' | 'FAILURE'; trusted: Pair[]; chain: Pair[]; crls?: Buffer[]; time?: Date; name?: string }
function verdict(j: Judgement): 'accept' | 'reject' {
  const skip = new Set<ProblemCode>(['EXPIRES_SOON', 'CHAIN_EXPIRES_SOON', 'LEGACY_TLS']);
  const blocking = j.problems.filter((p) => p.severity === 'critical' && !skip.has(p.code));
  return blocking.length === 0 && j.trusted && j.hostnameMatch ? 'accept' : 'reject';
}

const cases: Case[] = [];
const add = (c: Case): void => void cases.push(c);
const only = (s: string): boolean => process.argv[2] === undefined || s.includes(process.argv[2]);

// CRL structure
{
  const r = await root(); const l = await leaf(r); const other = await keys();
  add({ id: 'crl-invalid-signature', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { revoked: [{ serial: serial() }], signKey: other })], time: T2024 });
  const r1 = await root('CN=Root CA 1'); const r2 = await root('CN=Root CA 2'); const l1 = await leaf(r1);
  add({ id: 'crl-wrong-signing-key', expect: 'FAILURE', trusted: [r1, r2], chain: [l1], crls: [await crl(r2, { issuer: 'CN=Root CA 1', revoked: [{ serial: serial() }] })], time: T2024 });
  add({ id: 'crl-empty', expect: 'SUCCESS', trusted: [r], chain: [l], crls: [await crl(r)], time: T2024 });
  add({ id: 'crl-very-large', expect: 'SUCCESS', trusted: [r], chain: [l], crls: [await crl(r, { revoked: Array.from({ length: 10000 }, () => ({ serial: serial(), date: EPOCH })) })], time: T2024 });
  add({ id: 'crl-unknown-critical-extension', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { revoked: [{ serial: serial() }], extensions: [unknownExt(true)] })], time: T2024 });
  add({ id: 'crl-unknown-noncritical-extension', expect: 'SUCCESS', trusted: [r], chain: [l], crls: [await crl(r, { revoked: [{ serial: serial() }], extensions: [unknownExt(false)] })], time: T2024 });
  // temporal
  add({ id: 'this-update-in-future', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { thisUpdate: new Date('2024-01-02T00:00:00Z'), nextUpdate: new Date('2024-01-31T00:00:00Z') })], time: T2024 });
  add({ id: 'next-update-in-past', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { thisUpdate: new Date('2023-11-02T00:00:00Z'), nextUpdate: new Date('2023-12-02T00:00:00Z') })], time: T2024 });
  add({ id: 'revocation-date-in-future', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { thisUpdate: new Date('2023-12-31T00:00:00Z'), nextUpdate: new Date('2024-01-31T00:00:00Z'), revoked: [{ serial: l.cert.serialNumber, date: new Date('2024-01-02T00:00:00Z') }] })], time: T2024 });
  const lnb = await leaf(r, { notBefore: new Date('2023-12-02T00:00:00Z') });
  add({ id: 'revocation-date-before-not-before', expect: 'FAILURE', trusted: [r], chain: [lnb], crls: [await crl(r, { thisUpdate: new Date('2023-12-31T00:00:00Z'), nextUpdate: new Date('2024-01-31T00:00:00Z'), revoked: [{ serial: lnb.cert.serialNumber, date: new Date('2023-11-02T00:00:00Z') }] })], time: T2024 });
  const lno = await leaf(r, { notBefore: new Date('2023-12-02T00:00:00Z'), notAfter: new Date('2024-01-31T00:00:00Z') });
  add({ id: 'crl-validity-no-overlap', expect: 'FAILURE', trusted: [r], chain: [lno], crls: [await crl(r, { thisUpdate: new Date('2023-01-01T00:00:00Z'), nextUpdate: new Date('2023-07-05T00:00:00Z') })], time: T2024 });
  // idp
  const lc = await leaf(r, { extra: [cdp(uri('http://example.com/cdp.crl'))] });
  add({ id: 'idp-cdp-scope-mismatch', expect: 'FAILURE', trusted: [r], chain: [lc], crls: [await crl(r, { extensions: [idp({ names: [uri('http://example.com/other.crl')] })] })], time: T2024 });
  const lp = await leaf(r, { extra: [cdp(uri('http://example.com/partition.crl'))] });
  add({ id: 'idp-cdp-scope-match', expect: 'SUCCESS', trusted: [r], chain: [lp], crls: [await crl(r, { extensions: [idp({ names: [uri('http://example.com/partition.crl')] })] })], time: T2024 });
  const i = await ica(r, { ku: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign }); const li = await leaf(i);
  add({ id: 'idp-only-contains-user-certs-ca-target', expect: 'FAILURE', trusted: [r], chain: [li, i], crls: [await crl(r, { extensions: [idp({ user: true })] }), await crl(i)], time: T2024 });
  add({ id: 'idp-only-contains-ca-certs-ee-target', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { extensions: [idp({ ca: true })] })], time: T2024 });
  add({ id: 'idp-present-certificate-missing-cdp', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { extensions: [idp({ names: [uri('http://example.com/partition.crl')] })] })], time: T2024 });
  const lpd = await leaf(r, { extra: [cdp(uri('http://example.com/partition.crl'), dnsGN('example.com'))] });
  add({ id: 'idp-present-certificate-cdp-non-uri-generalname', expect: 'FAILURE', trusted: [r], chain: [lpd], crls: [await crl(r, { extensions: [idp({ names: [uri('http://example.com/partition.crl')] })] })], time: T2024 });
  add({ id: 'idp-only-contains-attribute-certs', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { revoked: [{ serial: serial() }], extensions: [idp({ attr: true })] })], time: T2024 });
  // cabf
  const rdn = tlv(0x31, tlv(0x30, tlv(0x06, Buffer.from([0x55, 0x04, 0x03])), tlv(0x0c, Buffer.from('partition'))));
  add({ id: 'idp-name-relative-to-crl-issuer', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { extensions: [idp({ rdn })] })], time: T2024 });
  add({ id: 'idp-fullname-non-uri-generalname', expect: 'FAILURE', trusted: [r], chain: [lp], crls: [await crl(r, { extensions: [idp({ names: [uri('http://example.com/partition.crl'), dnsGN('example.com')] })] })], time: T2024 });
  add({ id: 'idp-indirect-crl', expect: 'FAILURE', trusted: [r], chain: [lp], crls: [await crl(r, { extensions: [idp({ names: [uri('http://example.com/partition.crl')], indirect: true })] })], time: T2024 });
  add({ id: 'idp-only-some-reasons-no-complete-crl', expect: 'FAILURE', trusted: [r], chain: [lp], crls: [await crl(r, { extensions: [idp({ names: [uri('http://example.com/partition.crl')], reasons: Buffer.from([0x06, 0x40]) })] })], time: T2024 });
  const lpct = await leaf(r, { extra: [cdp(uri('http://example.com/crls/%73hard.crl'))] });
  add({ id: 'idp-uri-not-byte-identical', expect: 'FAILURE', trusted: [r], chain: [lpct], crls: [await crl(r, { extensions: [idp({ names: [uri('http://example.com/crls/shard.crl')] })] })], time: T2024 });
  // entries
  add({ id: 'entry-unknown-critical-extension', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { revoked: [{ serial: l.cert.serialNumber, extensions: [unknownExt(true)] }] })], time: T2024 });
  add({ id: 'entry-unknown-noncritical-extension', expect: 'FAILURE', trusted: [r], chain: [l], crls: [await crl(r, { revoked: [{ serial: l.cert.serialNumber, extensions: [unknownExt(false)] }] })], time: T2024 });
}
// EKU on CAs
{
  const r = await root();
  const caEku = async (id: string, expect: Case['expect'], ekus: string[]): Promise<void> => {
    const i = await ica(r, { extra: [new x509.ExtendedKeyUsageExtension(ekus, false)] });
    add({ id, expect, trusted: [r], chain: [await leaf(i), i] });
  };
  const SA = '1.3.6.1.5.5.7.3.1', CA_ = '1.3.6.1.5.5.7.3.2', PRE = '1.3.6.1.4.1.11129.2.4.4';
  await caEku('ca-without-serverauth-issuing-tls', 'FAILURE', [CA_]);
  await caEku('ca-with-precertificate-oid', 'FAILURE', [PRE]);
  await caEku('ca-with-serverauth-and-precertificate', 'FAILURE', [SA, PRE]);
  await caEku('ca-with-serverauth-issuing-matching', 'SUCCESS', [SA]);
  await caEku('ca-with-codesigning-eku', 'FAILURE', [SA, '1.3.6.1.5.5.7.3.3']);
  await caEku('ca-with-emailprotection-eku', 'FAILURE', [SA, '1.3.6.1.5.5.7.3.4']);
  await caEku('ca-with-timestamping-eku', 'FAILURE', [SA, '1.3.6.1.5.5.7.3.8']);
  await caEku('ca-with-ocspsigning-eku', 'FAILURE', [SA, '1.3.6.1.5.5.7.3.9']);
  await caEku('ca-with-anyeku', 'FAILURE', [SA, '2.5.29.37.0']);
  const eeEku = async (id: string, expect: Case['expect'], ekus: string[]): Promise<void> => add({ id, expect, trusted: [r], chain: [await leaf(r, { eku: ekus })] });
  await eeEku('ee-clientauth-only', 'FAILURE', [CA_]);
  await eeEku('ee-precertificate-only', 'FAILURE', [PRE]);
  await eeEku('ee-precertificate-with-serverauth', 'FAILURE', [SA, PRE]);
  await eeEku('ee-serverauth-with-additional', 'SUCCESS', [SA, CA_]);
  await eeEku('ee-codesigning-with-serverauth', 'FAILURE', [SA, '1.3.6.1.5.5.7.3.3']);
  await eeEku('ee-emailprotection-with-serverauth', 'FAILURE', [SA, '1.3.6.1.5.5.7.3.4']);
  await eeEku('ee-timestamping-with-serverauth', 'FAILURE', [SA, '1.3.6.1.5.5.7.3.8']);
  await eeEku('ee-ocspsigning-with-serverauth', 'FAILURE', [SA, '1.3.6.1.5.5.7.3.9']);
  // KU
  add({ id: 'ee-rsa-without-any-usages', expect: 'FAILURE', trusted: [r], chain: [await leaf(r, { key: RSA, ku: new x509.KeyUsagesExtension(0 as x509.KeyUsageFlags, true) })] });
  add({ id: 'ee-ecc-without-digitalsignature', expect: 'FAILURE', trusted: [r], chain: [await leaf(r, { ku: new x509.KeyUsagesExtension(0 as x509.KeyUsageFlags, true) })] });
}

// ML-DSA (RFC 9881), the pure variants: node:crypto verifies them from Node 24.
{
  const mk = async (name: string): Promise<CryptoKeyPair> => (await webcrypto.subtle.generateKey({ name } as never, true, ['sign', 'verify'])) as CryptoKeyPair;
  const mlRoot = async (alg: string, k: CryptoKeyPair): Promise<x509.X509Certificate> =>
    x509.X509CertificateGenerator.createSelfSigned({ serialNumber: serial(), name: 'CN=x509-limbo-root', keys: k, signingAlgorithm: { name: alg } as Algorithm, notBefore: EPOCH, notAfter: FAR, extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, false), await x509.SubjectKeyIdentifierExtension.create(k.publicKey)] });
  const mlLeaf = async (alg: string, signer: CryptoKeyPair, akiOf: CryptoKeyPair, ku = x509.KeyUsageFlags.digitalSignature): Promise<x509.X509Certificate> => {
    const k = await mk(alg);
    return x509.X509CertificateGenerator.create({
      serialNumber: serial(), subject: 'CN=example.com', issuer: 'CN=x509-limbo-root', publicKey: k.publicKey, signingKey: signer.privateKey, signingAlgorithm: { name: alg } as Algorithm, notBefore: EPOCH, notAfter: FAR,
      extensions: [await x509.SubjectKeyIdentifierExtension.create(k.publicKey), await x509.AuthorityKeyIdentifierExtension.create(akiOf.publicKey), new x509.KeyUsagesExtension(ku, false), new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1'], false), new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'example.com' }])],
    });
  };
  const wrap = (cert: x509.X509Certificate, k: CryptoKeyPair): Pair => ({ cert, keys: k, alg: EC });
  for (const alg of ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87']) {
    const rk = await mk(alg);
    add({ id: alg.toLowerCase(), expect: 'SUCCESS', trusted: [wrap(await mlRoot(alg, rk), rk)], chain: [wrap(await mlLeaf(alg, rk, rk), rk)] });
  }
  const rk = await mk('ML-DSA-44');
  const impostor = await mk('ML-DSA-44');
  const r = wrap(await mlRoot('ML-DSA-44', rk), rk);
  add({ id: 'ml-dsa-44-bad-signature', expect: 'FAILURE', trusted: [r], chain: [wrap(await mlLeaf('ML-DSA-44', impostor, rk), rk)] });
  add({ id: 'ml-dsa-44-key-encipherment', expect: 'FAILURE', trusted: [r], chain: [wrap(await mlLeaf('ML-DSA-44', rk, rk, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment), rk)] });
  add({ id: 'ml-dsa-44-key-agreement', expect: 'FAILURE', trusted: [r], chain: [wrap(await mlLeaf('ML-DSA-44', rk, rk, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement), rk)] });
}

let agree = 0;
let crashes = 0;
const run = cases.filter((c) => only(c.id));
for (const c of run) {
  let v: 'accept' | 'reject' | 'crash';
  let detail: string;
  try {
    const j = judge({ chain: c.chain.map((p) => Buffer.from(p.cert.rawData)), tlsVersion: 'TLSv1.3', expectedName: c.name ?? 'example.com', now: c.time ?? new Date(), warnDays: 0, critDays: 0, ...(c.crls ? { crls: c.crls, revocationPolicy: 'hard-fail' as const } : {}) }, TrustStore.fromBundle(c.trusted.map((p) => p.cert.toString('pem'))));
    v = verdict(j);
    detail = j.problems.map((p) => `${p.code}: ${p.message}`).join(' | ') || 'accepted';
  } catch (err) {
    v = 'crash';
    crashes++;
    detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const ok = v !== 'crash' && (v === 'accept') === (c.expect === 'SUCCESS');
  if (ok) agree++;
  if (!ok || process.env.VERBOSE !== undefined) console.log(`${ok ? 'ok  ' : 'MISS'} ${c.id} expected ${c.expect}, judge ${v}: ${detail.slice(0, 300)}`);
}
console.log(`generated cases beyond the corpus copy: the judge agrees on ${agree} / ${run.length}, ${crashes} crashes`);
process.exitCode = agree === run.length ? 0 : 1;
