// DANE for SMTP (RFC 7672, RFC 6698, RFC 7671): TLSA records of `_25._tcp.<mx>` matched
// against the chain the server sent. Only DNSSEC-authenticated answers count.
import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { DnsResult } from '../dns/types.ts';
import type { TlsaRecord } from '../dns/types.ts';
import { isNegative } from '../dns/types.ts';
import type { MailFinding } from './codes.ts';
import { dnsFinding } from './discover.ts';

/** How one TLSA record fared against a chain. */
export interface TlsaMatch {
  record: string;
  usable: boolean;
  /** Why the record is unusable, when it is. */
  reason?: string;
  matched: boolean;
}

/** The DANE verdict for one server. */
export interface DaneResult {
  /** `none`: no TLSA records; `unsigned`: records ignored for lack of DNSSEC. */
  state: 'none' | 'unsigned' | 'unusable' | 'match' | 'mismatch' | 'error';
  records: TlsaMatch[];
  findings: MailFinding[];
}

/** `3 1 1 abcd…` as written in a zone file (data shortened). */
export function formatTlsa(r: TlsaRecord): string {
  const hex = r.data.toString('hex');
  return `${r.usage} ${r.selector} ${r.matchingType} ${hex.length > 16 ? `${hex.slice(0, 16)}…` : hex}`;
}

function unusableReason(r: TlsaRecord): string | null {
  // RFC 7672 section 3.1.3: PKIX-TA(0) and PKIX-EE(1) are not for SMTP.
  if (r.usage === 0 || r.usage === 1) return `usage ${r.usage} (PKIX) is not used for SMTP (RFC 7672 section 3.1.3)`;
  if (r.usage !== 2 && r.usage !== 3) return `unknown usage ${r.usage}`;
  if (r.selector !== 0 && r.selector !== 1) return `unknown selector ${r.selector}`;
  if (r.matchingType === 1 && r.data.length !== 32) return `SHA-256 data of ${r.data.length} bytes instead of 32`;
  if (r.matchingType === 2 && r.data.length !== 64) return `SHA-512 data of ${r.data.length} bytes instead of 64`;
  if (r.matchingType > 2) return `unknown matching type ${r.matchingType}`;
  return null;
}

/** The bytes a record's selector picks: the whole certificate or its SubjectPublicKeyInfo. */
function selected(cert: X509Certificate, selector: number): Buffer {
  return selector === 0 ? cert.raw : cert.publicKey.export({ type: 'spki', format: 'der' });
}

function digest(bytes: Buffer, matchingType: number): Buffer {
  if (matchingType === 0) return bytes;
  return createHash(matchingType === 1 ? 'sha256' : 'sha512').update(bytes).digest();
}

function parse(chain: readonly Buffer[]): X509Certificate[] | null {
  try {
    return chain.map((der) => new X509Certificate(der));
  } catch {
    return null;
  }
}

/**
 * DANE-TA (RFC 7671 section 5.2): the matched certificate must be in the chain at position
 * `ta`, every certificate below it issued by the next, and the leaf valid for the MX name or
 * its CNAME expansion (RFC 7672 section 3.2.2). Dates of the trust anchor itself are not checked.
 */
function taPathHolds(certs: X509Certificate[], ta: number, names: readonly string[]): boolean {
  for (let i = 0; i < ta; i++) {
    const child = certs[i]!;
    const parent = certs[i + 1]!;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
  }
  return names.some((n) => certs[0]!.checkHost(n, { subject: 'default' }) !== undefined);
}

/**
 * A DANE-TA record with matching type Full(0) carries the trust anchor itself: the whole
 * certificate (2 0 0) or its public key (2 1 0). The server need not send it then (RFC 7671
 * section 5.2.2, RFC 7672 section 3.1.2): a sent certificate it signed is where the path starts.
 */
function publishedAnchor(r: TlsaRecord): { key: KeyObject; cert: X509Certificate | null } | null {
  if (r.usage !== 2 || r.matchingType !== 0) return null;
  try {
    if (r.selector === 0) {
      const cert = new X509Certificate(r.data);
      return { key: cert.publicKey, cert };
    }
    return { key: createPublicKey({ key: r.data, format: 'der', type: 'spki' }), cert: null };
  } catch {
    return null;
  }
}

function signedBy(cert: X509Certificate, ta: { key: KeyObject; cert: X509Certificate | null }): boolean {
  try {
    return (ta.cert === null || cert.checkIssued(ta.cert)) && cert.verify(ta.key);
  } catch {
    return false;
  }
}

