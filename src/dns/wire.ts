// Query encoding and exact, bounded response decoding on top of dns-packet.
import { randomInt } from 'node:crypto';
import * as packet from 'dns-packet';
import type { DnsFailureCode, RecordData, RecordType } from './types.ts';

/** EDNS0 payload size we advertise (the DNS Flag Day 2020 value: no IP fragmentation). */
export const udpPayloadSize = 1232;
/** Most records of the asked type kept from one answer; the rest are ignored. */
export const maxRecords = 64;
/** Longest TXT record kept (an MTA-STS or TLS-RPT record is well under 1 KiB). */
const maxTxtBytes = 4096;
/** TTLs are capped at a day: a hostile answer must not pin a cache entry for 68 years. */
export const maxTtl = 86_400;

/** A query ready to send. */
export interface Query {
  id: number;
  name: string;
  type: RecordType;
  bytes: Buffer;
}

/** Lower case, without the trailing dot. */
export function normalizeName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/**
 * Why `name` (normalized) cannot be sent as a query name, or null when it can. dns-packet
 * writes a label's length into one byte without checking it, so a label over 63 octets would
 * go out as a compression pointer or a reserved label type, and a name over 255 octets as
 * garbage: the resolver then answers FORMERR or another question, and the query times out.
 * Such names come from hostile answers (an MX name of 253 characters under "_25._tcp.", or
 * a label of U+FFFD decoded from invalid bytes, three octets each when encoded again).
 */
export function nameProblem(name: string): string | null {
  if (name === '') return null;
  // A line break would make dns-packet's multi-line trimming of dots query another name.
  if (/[\n\r\u2028\u2029]/.test(name)) return 'it contains a line break';
  let wire = 1;
  for (const label of name.split('.')) {
    const octets = Buffer.byteLength(label, 'utf8');
    if (octets === 0) return 'it has an empty label';
    if (octets > 63) return `a label is ${octets} octets long, more than 63 (RFC 1035 section 2.3.4)`;
    wire += octets + 1;
  }
  return wire > 255 ? `it is ${wire} octets long on the wire, more than 255 (RFC 1035 section 2.3.4)` : null;
}

/** Encodes a recursive query with AD=1 (RFC 6840 5.7: ask for the AD bit) and EDNS0 DO=1. */
export function encodeQuery(name: string, type: RecordType): Query {
  const id = randomInt(0, 65536);
  const bytes = packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED | packet.AUTHENTIC_DATA,
    questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize, flags: packet.DNSSEC_OK } as packet.Answer],
  });
  return { id, name: normalizeName(name), type, bytes };
}

/** What one response says, before the client decides whether to retry. */
export type Decoded =
  | { kind: 'mismatch'; reason: string }
  | { kind: 'truncated' }
  | { kind: 'answer'; records: RecordData[RecordType][]; authenticated: boolean; ttl: number; canonicalName?: string }
  | { kind: 'negative'; code: 'NXDOMAIN' | 'NODATA'; authenticated: boolean; ttl: number }
  | { kind: 'error'; code: DnsFailureCode; message: string };

/**
 * Decodes a response to `q`. A response that is not for `q` (other id, not a response, other
 * question) is a `mismatch`: on UDP it may be spoofed or stale and is ignored, not believed.
 */
