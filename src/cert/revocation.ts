// Revocation of the certificates on a path against the CRLs the caller supplies (RFC 5280
// section 6.3, complete CRLs issued directly by the certificate's issuer). A CRL is used only
// when every check passes; one that fails a check can say "unknown", never "revoked".
import { constants, verify, type KeyObject } from 'node:crypto';
import { isWeakHash, signatureAlgorithm } from './algorithms.ts';
import { parseCrl, serialKey, type ParsedCrl } from './crl.ts';
import { children, content, decodeOid, decodeSmallInt, readTlv } from './der.ts';
import { hasKeyUsage, KU } from './extensions.ts';
import type { Cert } from './info.ts';
import type { Finding } from './path-builder.ts';
import { who } from './rules.ts';

/** What revocation checking found on one path. */
export interface RevocationFindings {
  /** REVOKED findings: a usable CRL of the issuer lists the certificate. */
  revoked: Finding[];
  /** REVOCATION_UNKNOWN findings: the CRLs given for a certificate cannot be used, or none covers it. */
  unknown: Finding[];
}

/** What the CRLs of a set say about one certificate. */
export type CrlStatus = { kind: 'revoked' | 'unknown'; finding: Finding } | { kind: 'good' | 'none' };

/** The CRLs of one judge call, read once, with signature checks memoized per issuer. */
export class CrlSet {
  private readonly crls: Array<{ n: number; crl: ParsedCrl }> = [];
  /** Sentences about CRLs that cannot be read at all (their issuer is unknown). */
  readonly unreadable: string[] = [];
  private readonly verified = new Map<ParsedCrl, Map<Cert, boolean>>();

  constructor(ders: readonly Uint8Array[]) {
    ders.forEach((der, i) => {
      const r = parseCrl(der);
      if (typeof r === 'string') this.unreadable.push(`CRL ${i + 1} given cannot be read: ${r}`);
      else this.crls.push({ n: i + 1, crl: r });
    });
  }

  get size(): number {
    return this.crls.length + this.unreadable.length;
  }

  /** Checks every certificate of `certs` (leaf first, anchor excluded) against its issuer's CRLs. */
  check(certs: readonly Cert[], anchor: Cert, now: Date): RevocationFindings {
    const out: RevocationFindings = { revoked: [], unknown: [] };
    const issuers = [...certs.slice(1), anchor];
    certs.forEach((cert, i) => {
      const role = i === 0 ? 'leaf' : 'intermediate';
      const s = this.status(cert, issuers[i]!, role, now);
      if (s.kind === 'revoked') out.revoked.push(s.finding);
      else if (s.kind === 'unknown') out.unknown.push(s.finding);
      // RFC 5280 section 6.3.3: when no CRL in the set covers a certificate (none from its
      // issuer, or all scoped elsewhere by an issuingDistributionPoint), its status is
      // UNDETERMINED. The caller decides how loud that is (soft- or hard-fail).
      else if (s.kind === 'none') out.unknown.push({ code: 'REVOCATION_UNKNOWN', message: `revocation status of ${who(cert, role)} is unknown: none of the CRLs given is from "${issuers[i]!.label}" and covers it (RFC 5280 section 6.3.3)` });
    });
    return out;
  }

  /**
   * One certificate against the CRLs of `issuer`: revoked, good (a usable CRL covers it and does
   * not list it), unknown (only unusable CRLs cover it) or none (no CRL here covers it), so that
   * a caller checking certificate by certificate knows when to try another source.
   */
  status(cert: Cert, issuer: Cert, role: 'leaf' | 'intermediate', now: Date): CrlStatus {
    const name = who(cert, role);
    const problems: string[] = [];
    let usable = 0;
    for (const { n, crl } of this.crls) {
      if (crl.issuerId !== cert.issuerId || !covers(crl, cert)) continue;
      const why = this.unusable(crl, issuer, now);
      if (why !== null) {
        const listed = crl.revoked.get(serialKey(cert.parsed.serial));
        problems.push(`CRL ${n} from "${issuer.label}" ${why}${listed === undefined ? '' : ` (it lists the certificate as revoked on ${day(listed.date)}, which is not relied on)`}`);
        continue;
      }
      usable++;
      const entry = crl.revoked.get(serialKey(cert.parsed.serial));
      if (entry !== undefined) {
        const reason = entry.reason === null ? '' : `, reason ${entry.reason}`;
        return { kind: 'revoked', finding: { code: 'REVOKED', message: `${name} (serial ${cert.x509.serialNumber}) was revoked on ${day(entry.date)}${reason}, per the CRL of "${issuer.label}" issued ${day(crl.thisUpdate)}` } };
      }
    }
    if (usable > 0) return { kind: 'good' };
    if (problems.length > 0) return { kind: 'unknown', finding: { code: 'REVOCATION_UNKNOWN', message: `revocation status of ${name} is unknown: ${problems.join('; ')}` } };
    return { kind: 'none' };
  }

