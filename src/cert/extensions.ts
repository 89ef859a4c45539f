// Reads a certificate's TBS fields and extensions once (RFC 5280 sections 4.1 and 4.2) with the
// bounded DER reader. Never throws: what cannot be read becomes a `defects` entry, each one a
// short sentence naming the rule, so the judge can say what is wrong instead of crashing.
import { children, content, decodeBool, decodeOid, decodeSmallInt, decodeTime, DerError, encoding, readTlv, signedParts, type Tlv } from './der.ts';
import { decodeGeneralName, decodeName, type GeneralName, type NameAttribute } from './general-names.ts';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  policyConstraints: '2.5.29.36',
  crlDistributionPoints: '2.5.29.31',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
  commonName: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
  ecPublicKey: '1.2.840.10045.2.1',
} as const;

/**
 * Extensions a validator may see marked critical and still accept: those it processes, plus
 * the policy extensions (RFC 5280 section 6.1: certwatch, like browsers, asks for any policy).
 */
const understood = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.subjectKeyId,
  OID.authorityKeyId,
  OID.authorityInfoAccess,
  OID.policyConstraints,
  '2.5.29.32', // certificatePolicies
  '2.5.29.33', // policyMappings
  '2.5.29.54', // inhibitAnyPolicy
  OID.crlDistributionPoints,
  '2.5.29.46', // freshestCRL
  '2.5.29.18', // issuerAltName
  '1.3.6.1.5.5.7.1.11', // subjectInfoAccess
  '1.3.6.1.4.1.11129.2.4.2', // signed certificate timestamps
  '1.3.6.1.5.5.7.1.24', // TLS feature (must-staple)
]);

/** Key usage bits (RFC 5280 section 4.2.1.3). */
export const KU = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** Name constraints of a CA (RFC 5280 section 4.2.1.10). */
export interface NameConstraints {
  permitted: GeneralName[];
  excluded: GeneralName[];
}

/** What the judge reads from a certificate's DER beyond node:crypto. */
export interface Parsed {
  version: number;
  /** Raw DER of issuer and subject Names: equal bytes mean the same name (RFC 5280 section 7.1, as webpki compares). */
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  subjectEmpty: boolean;
  subjectRdns: Uint8Array[];
  subjectAttributes: NameAttribute[];
  spkiAlgorithm: string;
  /** The EC parameters are a named curve OID (CABF 7.1.3.1.2), or the key is not EC. */
  namedCurve: boolean;
  /** cA flag and path length when basicConstraints is present, else null. */
  basicConstraints: { ca: boolean; pathLen: number | null; critical: boolean } | null;
  /** keyUsage bits when present, else null. */
  keyUsage: number | null;
  extKeyUsage: { oids: string[]; critical: boolean } | null;
  san: { names: GeneralName[]; critical: boolean } | null;
  nameConstraints: (NameConstraints & { critical: boolean }) | null;
  subjectKeyId: Uint8Array | null;
  authorityKeyId: { keyId: Uint8Array | null; hasIssuer: boolean; hasSerial: boolean } | null;
  /** OIDs of critical extensions the judge does not understand (RFC 5280 section 4.2). */
  unknownCritical: string[];
  /** Content octets of the serial number INTEGER (matched against CRL entries). */
  serial: Uint8Array;
  /**
   * The fullName GeneralNames of the cRLDistributionPoints, each as its raw DER (latin1), for
   * matching a CRL's issuingDistributionPoint (RFC 5280 section 6.3.3 (b)(2)); null when absent.
   */
  crlDistributionPoints: string[] | null;
  /** What is wrong with the serial number (RFC 5280 section 4.1.2.2), or null. Kept apart: six Mozilla roots have serial 0. */
  serialDefect: string | null;
  /** How notBefore and notAfter break RFC 5280 section 4.1.2.5's two forms. Kept apart: anchors are not checked for it. */
  timeDefects: string[];
  /** Encoding and profile rules broken by this certificate alone, as short sentences. */
  defects: string[];
}

