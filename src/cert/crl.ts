// Certificate revocation lists (RFC 5280 section 5), read with the bounded DER reader. A CRL
// is hostile input like a certificate: every read is bounded, nothing throws out of here, and
// whatever cannot be read or trusted makes the CRL unusable, never a revocation.
import { children, content, decodeBool, decodeOid, decodeTime, DerError, encoding, readTlv, signedParts, type Tlv } from './der.ts';

/** A CRL larger than this is refused unread (the largest public CRLs are a few tens of MB). */
export const MAX_CRL_BYTES = 64 * 1024 * 1024;

/** One revoked certificate: when, and why when the CRL says (RFC 5280 section 5.3.1). */
export interface RevokedEntry {
  date: Date;
  reason: string | null;
}

/** A CRL's structure, read but not yet checked against an issuer or a time. */
export interface ParsedCrl {
  /** Raw DER of the issuer Name (latin1), comparable with `Cert.issuerId`. */
  issuerId: string;
  /** The signed bytes (tbsCertList) and the signature over them. */
  tbs: Uint8Array;
  signatureAlgorithm: Uint8Array;
  signature: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date | null;
  crlNumber: { critical: boolean } | null;
  /** Scope limits from issuingDistributionPoint (RFC 5280 section 5.2.5), null when absent. */
  scope: { distributionPoints: string[]; onlyUser: boolean; onlyCa: boolean; unsupported: string | null } | null;
  /** Serial numbers (hex, leading zeros stripped) to their entries. */
  revoked: Map<string, RevokedEntry>;
  /** Why the CRL must not be used on its own terms (RFC 5280 sections 5.2, 5.3), or empty. */
  defects: string[];
}

const CRL_OID = {
  authorityKeyId: '2.5.29.35',
  issuerAltName: '2.5.29.18',
  crlNumber: '2.5.29.20',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
  holdInstructionCode: '2.5.29.23',
} as const;

/** RFC 5280 section 5.3.1 CRLReason values (7 is unused). */
const reasons = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', null, 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

/** A serial number's content octets as the map key: hex without leading zero octets. */
export function serialKey(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}

/** Reads a DER CRL; a string says why it cannot be read. Never throws. */
export function parseCrl(der: Uint8Array): ParsedCrl | string {
  if (der.length > MAX_CRL_BYTES) return `it is ${der.length} bytes long (at most ${MAX_CRL_BYTES} are read)`;
  try {
    return readCrl(der);
  } catch (err) {
    return `its encoding is malformed (${err instanceof Error ? err.message : String(err)})`;
  }
}

function readCrl(der: Uint8Array): ParsedCrl {
  const { tbs, outerAlg, sig } = signedParts(der, 'CertificateList');
  const fields = children(der, tbs);
  let i = 0;
  const defects: string[] = [];
  if (fields[0]?.tag === 0x02) {
    const v = content(der, fields[0]);
    if (v.length !== 1 || v[0] !== 1) defects.push('its version is not v2 (RFC 5280 section 5.1.2.1)');
    i++;
  } else {
    // RFC 5280 section 5.1.2.1: a v1 CRL has no extensions, so no CRLNumber either.
    defects.push('it is a version 1 CRL (RFC 5280 section 5.1.2.1 requires v2 with a CRLNumber)');
  }
  const innerAlg = need(fields[i++], 0x30, 'signature');
  const issuer = need(fields[i++], 0x30, 'issuer');
  const thisUpdateT = fields[i++];
  if (thisUpdateT === undefined) throw new DerError('thisUpdate missing');
  const crl: ParsedCrl = {
    issuerId: Buffer.from(encoding(der, issuer)).toString('latin1'),
    tbs: encoding(der, tbs),
    signatureAlgorithm: encoding(der, outerAlg),
    signature: bitString(content(der, sig)),
    thisUpdate: decodeTime(der, thisUpdateT),
    nextUpdate: null,
    crlNumber: null,
    scope: null,
    revoked: new Map(),
    defects,
  };
  if (Buffer.compare(encoding(der, innerAlg), crl.signatureAlgorithm) !== 0) defects.push('its two signatureAlgorithm fields differ (RFC 5280 section 5.1.1.2)');
  let f = fields[i];
  if (f?.tag === 0x17 || f?.tag === 0x18) {
    crl.nextUpdate = decodeTime(der, f);
    f = fields[++i];
  }
  if (f?.tag === 0x30) {
    const seen = new Set<string>();
    for (const entry of children(der, f)) readEntry(der, entry, crl, seen);
    f = fields[++i];
  }
  if (f?.tag === 0xa0) {
    const exts = readTlv(der, f.start, f.end);
    if (exts.tag !== 0x30 || exts.end !== f.end) throw new DerError('crlExtensions are not a SEQUENCE');
    readCrlExtensions(der, exts, crl);
    f = fields[++i];
  }
  if (f !== undefined) throw new DerError('unexpected field in TBSCertList');
  return crl;
}

