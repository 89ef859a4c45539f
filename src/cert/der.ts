// A bounded DER (X.690) reader: enough to read what node:crypto's X509Certificate does not
// expose (extensions, raw names, the outer signatureAlgorithm). Lengths are never trusted:
// every read is checked against its parent's end, and malformed input is a DerError.

/** Malformed DER; the message says where. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/** A DER element: its tag byte and where its header and content lie in the buffer. */
export interface Tlv {
  tag: number;
  /** First byte of the header (the tag). */
  at: number;
  /** First byte of the content. */
  start: number;
  /** One past the last content byte. */
  end: number;
}

/** Reads one element at `at`, which must end by `limit`. */
export function readTlv(der: Uint8Array, at: number, limit = der.length): Tlv {
  const tag = der[at];
  const first = der[at + 1];
  if (tag === undefined || first === undefined || at + 2 > limit) throw new DerError('truncated element');
  // Multi-byte tags (low bits 0x1f) never occur in certificates.
  if ((tag & 0x1f) === 0x1f) throw new DerError('unsupported high tag number');
  let len = first;
  let start = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    // Indefinite lengths are BER-only; certificates never need more than 4 length bytes.
    if (n === 0 || n > 4) throw new DerError('unsupported length encoding');
    len = 0;
    for (let i = 0; i < n; i++) {
      const b = der[start + i];
      if (b === undefined) throw new DerError('truncated length');
      len = len * 256 + b;
    }
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError('element runs past its container');
  return { tag, at, start, end };
}

/** The elements inside a constructed element, in order. */
export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const t = readTlv(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

/** Reads one element of `tag` whose content must fill `parent` exactly (a wrapped value). */
export function only(der: Uint8Array, start: number, end: number, tag: number): Tlv {
  const t = readTlv(der, start, end);
  if (t.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  if (t.end !== end) throw new DerError('trailing bytes after the value');
  return t;
}

/**
 * The parts of a signed structure that is the whole of `der` (Certificate, CertificateList:
 * SEQUENCE { tbs SEQUENCE, signatureAlgorithm SEQUENCE, signature BIT STRING }).
 */
export function signedParts(der: Uint8Array, what: string): { tbs: Tlv; outerAlg: Tlv; sig: Tlv } {
  const whole = readTlv(der, 0);
  if (whole.tag !== 0x30 || whole.end !== der.length) throw new DerError('not a single SEQUENCE');
  const [tbs, outerAlg, sig, extra] = children(der, whole);
  if (tbs?.tag !== 0x30 || outerAlg?.tag !== 0x30 || sig?.tag !== 0x03 || extra !== undefined) throw new DerError(`not a ${what}`);
  return { tbs, outerAlg, sig };
}

export function content(der: Uint8Array, t: Tlv): Uint8Array {
  return der.subarray(t.start, t.end);
}

/** The whole encoding (header included) of `t`. */
export function encoding(der: Uint8Array, t: Tlv): Uint8Array {
  return der.subarray(t.at, t.end);
}

export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0 || (bytes[bytes.length - 1]! & 0x80) !== 0) throw new DerError('malformed OID');
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    }
  }
  return parts.join('.');
}

/** DER BOOLEAN content: exactly one byte, 0x00 or 0xff (X.690 11.1). */
export function decodeBool(bytes: Uint8Array): boolean {
  if (bytes.length !== 1 || (bytes[0] !== 0 && bytes[0] !== 0xff)) throw new DerError('malformed BOOLEAN');
  return bytes[0] === 0xff;
}

/** A small non-negative INTEGER (path lengths, versions). */
export function decodeSmallInt(bytes: Uint8Array): number {
  if (bytes.length === 0 || bytes.length > 4 || (bytes[0]! & 0x80) !== 0) throw new DerError('INTEGER out of range');
  let v = 0;
  for (const b of bytes) v = v * 256 + b;
  return v;
}

/** RSASSA-PSS-params (RFC 4055 section 3.1) as written; absent fields hold their defaults. */
export interface PssParams {
  /** hashAlgorithm's OID (SHA-1 when absent). */
  hash: string;
  /** hashAlgorithm's parameters are absent or NULL. */
  hashParamsNull: boolean;
  /** maskGenAlgorithm's OID (MGF1 when absent). */
  mgf: string;
  /** The digest MGF1 uses (SHA-1 when absent), null when it cannot be read. */
  mgfHash: string | null;
  mgfHashParamsNull: boolean;
  /** saltLength (20 when absent), null when too large to read. */
  salt: number | null;
  /** trailerField (1 when absent), null when too large to read. */
  trailer: number | null;
}