/** Reads `der`; never throws. */
export function parseCertificate(der: Uint8Array): Parsed {
  const p: Parsed = {
    version: 0,
    issuerDer: new Uint8Array(),
    subjectDer: new Uint8Array(),
    subjectEmpty: true,
    subjectRdns: [],
    subjectAttributes: [],
    spkiAlgorithm: '',
    namedCurve: true,
    basicConstraints: null,
    keyUsage: null,
    extKeyUsage: null,
    san: null,
    nameConstraints: null,
    subjectKeyId: null,
    authorityKeyId: null,
    unknownCritical: [],
    serial: new Uint8Array(),
    crlDistributionPoints: null,
    serialDefect: null,
    timeDefects: [],
    defects: [],
  };
  try {
    readTbs(der, p);
  } catch (err) {
    p.defects.push(`its encoding is malformed (${err instanceof Error ? err.message : String(err)})`);
  }
  return p;
}

function readTbs(der: Uint8Array, p: Parsed): void {
  const { tbs, outerAlg } = signedParts(der, 'Certificate');
  const fields = children(der, tbs);
  let i = 0;
  p.version = 1;
  if (fields[0]?.tag === 0xa0) {
    const v = readTlv(der, fields[0].start, fields[0].end);
    p.version = decodeSmallInt(content(der, v)) + 1;
    i++;
  }
  const serial = need(fields[i++], 0x02, 'serialNumber');
  const innerAlg = need(fields[i++], 0x30, 'signature');
  const issuer = need(fields[i++], 0x30, 'issuer');
  const validity = need(fields[i++], 0x30, 'validity');
  const subject = need(fields[i++], 0x30, 'subject');
  const spki = need(fields[i++], 0x30, 'subjectPublicKeyInfo');
  p.issuerDer = encoding(der, issuer);
  p.subjectDer = encoding(der, subject);
  p.subjectEmpty = subject.start === subject.end;
  const name = decodeName(der, subject);
  p.subjectRdns = name.rdns;
  p.subjectAttributes = name.attributes;
  readSpki(der, spki, p);
  if (p.version !== 3) p.defects.push(`it is an X.509 version ${p.version} certificate (version 3 is required, CABF 7.1.1)`);
  p.serial = content(der, serial);
  serialRules(p.serial, p);
  validityRules(der, validity, p);
  if (Buffer.compare(encoding(der, innerAlg), encoding(der, outerAlg)) !== 0) {
    p.defects.push('its two signatureAlgorithm fields differ (RFC 5280 section 4.1.1.2)');
  }
  if (issuer.start === issuer.end) p.defects.push('its issuer name is empty (RFC 5280 section 4.1.2.4)');
  let ext: Tlv | undefined;
  for (const f of fields.slice(i)) {
    if (f.tag === 0xa3) ext = f;
    else if (f.tag !== 0x81 && f.tag !== 0x82) throw new DerError('unexpected field in TBSCertificate');
  }
  if (ext !== undefined) readExtensions(der, only1(der, ext), p);
}

function need(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t?.tag !== tag) throw new DerError(`${what} missing or of the wrong type`);
  return t;
}

function only1(der: Uint8Array, wrapper: Tlv): Tlv {
  const t = readTlv(der, wrapper.start, wrapper.end);
  if (t.end !== wrapper.end) throw new DerError('trailing bytes');
  return t;
}

/** RFC 5280 section 4.1.2.2: a positive integer of at most 20 octets. */
function serialRules(bytes: Uint8Array, p: Parsed): void {
  const first = bytes[0] ?? 0;
  // A leading 0x00 only keeps the sign positive; it does not count against the 20 octets.
  const octets = first === 0 ? bytes.length - 1 : bytes.length;
  if ((first & 0x80) !== 0) p.serialDefect = 'its serial number is negative (RFC 5280 section 4.1.2.2)';
  else if (bytes.every((b) => b === 0)) p.serialDefect = 'its serial number is zero (RFC 5280 section 4.1.2.2)';
  else if (octets > 20) p.serialDefect = `its serial number is ${octets} octets long (at most 20, RFC 5280 section 4.1.2.2)`;
}