function matchRecord(r: TlsaRecord, certs: X509Certificate[], names: readonly string[]): boolean {
  // DANE-EE (3): the leaf alone, names and dates ignored (RFC 7672 section 3.1.1).
  const candidates = r.usage === 3 ? [0] : certs.map((_, i) => i);
  for (const i of candidates) {
    if (!digest(selected(certs[i]!, r.selector), r.matchingType).equals(r.data)) continue;
    if (r.usage === 3 || taPathHolds(certs, i, names)) return true;
  }
  const ta = publishedAnchor(r);
  if (ta === null) return false;
  return certs.some((c, i) => signedBy(c, ta) && taPathHolds(certs, i, names));
}

/** Where the TLSA records were looked up (RFC 7672 section 2.2.2); the default is the MX name. */
export interface TlsaContext {
  /** False when the MX host's address records are not DNSSEC-authenticated: DANE does not apply. */
  addressesSecure: boolean;
  /** The TLSA base domain: the MX name, or its CNAME expansion. */
  base: string;
  /** The names the leaf may be valid for under DANE-TA: the MX name and its CNAME expansion. */
  names: readonly string[];
}

/** Judges the TLSA answer for `_25._tcp.<base>` against the chain `mxHost` sent. */
export function evaluateDane(tlsa: DnsResult<'TLSA'>, chain: readonly Buffer[], mxHost: string, ctx: TlsaContext = { addressesSecure: true, base: mxHost, names: [mxHost] }): DaneResult {
  if (!ctx.addressesSecure) {
    // RFC 7672 section 2.2.2: with insecure address records a sender does not use TLSA
    // records (nor fail on their lookup); say so when some are published anyway.
    if (!tlsa.ok) return { state: 'none', records: [], findings: [] };
    return {
      state: 'unsigned',
      records: tlsa.records.map((r) => ({ record: formatTlsa(r), usable: false, reason: 'address records not DNSSEC-authenticated', matched: false })),
      findings: [{ code: 'DANE_UNSIGNED', severity: 'note', message: `${mxHost}: its address records are not DNSSEC-authenticated, so DANE does not apply and the TLSA records at _25._tcp.${ctx.base} are ignored (RFC 7672 section 2.2.2)` }],
    };
  }
  if (!tlsa.ok) {
    if (isNegative(tlsa)) return { state: 'none', records: [], findings: [] };
    // RFC 7672 section 2.2: a failed TLSA lookup makes a DANE client defer delivery.
    return { state: 'error', records: [], findings: [dnsFinding(tlsa, `TLSA _25._tcp.${ctx.base}`)] };
  }
  if (!tlsa.authenticated) {
    return {
      state: 'unsigned',
      records: tlsa.records.map((r) => ({ record: formatTlsa(r), usable: false, reason: 'not DNSSEC-authenticated', matched: false })),
      findings: [{ code: 'DANE_UNSIGNED', severity: 'note', message: `${mxHost}: TLSA records are not DNSSEC-authenticated (no AD bit from the resolver); they are ignored` }],
    };
  }
  const certs = parse(chain);
  const records: TlsaMatch[] = tlsa.records.map((r) => {
    const reason = unusableReason(r);
    if (reason !== null) return { record: formatTlsa(r), usable: false, reason, matched: false };
    return { record: formatTlsa(r), usable: true, matched: certs !== null && certs.length > 0 && matchRecord(r, certs, ctx.names) };
  });
  const usable = records.filter((r) => r.usable);
  const findings: MailFinding[] = [];
  const unusable = records.filter((r) => !r.usable);
  if (unusable.length > 0) {
    findings.push({
      code: 'DANE_UNUSABLE',
      severity: usable.length === 0 ? 'warning' : 'note',
      message: `${mxHost}: ${unusable.length} TLSA record(s) cannot be used: ${unusable.map((r) => `${r.record} (${r.reason})`).join('; ')}`,
    });
  }
  if (usable.length === 0) return { state: 'unusable', records, findings };
  const matched = usable.filter((r) => r.matched);
  if (matched.length === 0) {
    findings.push({ code: 'DANE_MISMATCH', severity: 'critical', message: `${mxHost}: no TLSA record${ctx.base === mxHost ? '' : ` at _25._tcp.${ctx.base}`} matches the certificate chain the server sent (${usable.map((r) => r.record).join(', ')}); DANE clients will not deliver` });
    return { state: 'mismatch', records, findings };
  }
  // A match only through "3 0 x" (the whole leaf) breaks at the next renewal unless the
  // new record is published first (RFC 7671 section 8.1); a key-based record survives it.
  const tlsaRecords = tlsa.records;
  const survivesRenewal = matched.some((m) => {
    const r = tlsaRecords[records.indexOf(m)]!;
    return r.selector === 1 || r.usage === 2;
  });
  if (!survivesRenewal) {
    findings.push({ code: 'DANE_ROLLOVER_HAZARD', severity: 'warning', message: `${mxHost}: only "3 0 x" records match (the whole certificate): a renewed certificate will not match until a record for it is published; publish "3 1 1" or a 2 x x record` });
  }
  return { state: 'match', records, findings };
}