  /** Why `crl` cannot be relied on for certificates of `issuer` at `now` (RFC 5280 section 6.3.3), or null. */
  private unusable(crl: ParsedCrl, issuer: Cert, now: Date): string | null {
    if (crl.defects.length > 0) return `cannot be used: ${crl.defects.join('; ')}`;
    if (crl.crlNumber === null) return 'cannot be used: it has no CRLNumber extension (RFC 5280 section 5.2.3)';
    if (crl.crlNumber.critical) return 'cannot be used: its CRLNumber extension is critical (RFC 5280 section 5.2.3)';
    if (crl.scope?.unsupported != null) return `cannot be used: its issuingDistributionPoint uses ${crl.scope.unsupported} (RFC 5280 section 5.2.5)`;
    // RFC 5280 section 6.3.3 (f): a CRL signer with keyUsage must assert cRLSign.
    if (issuer.parsed.keyUsage !== null && !hasKeyUsage(issuer.parsed, KU.cRLSign)) return `cannot be used: the issuer's keyUsage lacks cRLSign (RFC 5280 section 4.2.1.3)`;
    if (!this.signedBy(crl, issuer)) return 'cannot be used: its signature does not verify with the key of the issuer (RFC 5280 section 6.3.3 (g))';
    const t = Math.floor(now.getTime() / 1000) * 1000;
    if (crl.thisUpdate.getTime() > t) return `is not valid yet (thisUpdate ${crl.thisUpdate.toISOString()})`;
    if (crl.nextUpdate === null) return 'cannot be used: it has no nextUpdate, so its freshness cannot be judged (RFC 5280 section 5.1.2.5)';
    if (crl.nextUpdate.getTime() < t) return `is stale (nextUpdate ${crl.nextUpdate.toISOString()} has passed)`;
    return null;
  }

  private signedBy(crl: ParsedCrl, issuer: Cert): boolean {
    let memo = this.verified.get(crl);
    if (memo === undefined) {
      memo = new Map();
      this.verified.set(crl, memo);
    }
    let ok = memo.get(issuer);
    if (ok === undefined) {
      ok = verifySignature(crl, issuer.publicKey);
      memo.set(issuer, ok);
    }
    return ok;
  }
}

/** Whether the CRL's scope (issuingDistributionPoint) includes `cert` (RFC 5280 section 6.3.3 (b)(2)). */
function covers(crl: ParsedCrl, cert: Cert): boolean {
  const scope = crl.scope;
  if (scope === null) return true;
  const ca = cert.parsed.basicConstraints?.ca === true;
  if ((scope.onlyUser && ca) || (scope.onlyCa && !ca)) return false;
  if (scope.distributionPoints.length === 0) return true;
  const dps = cert.parsed.crlDistributionPoints ?? [];
  return scope.distributionPoints.some((n) => dps.includes(n));
}

const nodeHash: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const hashOids: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Verifies the CRL signature with node:crypto; false for weak digests, unknown algorithms and unloadable keys. */
function verifySignature(crl: ParsedCrl, key: KeyObject | null): boolean {
  if (key === null) return false;
  try {
    const alg = crl.signatureAlgorithm;
    const seq = readTlv(alg, 0);
    const [oidT, params] = children(alg, seq);
    if (oidT?.tag !== 0x06) return false;
    const oid = decodeOid(content(alg, oidT));
    if (oid === '1.2.840.113549.1.1.10') return verifyPss(crl, key, alg, params);
    const sig = signatureAlgorithm(oid);
    if (sig.name === 'ED25519' || sig.name === 'ED448') return verify(null, crl.tbs, key, crl.signature);
    // A forged CRL over a collision could revoke or clear anything: SHA-1 and MD5 CRLs are not used.
    if (sig.hash === null || isWeakHash(sig.hash)) return false;
    const hash = nodeHash[sig.hash];
    return hash !== undefined && verify(hash, crl.tbs, key, crl.signature);
  } catch {
    return false;
  }
}

/** RSASSA-PSS (RFC 4055 section 3.1): the digest from hashAlgorithm [0], salt length from [2] (default 20). */
function verifyPss(crl: ParsedCrl, key: KeyObject, alg: Uint8Array, params: ReturnType<typeof readTlv> | undefined): boolean {
  if (params?.tag !== 0x30) return false;
  let hash: string | undefined;
  let saltLength = 20;
  for (const f of children(alg, params)) {
    if (f.tag === 0xa0) {
      const hashAlg = readTlv(alg, f.start, f.end);
      const oid = children(alg, hashAlg)[0];
      if (oid?.tag === 0x06) hash = hashOids[decodeOid(content(alg, oid))];
    } else if (f.tag === 0xa2) {
      const n = readTlv(alg, f.start, f.end);
      saltLength = decodeSmallInt(content(alg, n));
    }
  }
  if (hash === undefined) return false;
  return verify(hash, crl.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, crl.signature);
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}
