// OCSP response checks (RFC 6960 section 4.2, RFC 5019) on responses built byte by byte here,
// so that each field can be set to what a broken or hostile responder would send.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { revocationFields } from '../../src/revocation/cert-fields.ts';
import { staleness, verifyOcspResponse, type OcspSubject } from '../../src/revocation/ocsp.ts';
import { makeCa, makeLeaf, tlv, type Issued } from '../helpers/pki.ts';

const MIN = 60_000;
const OID = {
  basic: '1.3.6.1.5.5.7.48.1.1',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  md5: '1.2.840.113549.2.5',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha1: '1.2.840.10045.4.1',
  rsaSha256: '1.2.840.113549.1.1.11',
  rsaMd5: '1.2.840.113549.1.1.4',
  rsaSha1: '1.2.840.113549.1.1.5',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
};

function oid(s: string): Uint8Array {
  const [a = 0, b = 0, ...rest] = s.split('.').map(Number);
  const out = [a * 40 + b];
  for (const n of rest) {
    const bytes = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Uint8Array {
  return tlv(0x18, Buffer.from(d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+/, ''), 'latin1'));
}

const algId = (o: string, nullParams = false): Uint8Array => tlv(0x30, oid(o), ...(nullParams ? [Buffer.from([0x05, 0x00])] : []));
const spkiBits = (c: Issued): Buffer => revocationFields(c.der)!.publicKeyBits;

interface Single {
  cert: Issued;
  issuer: Issued;
  hash?: 'sha1' | 'sha256' | 'md5';
  status?: 'good' | 'revoked' | 'unknown';
  reason?: number;
  thisUpdate?: Date;
  nextUpdate?: Date | null;
}

function single(s: Single): Uint8Array {
  const hash = s.hash ?? 'sha1';
  const f = revocationFields(s.cert.der)!;
  const h = (b: Buffer): Uint8Array => tlv(0x04, createHash(hash).update(b).digest());
  const certId = tlv(0x30, algId(hash === 'sha1' ? OID.sha1 : hash === 'md5' ? OID.md5 : OID.sha256, true), h(f.issuerName), h(spkiBits(s.issuer)), tlv(0x02, f.serial));
  const status =
    s.status === 'revoked'
      ? tlv(0xa1, time(new Date(Date.now() - 86_400_000)), ...(s.reason === undefined ? [] : [tlv(0xa0, tlv(0x0a, Buffer.from([s.reason])))]))
      : s.status === 'unknown'
        ? tlv(0x82)
        : tlv(0x80);
  const next = s.nextUpdate === undefined ? new Date(Date.now() + 60 * MIN) : s.nextUpdate;
  return tlv(0x30, certId, status, time(s.thisUpdate ?? new Date(Date.now() - MIN)), ...(next === null ? [] : [tlv(0xa0, time(next))]));
}

interface Response {
  singles: Single[];
  /** Who signs, and who the responderID names (byKey). */
  signer: Issued;
  /** Certificates in `certs`. */
  certs?: Issued[];
  /** Signature algorithm OID written in the response, and the digest actually used. */
  sigAlg?: string;
  digest?: string;
  responseType?: string;
  status?: number;
}

function response(r: Response): Buffer {
  const responderId = tlv(0xa2, tlv(0x04, createHash('sha1').update(spkiBits(r.signer)).digest()));
  const tbs = tlv(0x30, responderId, time(new Date(Date.now() - MIN)), tlv(0x30, ...r.singles.map(single)));
  const ec = r.signer.key.type === 'ec';
  const sigAlg = r.sigAlg ?? (ec ? OID.ecdsaSha256 : OID.rsaSha256);
  const signature = sign(r.digest ?? 'sha256', tbs, createPrivateKey(r.signer.keyPem));
  const certs = r.certs === undefined ? [] : [tlv(0xa0, tlv(0x30, ...r.certs.map((c) => c.der)))];
  const basic = tlv(0x30, tbs, algId(sigAlg, !ec), tlv(0x03, Buffer.from([0]), signature), ...certs);
  const bytes = tlv(0xa0, tlv(0x30, oid(r.responseType ?? OID.basic), tlv(0x04, basic)));
  return Buffer.from(tlv(0x30, tlv(0x0a, Buffer.from([r.status ?? 0])), ...(r.status === undefined || r.status === 0 ? [bytes] : [])));
}

function subject(cert: Issued, issuer: Issued): OcspSubject {
  return { cert: revocationFields(cert.der)!, issuer: revocationFields(issuer.der)!, issuerX509: new X509Certificate(issuer.der) };
}

describe('ocsp', async () => {
  const root = await makeCa({ name: 'ocsp root' });
  const ca = await makeCa({ issuer: root, name: 'ocsp issuing ca' });
  const leaf = await makeLeaf(ca, { name: 'leaf.ocsp.test' });
  const other = await makeLeaf(ca, { name: 'other.ocsp.test' });
  const delegated = await makeLeaf(ca, { name: 'ocsp responder', eku: [OID.ocspSigning], keyUsage: 0x80, key: { type: 'ec', curve: 'P-384' } });
  const now = new Date();
  const s = subject(leaf, ca);

  it('ocsp: a response signed by the issuer saying good or revoked is accepted with its status and reason', () => {
    const good = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca }], signer: ca }), s, now);
    assert.equal(good.ok && good.status, 'good', JSON.stringify(good));
    const revoked = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, status: 'revoked', reason: 1 }], signer: ca }), s, now);
    assert.ok(revoked.ok && revoked.status === 'revoked' && revoked.reason === 'keyCompromise', JSON.stringify(revoked));
  });

  it('ocsp: a delegated responder the issuer certified for id-kp-OCSPSigning is accepted (RFC 6960 4.2.2.2)', () => {
    const v = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca }], signer: delegated, certs: [delegated] }), s, now);
    assert.equal(v.ok && v.status, 'good', JSON.stringify(v));
  });

  it('ocsp: a delegated responder without id-kp-OCSPSigning, from another CA, or expired is refused', async () => {
    const noEku = await makeLeaf(ca, { name: 'no eku responder', key: { type: 'ec', curve: 'P-384' } });
    const otherCa = await makeCa({ issuer: root, name: 'ocsp issuing ca' });
    const foreign = await makeLeaf(otherCa, { name: 'foreign responder', eku: [OID.ocspSigning], key: { type: 'ec', curve: 'P-384' } });
    const expired = await makeLeaf(ca, { name: 'expired responder', eku: [OID.ocspSigning], notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000), key: { type: 'ec', curve: 'P-384' } });
    for (const [responder, why] of [
      [noEku, /lacks id-kp-OCSPSigning/],
      [foreign, /not issued by the certificate's issuer/],
      [expired, /outside its validity period/],
    ] as const) {
      const v = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, status: 'revoked' }], signer: responder, certs: [responder] }), s, now);
      assert.ok(!v.ok, JSON.stringify(v));
      assert.match(v.why, why);
    }
    // Signed by a key the response does not carry a certificate for.
    const v = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, status: 'revoked' }], signer: otherCa }), s, now);
    assert.ok(!v.ok && /neither the issuer nor a responder/.test(v.why), JSON.stringify(v));
  });

  it('ocsp: a responseStatus other than successful, or a response type other than id-pkix-ocsp-basic, is refused', () => {
    const later = verifyOcspResponse(response({ singles: [], signer: ca, status: 3 }), s, now);
    assert.ok(!later.ok && /tryLater/.test(later.why), JSON.stringify(later));
    const type = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca }], signer: ca, responseType: '1.3.6.1.5.5.7.48.1.99' }), s, now);
    assert.ok(!type.ok && /not a basic OCSP response/.test(type.why), JSON.stringify(type));
  });

  it('ocsp: the CertID must match: SHA-256 CertIDs are read, MD5 ones and other serials or issuers are not', async () => {
    const sha256 = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, hash: 'sha256' }], signer: ca }), s, now);
    assert.equal(sha256.ok && sha256.status, 'good', JSON.stringify(sha256));
    const otherCa = await makeCa({ issuer: root, name: 'ocsp issuing ca 2' });
    for (const one of [
      { cert: leaf, issuer: ca, hash: 'md5' as const },
      { cert: other, issuer: ca },
      // The same serial and name, hashed with another issuer key.
      { cert: leaf, issuer: otherCa },
    ]) {
      const v = verifyOcspResponse(response({ singles: [{ ...one, status: 'revoked' }], signer: ca }), s, now);
      assert.ok(!v.ok && /no matching CertID/.test(v.why), JSON.stringify(v));
    }
  });

  it('ocsp: among several SingleResponses the one about this certificate is used', () => {
    const v = verifyOcspResponse(response({ singles: [{ cert: other, issuer: ca, status: 'revoked' }, { cert: leaf, issuer: ca }], signer: ca }), s, now);
    assert.equal(v.ok && v.status, 'good', JSON.stringify(v));
  });

  it('ocsp: two SingleResponses about this certificate that disagree are refused; two that agree are read', () => {
    const both = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca }, { cert: leaf, issuer: ca, hash: 'sha256', status: 'revoked', reason: 1 }], signer: ca }), s, now);
    assert.ok(!both.ok && /more than one/.test(both.why), JSON.stringify(both));
    const agree = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, status: 'revoked', reason: 1 }, { cert: leaf, issuer: ca, hash: 'sha256', status: 'revoked', reason: 1 }], signer: ca }), s, now);
    assert.equal(agree.ok && agree.status, 'revoked', JSON.stringify(agree));
  });

  it('ocsp: "revoked" with the reason removeFromCRL contradicts itself and is refused, neither revoked nor good', () => {
    const v = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, status: 'revoked', reason: 8 }], signer: ca }), s, now);
    assert.ok(!v.ok && /removeFromCRL/.test(v.why), JSON.stringify(v));
  });

  it('ocsp: freshness: thisUpdate beyond 5 minutes ahead and a passed nextUpdate are stale; 2 minutes ahead is clock skew', () => {
    const at = (thisUpdate: Date, nextUpdate: Date | null): string | null => {
      const v = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, thisUpdate, nextUpdate }], signer: ca }), s, now);
      assert.ok(v.ok, JSON.stringify(v));
      return staleness(v, now);
    };
    assert.match(at(new Date(now.getTime() + 10 * MIN), new Date(now.getTime() + 70 * MIN)) ?? '', /dated in the future/);
    assert.equal(at(new Date(now.getTime() + 2 * MIN), new Date(now.getTime() + 70 * MIN)), null);
    assert.match(at(new Date(now.getTime() - 70 * MIN), new Date(now.getTime() - MIN)) ?? '', /expired at/);
  });

  it('ocsp: a response signed with SHA-1 or MD5 is refused, as CRLs are: a collision could forge any status', async () => {
    const sha1 = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, status: 'revoked' }], signer: ca, sigAlg: OID.ecdsaSha1, digest: 'sha1' }), s, now);
    assert.ok(!sha1.ok && /ecdsa-with-SHA1.*weak/.test(sha1.why), JSON.stringify(sha1));
    const rsaCa = await makeCa({ issuer: root, name: 'ocsp rsa ca', key: { type: 'rsa', bits: 2048 } });
    const rsaLeaf = await makeLeaf(rsaCa, { name: 'rsa.ocsp.test' });
    const rs = subject(rsaLeaf, rsaCa);
    const ok = verifyOcspResponse(response({ singles: [{ cert: rsaLeaf, issuer: rsaCa }], signer: rsaCa }), rs, now);
    assert.equal(ok.ok && ok.status, 'good', JSON.stringify(ok));
    for (const [sigAlg, digest] of [
      [OID.rsaMd5, 'md5'],
      [OID.rsaSha1, 'sha1'],
    ] as const) {
      const v = verifyOcspResponse(response({ singles: [{ cert: rsaLeaf, issuer: rsaCa, status: 'revoked' }], signer: rsaCa, sigAlg, digest }), rs, now);
      assert.ok(!v.ok && /weak/.test(v.why), JSON.stringify(v));
    }
  });

  it('ocsp: a signature algorithm that does not fit the signer\'s key (RSA named, ECDSA key) is refused', () => {
    const v = verifyOcspResponse(response({ singles: [{ cert: leaf, issuer: ca, status: 'revoked' }], signer: ca, sigAlg: OID.rsaSha256 }), s, now);
    assert.ok(!v.ok && /does not fit/.test(v.why), JSON.stringify(v));
  });

  it('ocsp: truncated or corrupted responses are a verdict, never an exception', () => {
    const der = response({ singles: [{ cert: leaf, issuer: ca, status: 'revoked', reason: 1 }], signer: delegated, certs: [delegated] });
    for (let n = 0; n < der.length; n++) {
      const v = verifyOcspResponse(der.subarray(0, n), s, now);
      assert.equal(v.ok, false);
      const flipped = Buffer.from(der);
      flipped[n]! ^= 0xff;
      const w = verifyOcspResponse(flipped, s, now);
      assert.ok(!w.ok || w.status === 'revoked');
    }
  });
});