/**
 * RFC 5280 section 4.1.2.5: UTCTime as YYMMDDHHMMSSZ for years through 2049, GeneralizedTime
 * as YYYYMMDDHHMMSSZ from 2050: seconds present, no fractions, no offset but "Z". OpenSSL and
 * node:crypto read fractions and +hhmm offsets; webpki and mozilla::pkix refuse the
 * certificate. A GeneralizedTime before 2050 is accepted (see timeDefect).
 */
function validityRules(der: Uint8Array, validity: Tlv, p: Parsed): void {
  const times = children(der, validity);
  if (times.length !== 2) {
    p.timeDefects.push(`its validity holds ${times.length} times instead of notBefore and notAfter (RFC 5280 section 4.1.2.5)`);
    return;
  }
  times.forEach((t, k) => {
    const why = timeDefect(der, t);
    if (why !== null) p.timeDefects.push(`its ${k === 0 ? 'notBefore' : 'notAfter'} ${why}`);
  });
}

function timeDefect(der: Uint8Array, t: Tlv): string | null {
  const raw = Buffer.from(content(der, t)).toString('latin1');
  const shown = /^[\x20-\x7e]{1,24}$/.test(raw) ? `"${raw}"` : `of ${raw.length} bytes`;
  if (t.tag === 0x17) {
    if (/^\d{12}Z$/.test(raw) && validDate(der, t)) return null;
    return `is the UTCTime ${shown}, not YYMMDDHHMMSSZ (RFC 5280 section 4.1.2.5.1: seconds present, no fractional seconds, "Z" only)`;
  }
  if (t.tag === 0x18) {
    // A GeneralizedTime for a year before 2050 breaks RFC 5280 too, but Go, webpki, Chrome and
    // OpenSSL accept it (only pyca cryptography's verifier refuses): not a finding, no false alarm.
    if (!/^\d{14}Z$/.test(raw) || !validDate(der, t)) return `is the GeneralizedTime ${shown}, not YYYYMMDDHHMMSSZ (RFC 5280 section 4.1.2.5.2: seconds present, no fractional seconds, "Z" only)`;
    return null;
  }
  return `is neither a UTCTime nor a GeneralizedTime (RFC 5280 section 4.1.2.5)`;
}

function validDate(der: Uint8Array, t: Tlv): boolean {
  try {
    decodeTime(der, t);
    return true;
  } catch {
    return false;
  }
}

function readSpki(der: Uint8Array, spki: Tlv, p: Parsed): void {
  const [alg] = children(der, spki);
  if (alg?.tag !== 0x30) throw new DerError('malformed subjectPublicKeyInfo');
  const [oid, params] = children(der, alg);
  if (oid?.tag !== 0x06) throw new DerError('malformed public key algorithm');
  p.spkiAlgorithm = decodeOid(content(der, oid));
  if (p.spkiAlgorithm === OID.ecPublicKey) p.namedCurve = params?.tag === 0x06;
}

function readExtensions(der: Uint8Array, list: Tlv, p: Parsed): void {
  if (list.tag !== 0x30) throw new DerError('extensions are not a SEQUENCE');
  const seen = new Set<string>();
  for (const e of children(der, list)) {
    const parts = children(der, e);
    const oidT = parts[0];
    if (e.tag !== 0x30 || oidT?.tag !== 0x06) throw new DerError('malformed extension');
    const oid = decodeOid(content(der, oidT));
    let critical = false;
    let valueT = parts[1];
    if (valueT?.tag === 0x01) {
      critical = decodeBool(content(der, valueT));
      valueT = parts[2];
    }
    if (valueT?.tag !== 0x04) throw new DerError(`extension ${oid} has no value`);
    if (seen.has(oid)) p.defects.push(`it has the extension ${oid} twice (RFC 5280 section 4.2)`);
    seen.add(oid);
    try {
      readExtension(der, oid, critical, valueT, p);
    } catch (err) {
      p.defects.push(`its ${extensionName(oid)} extension is malformed (${err instanceof Error ? err.message : String(err)})`);
    }
    if (critical && !understood.has(oid)) p.unknownCritical.push(oid);
  }
}

