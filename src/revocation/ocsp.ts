// OCSP (RFC 6960): the request for one certificate, and the checks on a response (a staple or
// a responder's answer): structure, which certificate it speaks about, who signed it (the
// issuer, or a responder the issuer delegated to with id-kp-OCSPSigning, section 4.2.2.2),
// the signature, and freshness. Synchronous node:crypto, DER read with the judge's bounded
// reader: no exception escapes as anything but an `{ ok: false }` verdict.
import { createHash, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { children, content, decodeOid, encoding, readTlv, type Tlv } from '../cert/der.ts';
import { isWeakHash, signatureAlgorithm } from '../cert/algorithms.ts';
import { revocationFields, type RevocationFields } from './cert-fields.ts';

/** A certificate and its issuer, as OCSP needs them. */
export interface OcspSubject {
  cert: RevocationFields;
  issuer: RevocationFields;
  issuerX509: X509Certificate;
}

/** What a verified response says about the certificate. */
export interface OcspAnswer {
  status: 'good' | 'revoked' | 'unknown';
  revokedAt: Date | null;
  reason: string | null;
  thisUpdate: Date;
  nextUpdate: Date | null;
}

export type OcspVerdict = ({ ok: true } & OcspAnswer) | { ok: false; why: string };

const SHA1_ALG = Buffer.from('300906052b0e03021a0500', 'hex');
const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
/** Clock skew tolerated on thisUpdate (a responder slightly ahead of us). */
const SKEW_MS = 5 * 60_000;

const responseStatuses = ['successful', 'malformedRequest', 'internalError', 'tryLater', '4', 'sigRequired', 'unauthorized'];
const reasons: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

/** DER of an OCSPRequest for one certificate, CertID hashed with SHA-1 (section 4.1.1; what responders expect). */
export function ocspRequest(s: OcspSubject): Buffer {
  const certId = tlv(0x30, SHA1_ALG, tlv(0x04, sha1(s.issuer.subjectName)), tlv(0x04, sha1(s.issuer.publicKeyBits)), tlv(0x02, s.cert.serial));
  return tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x30, certId))));
}

/** Checks a DER OCSPResponse for `s` at `now` (structure, signature, signer); freshness is `staleness()`. */
export function verifyOcspResponse(der: Buffer, s: OcspSubject, now: Date): OcspVerdict {
  try {
    return verifyInner(der, s, now);
  } catch (err) {
    return { ok: false, why: `the response cannot be read (${err instanceof Error ? err.message : String(err)})` };
  }
}

/** Why a verified answer is not fresh at `now`, or null when it is (section 4.2.2.1). */
export function staleness(a: OcspAnswer, now: Date): string | null {
  if (a.thisUpdate.getTime() > now.getTime() + SKEW_MS) return `it is dated in the future (thisUpdate ${a.thisUpdate.toISOString()})`;
  if (a.nextUpdate !== null && a.nextUpdate.getTime() < now.getTime()) return `it expired at ${a.nextUpdate.toISOString()} (nextUpdate)`;
  // No nextUpdate: "newer information is always available"; accept a response up to 4 days
  // old, half the 10 days CABF allows a response to be valid (BR 4.9.10).
  if (a.nextUpdate === null && now.getTime() - a.thisUpdate.getTime() > 4 * 86_400_000) return `it is from ${a.thisUpdate.toISOString()} and has no nextUpdate`;
  return null;
}