export function decodeResponse(q: Query, bytes: Buffer): Decoded {
  let p: packet.DecodedPacket & { rcode?: string };
  try {
    p = packet.decode(bytes);
  } catch (err) {
    if (bytes.length >= 2 && bytes.readUInt16BE(0) !== q.id) return { kind: 'mismatch', reason: 'undecodable datagram with another id' };
    return { kind: 'error', code: 'MALFORMED', message: `undecodable response (${(err as Error).message})` };
  }
  if (p.id !== q.id) return { kind: 'mismatch', reason: `id ${p.id} instead of ${q.id}` };
  if (!p.flag_qr) return { kind: 'mismatch', reason: 'not a response' };
  const question = p.questions?.[0];
  if (p.questions?.length !== 1 || question === undefined || normalizeName(question.name) !== q.name || question.type !== q.type) {
    return { kind: 'mismatch', reason: 'response to another question' };
  }
  if (p.flag_tc) return { kind: 'truncated' };
  const rcode = p.rcode ?? 'NOERROR';
  const authenticated = p.flag_ad;
  if (rcode === 'NXDOMAIN') return { kind: 'negative', code: 'NXDOMAIN', authenticated, ttl: negativeTtl(p) };
  if (rcode === 'SERVFAIL') return { kind: 'error', code: 'SERVFAIL', message: 'the resolver answered SERVFAIL (for a signed zone often a DNSSEC validation failure)' };
  if (rcode === 'REFUSED') return { kind: 'error', code: 'REFUSED', message: 'the resolver refused the query' };
  if (rcode !== 'NOERROR') return { kind: 'error', code: 'SERVFAIL', message: `the resolver answered ${rcode}` };
  const records: RecordData[RecordType][] = [];
  let ttl = maxTtl;
  for (const a of p.answers ?? []) {
    if (a.type !== q.type || records.length >= maxRecords) continue;
    if ((a as { class?: string }).class !== 'IN') continue;
    const data = convert(q.type, a);
    if (data === null) return { kind: 'error', code: 'MALFORMED', message: `malformed ${q.type} record in the answer` };
    records.push(data);
    ttl = Math.min(ttl, clampTtl((a as { ttl?: number }).ttl));
  }
  if (records.length === 0) return { kind: 'negative', code: 'NODATA', authenticated, ttl: negativeTtl(p) };
  const canonical = canonicalName(q.name, p.answers ?? []);
  return { kind: 'answer', records, authenticated, ttl, ...(canonical === q.name ? {} : { canonicalName: canonical }) };
}

/**
 * The name the CNAME chain in the answer leads to from `name` (RFC 1034 section 3.6.2):
 * DANE for SMTP takes the TLSA base domain from it (RFC 7672 section 2.2.2). Bounded: a
 * chain that loops stops where it started repeating.
 */
function canonicalName(name: string, answers: readonly packet.Answer[]): string {
  let owner = name;
  const seen = new Set<string>([owner]);
  for (;;) {
    const c = answers.find((a) => a.type === 'CNAME' && normalizeName(a.name) === owner) as { data?: unknown } | undefined;
    if (c === undefined || typeof c.data !== 'string') return owner;
    const next = normalizeName(c.data);
    if (next === '' || seen.has(next)) return owner;
    seen.add(next);
    owner = next;
  }
}

function clampTtl(ttl: number | undefined): number {
  if (ttl === undefined || !Number.isFinite(ttl) || ttl < 0) return 0;
  return Math.min(ttl, maxTtl);
}

/** RFC 2308 section 5: the SOA's TTL, but no more than its MINIMUM field; no SOA, no caching. */
function negativeTtl(p: packet.DecodedPacket): number {
  const soa = p.authorities?.find((a) => a.type === 'SOA') as packet.SoaAnswer | undefined;
  if (soa === undefined) return 0;
  return Math.min(clampTtl(soa.ttl), clampTtl(soa.data.minimum));
}

const hostName = (v: unknown): string | null => (typeof v === 'string' && v.length <= 253 ? normalizeName(v) : null);

function convert(type: RecordType, a: packet.Answer): RecordData[RecordType] | null {
  const data = (a as { data?: unknown }).data;
  switch (type) {
    case 'A':
    case 'AAAA':
      return typeof data === 'string' ? data : null;
    case 'MX': {
      const d = data as packet.MxData | undefined;
      const exchange = hostName(d?.exchange);
      return d === undefined || exchange === null || typeof d.preference !== 'number' ? null : { preference: d.preference, exchange };
    }
    case 'SRV': {
      const d = data as packet.SrvData | undefined;
      const target = hostName(d?.target);
      if (d === undefined || target === null) return null;
      return { priority: d.priority ?? 0, weight: d.weight ?? 0, port: d.port, target };
    }
    case 'TXT': {
      const parts = Array.isArray(data) ? data : [data];
      const bufs = parts.map((x) => (Buffer.isBuffer(x) ? x : typeof x === 'string' ? Buffer.from(x, 'latin1') : null));
      if (bufs.some((b) => b === null)) return null;
      const joined = Buffer.concat(bufs as Buffer[]);
      return joined.subarray(0, maxTxtBytes).toString('latin1');
    }
    case 'TLSA': {
      const d = data as packet.TlsaData | undefined;
      if (d === undefined || !Buffer.isBuffer(d.certificate) || d.certificate.length === 0) return null;
      return { usage: d.usage, selector: d.selector, matchingType: d.matchingType, data: Buffer.from(d.certificate) };
    }
  }
}