/** The value inside an extension's OCTET STRING, which must hold exactly one element. */
function inner(der: Uint8Array, value: Tlv): Tlv {
  return only1(der, value);
}

function readExtension(der: Uint8Array, oid: string, critical: boolean, value: Tlv, p: Parsed): void {
  switch (oid) {
    case OID.basicConstraints: {
      const seq = inner(der, value);
      if (seq.tag !== 0x30) throw new DerError('not a SEQUENCE');
      let ca = false;
      let pathLen: number | null = null;
      for (const f of children(der, seq)) {
        if (f.tag === 0x01) ca = decodeBool(content(der, f));
        else if (f.tag === 0x02) pathLen = decodeSmallInt(content(der, f));
        else throw new DerError('unexpected field');
      }
      p.basicConstraints = { ca, pathLen, critical };
      return;
    }
    case OID.keyUsage: {
      const bits = inner(der, value);
      if (bits.tag !== 0x03 || bits.end - bits.start < 2) throw new DerError('not a non-empty BIT STRING');
      let v = 0;
      const bytes = der.subarray(bits.start + 1, bits.end);
      for (let i = 0; i < Math.min(bytes.length * 8, 16); i++) if ((bytes[i >> 3]! >> (7 - (i & 7))) & 1) v |= 1 << i;
      p.keyUsage = v;
      // RFC 5280 section 4.2.1.3: when the extension appears, at least one bit MUST be set.
      if (v === 0) throw new DerError('it asserts no usage at all (RFC 5280 section 4.2.1.3)');
      return;
    }
    case OID.extKeyUsage: {
      const seq = inner(der, value);
      if (seq.tag !== 0x30) throw new DerError('not a SEQUENCE');
      const oids = children(der, seq).map((t) => {
        if (t.tag !== 0x06) throw new DerError('not an OID');
        return decodeOid(content(der, t));
      });
      p.extKeyUsage = { oids, critical };
      if (oids.length === 0) p.defects.push('its extendedKeyUsage extension lists no purpose (RFC 5280 section 4.2.1.12)');
      return;
    }
    case OID.subjectAltName: {
      const seq = inner(der, value);
      if (seq.tag !== 0x30) throw new DerError('not a SEQUENCE');
      const names = children(der, seq).map((t) => decodeGeneralName(der, t));
      if (names.length === 0) throw new DerError('no names');
      p.san = { names, critical };
      return;
    }
    case OID.nameConstraints:
      p.nameConstraints = { ...readNameConstraints(der, inner(der, value)), critical };
      return;
    case OID.subjectKeyId: {
      const id = inner(der, value);
      if (id.tag !== 0x04) throw new DerError('not an OCTET STRING');
      p.subjectKeyId = content(der, id);
      if (critical) p.defects.push('its subjectKeyIdentifier extension is critical (RFC 5280 section 4.2.1.2)');
      return;
    }
    case OID.authorityKeyId: {
      const seq = inner(der, value);
      if (seq.tag !== 0x30) throw new DerError('not a SEQUENCE');
      const aki = { keyId: null as Uint8Array | null, hasIssuer: false, hasSerial: false };
      for (const f of children(der, seq)) {
        if (f.tag === 0x80) aki.keyId = content(der, f);
        else if (f.tag === 0xa1) aki.hasIssuer = true;
        else if (f.tag === 0x82) aki.hasSerial = true;
        else throw new DerError('unexpected field');
      }
      p.authorityKeyId = aki;
      if (critical) p.defects.push('its authorityKeyIdentifier extension is critical (RFC 5280 section 4.2.1.1)');
      return;
    }
    case OID.authorityInfoAccess: {
      const seq = inner(der, value);
      if (seq.tag !== 0x30) throw new DerError('not a SEQUENCE');
      const ads = children(der, seq);
      if (ads.length === 0) throw new DerError('no access descriptions');
      for (const ad of ads) {
        const [method, location, extra] = children(der, ad);
        if (ad.tag !== 0x30 || method?.tag !== 0x06 || location === undefined || extra !== undefined) throw new DerError('malformed access description');
        decodeGeneralName(der, location);
      }
      if (critical) p.defects.push('its authorityInfoAccess extension is critical (RFC 5280 section 4.2.2.1)');
      return;
    }
    case OID.crlDistributionPoints:
      p.crlDistributionPoints = readDistributionPoints(der, inner(der, value));
      return;
    case OID.policyConstraints:
      if (!critical) p.defects.push('its policyConstraints extension is not critical (RFC 5280 section 4.2.1.11)');
      return;
    default:
  }
}