function verifyInner(der: Buffer, s: OcspSubject, now: Date): OcspVerdict {
  const top = readTlv(der, 0);
  if (top.tag !== 0x30 || top.end !== der.length) return { ok: false, why: 'it is not a DER OCSPResponse' };
  const [statusTlv, bytesWrap] = children(der, top);
  if (statusTlv?.tag !== 0x0a) return { ok: false, why: 'it has no responseStatus' };
  const status = content(der, statusTlv)[0] ?? 255;
  if (status !== 0) return { ok: false, why: `the responder answered "${responseStatuses[status] ?? status}"` };
  const rb = bytesWrap?.tag === 0xa0 ? children(der, bytesWrap)[0] : undefined;
  const [typeOid, octets] = rb === undefined ? [] : children(der, rb);
  if (typeOid === undefined || octets?.tag !== 0x04 || decodeOid(content(der, typeOid)) !== OID_BASIC) {
    return { ok: false, why: 'it is not a basic OCSP response' };
  }
  const basic = readTlv(der, octets.start, octets.end);
  const [tbs, sigAlg, sig, certsWrap] = children(der, basic);
  if (tbs?.tag !== 0x30 || sigAlg?.tag !== 0x30 || sig?.tag !== 0x03) return { ok: false, why: 'its BasicOCSPResponse is malformed' };

  const fields = children(der, tbs);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0;
  const responderId = fields[i++];
  const producedAt = fields[i++];
  const responses = fields[i++];
  if (responderId === undefined || producedAt?.tag !== 0x18 || responses?.tag !== 0x30) return { ok: false, why: 'its ResponseData is malformed' };

  const signer = findSigner(der, responderId, certsWrap, s, now);
  if (typeof signer === 'string') return { ok: false, why: signer };
  const alg = signatureAlgorithm(decodeOid(content(der, readTlv(der, sigAlg.start, sigAlg.end))));
  const keyType = keyTypeOf(alg.name);
  if (keyType === null) return { ok: false, why: `its signature algorithm ${alg.name} is not supported` };
  // As for CRLs (src/cert/revocation.ts): over a SHA-1 or MD5 collision a forged response
  // could say revoked or good about anything.
  if (isWeakHash(alg.hash)) return { ok: false, why: `its signature algorithm ${alg.name} has a weak digest` };
  // node:crypto verifies with whatever the key is; the algorithm named must be that key's.
  if (signer.asymmetricKeyType !== keyType) return { ok: false, why: `its signature algorithm ${alg.name} does not fit the signer's ${signer.asymmetricKeyType ?? 'unknown'} key` };
  const signature = content(der, sig).subarray(1);
  const signed = cryptoVerify(alg.hash === null ? null : alg.hash.replace('-', '').toLowerCase(), encoding(der, tbs), signer, signature);
  if (!signed) return { ok: false, why: 'its signature does not verify' };

  const answers = children(der, responses).flatMap((single) => readSingle(der, single, s) ?? []);
  const first = answers[0];
  if (first === undefined) return { ok: false, why: 'it does not speak about this certificate (no matching CertID)' };
  // A responder may answer twice (a SHA-1 and a SHA-256 CertID); answers that disagree leave
  // the status to the reader's choice, like a CRL listing a serial twice.
  if (answers.some((a) => a.status !== first.status)) return { ok: false, why: `it has more than one SingleResponse about this certificate, and they disagree (${answers.map((a) => a.status).join(', ')})` };
  // removeFromCRL says the certificate is no longer revoked, and belongs in delta CRLs only
  // (RFC 5280 section 5.3.1): "revoked" for that reason contradicts itself.
  if (first.status === 'revoked' && first.reason === 'removeFromCRL') return { ok: false, why: 'it says "revoked" with the reason removeFromCRL (which means no longer revoked)' };
  return { ok: true, ...first };
}

/** The node:crypto key type a signature algorithm needs (RFC 3279, RFC 5758, RFC 8410), null when unsupported (RSASSA-PSS among them). */
function keyTypeOf(name: string): string | null {
  if (name.endsWith('WithRSAEncryption')) return 'rsa';
  if (name.startsWith('ecdsa-with-')) return 'ec';
  if (name.startsWith('dsa')) return 'dsa';
  if (name === 'ED25519') return 'ed25519';
  if (name === 'ED448') return 'ed448';
  return null;
}