const sha1Oid = '1.3.14.3.2.26';
const mgf1Oid = '1.2.840.113549.1.1.8';

/**
 * The outer signatureAlgorithm of a certificate: its OID and, for RSASSA-PSS, its parameters
 * (`pss`, null when missing or unreadable) and the OID of their hashAlgorithm (RFC 4055
 * section 3.1: absent means SHA-1). Null when it cannot be read.
 */
export function signatureAlgorithmId(der: Uint8Array): { oid: string; pssHash: string | null; pss: PssParams | null } | null {
  try {
    const cert = readTlv(der, 0);
    if (cert.tag !== 0x30) return null;
    const tbs = readTlv(der, cert.start, cert.end);
    const alg = readTlv(der, tbs.end, cert.end);
    if (alg.tag !== 0x30) return null;
    const [oidT, params] = children(der, alg);
    if (oidT?.tag !== 0x06) return null;
    const oid = decodeOid(content(der, oidT));
    if (oid !== '1.2.840.113549.1.1.10' || params?.tag !== 0x30) return { oid, pssHash: null, pss: null };
    let pss: PssParams | null = null;
    try {
      pss = pssParams(der, params);
    } catch {
      // Unreadable parameters: still RSASSA-PSS, with parameters no client accepts.
    }
    return { oid, pssHash: pss?.hash ?? null, pss };
  } catch {
    return null;
  }
}

function pssParams(der: Uint8Array, params: Tlv): PssParams | null {
  const p: PssParams = { hash: sha1Oid, hashParamsNull: true, mgf: mgf1Oid, mgfHash: sha1Oid, mgfHashParamsNull: true, salt: 20, trailer: 1 };
  let last = 0x9f;
  for (const f of children(der, params)) {
    // The fields are [0] to [3], each at most once and in order (DER, X.690 10.3).
    if (f.tag < 0xa0 || f.tag > 0xa3 || f.tag <= last) return null;
    last = f.tag;
    const inner = only(der, f.start, f.end, f.tag <= 0xa1 ? 0x30 : 0x02);
    if (f.tag === 0xa0) [p.hash, p.hashParamsNull] = algorithmId(der, inner);
    else if (f.tag === 0xa1) {
      const [mgfOid, mgfParams, extra] = children(der, inner);
      if (mgfOid?.tag !== 0x06 || extra !== undefined) return null;
      p.mgf = decodeOid(content(der, mgfOid));
      [p.mgfHash, p.mgfHashParamsNull] = mgfParams?.tag === 0x30 ? algorithmId(der, mgfParams) : [null, false];
    } else {
      const bytes = content(der, inner);
      const n = bytes.length <= 4 && (bytes[0]! & 0x80) === 0 ? decodeSmallInt(bytes) : null;
      if (f.tag === 0xa2) p.salt = n;
      else p.trailer = n;
    }
  }
  return p;
}

/** An AlgorithmIdentifier's OID, and whether its parameters are absent or NULL. */
function algorithmId(der: Uint8Array, seq: Tlv): [string, boolean] {
  const [oid, params, extra] = children(der, seq);
  if (oid?.tag !== 0x06 || extra !== undefined) throw new DerError('malformed AlgorithmIdentifier');
  return [decodeOid(content(der, oid)), params === undefined || (params.tag === 0x05 && params.start === params.end)];
}

/**
 * A UTCTime (tag 0x17) or GeneralizedTime (0x18) as RFC 5280 section 4.1.2.5 allows them in
 * certificates and CRLs (section 5.1.2.4): UTC with seconds and a trailing "Z", no fractions.
 */
export function decodeTime(der: Uint8Array, t: Tlv): Date {
  const text = Buffer.from(content(der, t)).toString('latin1');
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : t.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (m === null) throw new DerError(`malformed time "${text.slice(0, 20)}"`);
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number];
  // RFC 5280 section 4.1.2.5.1: a two-digit year below 50 is 20YY, otherwise 19YY.
  const year = t.tag === 0x17 ? (n[0] < 50 ? 2000 + n[0] : 1900 + n[0]) : n[0];
  const d = new Date(0);
  d.setUTCFullYear(year, n[1] - 1, n[2]); // not Date.UTC, which maps years 0-99 to 19YY
  d.setUTCHours(n[3], n[4], n[5], 0);
  if (d.getUTCMonth() !== n[1] - 1 || d.getUTCDate() !== n[2] || n[3] > 23 || n[4] > 59 || n[5] > 59) throw new DerError(`impossible date "${text}"`);
  return d;
}