function need(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t?.tag !== tag) throw new DerError(`${what} missing or of the wrong type`);
  return t;
}

/** A BIT STRING's bits; signatures have no unused bits. */
function bitString(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 1 || bytes[0] !== 0) throw new DerError('signature BIT STRING with unused bits');
  return bytes.subarray(1);
}

/**
 * Each extension once: OID, criticality and a reader of the element inside its OCTET STRING.
 * The value is read only for the extensions certwatch processes: an unknown non-critical one is
 * ignored whatever it holds (RFC 5280 section 5.2), even an empty value.
 */
function extensions(der: Uint8Array, list: Tlv, crl: ParsedCrl, where: string): Array<{ oid: string; critical: boolean; value: () => Tlv }> {
  const out: Array<{ oid: string; critical: boolean; value: () => Tlv }> = [];
  for (const e of children(der, list)) {
    const parts = children(der, e);
    if (e.tag !== 0x30 || parts[0]?.tag !== 0x06) throw new DerError(`malformed ${where} extension`);
    const oid = decodeOid(content(der, parts[0]));
    let critical = false;
    let valueT = parts[1];
    if (valueT?.tag === 0x01) {
      critical = decodeBool(content(der, valueT));
      valueT = parts[2];
    }
    if (valueT?.tag !== 0x04) throw new DerError(`${where} extension ${oid} has no value`);
    if (out.some((x) => x.oid === oid)) crl.defects.push(`it has the ${where} extension ${oid} twice (RFC 5280 section 5.2)`);
    const octets = valueT;
    const value = (): Tlv => {
      const v = readTlv(der, octets.start, octets.end);
      if (v.end !== octets.end) throw new DerError(`trailing bytes in ${where} extension ${oid}`);
      return v;
    };
    out.push({ oid, critical, value });
  }
  return out;
}

function readCrlExtensions(der: Uint8Array, list: Tlv, crl: ParsedCrl): void {
  for (const { oid, critical, value } of extensions(der, list, crl, 'CRL')) {
    switch (oid) {
      case CRL_OID.crlNumber:
        if (value().tag !== 0x02) throw new DerError('CRLNumber is not an INTEGER');
        crl.crlNumber = { critical };
        break;
      case CRL_OID.deltaCrlIndicator:
        // A delta CRL only lists changes since a base CRL: alone it cannot say "not revoked".
        crl.defects.push('it is a delta CRL (deltaCRLIndicator), which certwatch does not combine with a base CRL (RFC 5280 section 5.2.4)');
        break;
      case CRL_OID.issuingDistributionPoint:
        crl.scope = readScope(der, value());
        break;
      case CRL_OID.authorityKeyId:
      case CRL_OID.issuerAltName:
      case CRL_OID.freshestCrl:
      case CRL_OID.authorityInfoAccess:
        break;
      default:
        // RFC 5280 section 5.2: a CRL with a critical extension the reader does not process must not be used.
        if (critical) crl.defects.push(`it has a critical extension certwatch does not know (${oid}), so it must not be used (RFC 5280 section 5.2)`);
    }
  }
}