/** The key that must have signed the response, or why there is none (section 4.2.2.2). */
function findSigner(der: Buffer, responderId: Tlv, certsWrap: Tlv | undefined, s: OcspSubject, now: Date): KeyObject | string {
  const matches = (f: RevocationFields): boolean => {
    if (responderId.tag === 0xa1) return Buffer.from(content(der, responderId)).equals(f.subjectName);
    if (responderId.tag === 0xa2) {
      const hash = readTlv(der, responderId.start, responderId.end);
      return Buffer.from(content(der, hash)).equals(sha1(f.publicKeyBits));
    }
    return false;
  };
  if (matches(s.issuer)) return s.issuerX509.publicKey;
  const seq = certsWrap?.tag === 0xa0 ? children(der, certsWrap)[0] : undefined;
  for (const c of seq === undefined ? [] : children(der, seq).slice(0, 4)) {
    const certDer = Buffer.from(encoding(der, c));
    const f = revocationFields(certDer);
    if (f === null || !matches(f)) continue;
    let x: X509Certificate;
    try {
      x = new X509Certificate(certDer);
    } catch {
      return 'its responder certificate cannot be parsed';
    }
    if (!x.checkIssued(s.issuerX509) || !x.verify(s.issuerX509.publicKey)) return `its responder certificate "${x.subject.replace(/\n/g, ', ')}" is not issued by the certificate's issuer`;
    if (!(x.keyUsage ?? []).includes(OID_OCSP_SIGNING)) return 'its responder certificate lacks id-kp-OCSPSigning';
    if (now < new Date(x.validFrom) || now > new Date(x.validTo)) return 'its responder certificate is outside its validity period';
    return x.publicKey;
  }
  return 'it is signed by neither the issuer nor a responder the issuer authorized';
}

function readSingle(der: Buffer, single: Tlv, s: OcspSubject): OcspAnswer | null {
  const f = children(der, single);
  const [certId, certStatus, thisUpdate] = f;
  if (certId?.tag !== 0x30 || certStatus === undefined || thisUpdate?.tag !== 0x18) return null;
  const [alg, nameHash, keyHash, serial] = children(der, certId);
  if (alg === undefined || nameHash === undefined || keyHash === undefined || serial === undefined) return null;
  const hashOid = decodeOid(content(der, readTlv(der, alg.start, alg.end)));
  const hash = hashOid === OID_SHA1 ? 'sha1' : hashOid === OID_SHA256 ? 'sha256' : null;
  if (hash === null) return null;
  const same =
    Buffer.from(content(der, serial)).equals(s.cert.serial) &&
    Buffer.from(content(der, nameHash)).equals(digest(hash, s.cert.issuerName)) &&
    Buffer.from(content(der, keyHash)).equals(digest(hash, s.issuer.publicKeyBits));
  if (!same) return null;
  const next = f.slice(3).find((t) => t.tag === 0xa0);
  const nextTime = next === undefined ? undefined : children(der, next)[0];
  const answer: OcspAnswer = {
    status: 'unknown',
    revokedAt: null,
    reason: null,
    thisUpdate: generalizedTime(der, thisUpdate),
    nextUpdate: nextTime === undefined ? null : generalizedTime(der, nextTime),
  };
  if (certStatus.tag === 0x80) answer.status = 'good';
  else if (certStatus.tag === 0xa1) {
    answer.status = 'revoked';
    const [when, why] = children(der, certStatus);
    if (when !== undefined) answer.revokedAt = generalizedTime(der, when);
    const code = why?.tag === 0xa0 ? content(der, readTlv(der, why.start, why.end))[0] : undefined;
    if (code !== undefined) answer.reason = reasons[code] ?? `reason ${code}`;
  }
  return answer;
}

function generalizedTime(der: Buffer, t: Tlv): Date {
  const text = Buffer.from(content(der, t)).toString('latin1');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text);
  if (t.tag !== 0x18 || m === null) throw new Error(`malformed GeneralizedTime "${text.slice(0, 20)}"`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

function sha1(b: Buffer): Buffer {
  return digest('sha1', b);
}

function digest(alg: string, b: Buffer): Buffer {
  return createHash(alg).update(b).digest();
}

/** One DER element of `tag` around `parts`. */
function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