/** RFC 5280 section 4.2.1.13: the fullName GeneralNames of every DistributionPoint, as raw DER. */
function readDistributionPoints(der: Uint8Array, seq: Tlv): string[] {
  if (seq.tag !== 0x30) throw new DerError('not a SEQUENCE');
  const names: string[] = [];
  for (const dp of children(der, seq)) {
    if (dp.tag !== 0x30) throw new DerError('malformed DistributionPoint');
    const dpName = children(der, dp).find((f) => f.tag === 0xa0);
    const full = dpName === undefined ? undefined : children(der, dpName).find((f) => f.tag === 0xa0);
    if (full !== undefined) {
      for (const g of children(der, full)) {
        // A distribution point is located by a URI or named by a directoryName (section
        // 4.2.1.13; CABF 7.1.2.11.2 allows URIs only): any other name type locates nothing.
        if (g.tag !== 0x86 && g.tag !== 0xa4) throw new DerError('a distribution point name is neither a URI nor a directory name');
        names.push(Buffer.from(encoding(der, g)).toString('latin1'));
      }
    }
  }
  return names;
}

function readNameConstraints(der: Uint8Array, seq: Tlv): NameConstraints {
  if (seq.tag !== 0x30) throw new DerError('not a SEQUENCE');
  const nc: NameConstraints = { permitted: [], excluded: [] };
  const parts = children(der, seq);
  for (const part of parts) {
    if (part.tag !== 0xa0 && part.tag !== 0xa1) throw new DerError('neither permittedSubtrees nor excludedSubtrees');
    const subtrees = children(der, part);
    // RFC 5280 section 4.2.1.10: GeneralSubtrees is SIZE (1..MAX).
    if (subtrees.length === 0) throw new DerError('an empty list of subtrees');
    for (const st of subtrees) {
      const [base, ...rest] = children(der, st);
      if (st.tag !== 0x30 || base === undefined) throw new DerError('malformed GeneralSubtree');
      // minimum must be 0 and maximum absent (RFC 5280 section 4.2.1.10).
      if (rest.length > 0) throw new DerError('a subtree with minimum or maximum');
      (part.tag === 0xa0 ? nc.permitted : nc.excluded).push(decodeGeneralName(der, base));
    }
  }
  if (parts.length === 0) throw new DerError('neither permitted nor excluded subtrees');
  return nc;
}

const extensionNames: Record<string, string> = {
  [OID.basicConstraints]: 'basicConstraints',
  [OID.keyUsage]: 'keyUsage',
  [OID.extKeyUsage]: 'extendedKeyUsage',
  [OID.subjectAltName]: 'subjectAltName',
  [OID.nameConstraints]: 'nameConstraints',
  [OID.subjectKeyId]: 'subjectKeyIdentifier',
  [OID.authorityKeyId]: 'authorityKeyIdentifier',
  [OID.authorityInfoAccess]: 'authorityInfoAccess',
  [OID.policyConstraints]: 'policyConstraints',
  [OID.crlDistributionPoints]: 'cRLDistributionPoints',
};

export function extensionName(oid: string): string {
  return extensionNames[oid] ?? oid;
}

/** Whether key usage bit `bit` is asserted (absent keyUsage asserts nothing). */
export function hasKeyUsage(p: Parsed, bit: number): boolean {
  return p.keyUsage !== null && (p.keyUsage & (1 << bit)) !== 0;
}