/** RFC 5280 section 5.2.5 issuingDistributionPoint: the partition of certificates this CRL covers. */
function readScope(der: Uint8Array, seq: Tlv): NonNullable<ParsedCrl['scope']> {
  if (seq.tag !== 0x30) throw new DerError('issuingDistributionPoint is not a SEQUENCE');
  const scope: NonNullable<ParsedCrl['scope']> = { distributionPoints: [], onlyUser: false, onlyCa: false, unsupported: null };
  const flag = (t: Tlv): boolean => decodeBool(content(der, t));
  for (const f of children(der, seq)) {
    if (f.tag === 0xa0) {
      const full = children(der, f).find((x) => x.tag === 0xa0);
      if (full === undefined) scope.unsupported = 'a distribution point named relative to the CRL issuer';
      else {
        for (const g of children(der, full)) {
          // A distribution point is located by a URI or named by a directoryName (RFC 5280
          // section 4.2.1.13); CABF 7.2.2.1 allows URIs only. Any other name type locates nothing.
          if (g.tag !== 0x86 && g.tag !== 0xa4) scope.unsupported = 'a distribution point name that is neither a URI nor a directory name';
          scope.distributionPoints.push(Buffer.from(encoding(der, g)).toString('latin1'));
        }
      }
    } else if (f.tag === 0x81) scope.onlyUser = flag(f);
    else if (f.tag === 0x82) scope.onlyCa = flag(f);
    else if (f.tag === 0x83) scope.unsupported = 'onlySomeReasons (a CRL partitioned by reason)';
    else if (f.tag === 0x84 && flag(f)) scope.unsupported = 'indirectCRL (entries issued by other CAs)';
    else if (f.tag === 0x85 && flag(f)) scope.unsupported = 'onlyContainsAttributeCerts';
  }
  return scope;
}

function readEntry(der: Uint8Array, entry: Tlv, crl: ParsedCrl, seen: Set<string>): void {
  const [serial, dateT, exts, extra] = children(der, entry);
  if (entry.tag !== 0x30 || serial?.tag !== 0x02 || dateT === undefined || extra !== undefined) throw new DerError('malformed revoked certificate entry');
  const e: RevokedEntry = { date: decodeTime(der, dateT), reason: null };
  let removed = false;
  if (exts !== undefined) {
    if (exts.tag !== 0x30) throw new DerError('crlEntryExtensions are not a SEQUENCE');
    for (const { oid, critical, value } of extensions(der, exts, crl, 'CRL entry')) {
      if (oid === CRL_OID.reasonCode) {
        const v = value();
        const code = content(der, v);
        if (v.tag !== 0x0a || code.length !== 1) throw new DerError('reasonCode is not a small ENUMERATED');
        e.reason = reasons[code[0]!] ?? `reason ${code[0]}`;
        removed = code[0] === 8;
      } else if (oid === CRL_OID.certificateIssuer) {
        crl.defects.push('an entry names another certificate issuer (an indirect CRL, which certwatch does not support; RFC 5280 section 5.3.3)');
      } else if (critical && oid !== CRL_OID.invalidityDate && oid !== CRL_OID.holdInstructionCode) {
        crl.defects.push(`an entry has a critical extension certwatch does not know (${oid}), so the CRL must not be used (RFC 5280 section 5.3)`);
      }
    }
  }
  const key = serialKey(content(der, serial));
  // Two entries for one serial leave its status to the reader's choice of entry (date, reason,
  // removeFromCRL): the CRL is ambiguous, and CABF forbids it (servercert issue 589).
  if (seen.has(key)) crl.defects.push('it lists a serial number twice, so the status of that certificate is ambiguous');
  seen.add(key);
  // removeFromCRL (RFC 5280 section 5.3.1) undoes a hold: the serial is no longer revoked.
  if (!removed) crl.revoked.set(key, e);
}
