/** Record types certwatch asks for (mail discovery, DANE, MTA-STS, TLS-RPT). */
export const recordTypes = ['A', 'AAAA', 'MX', 'SRV', 'TXT', 'TLSA'] as const;
export type RecordType = (typeof recordTypes)[number];

/** A server to send queries to. */
export interface DnsServer {
  host: string;
  port: number;
}

export interface MxRecord {
  preference: number;
  exchange: string;
}

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  data: Buffer;
}

/** The record data each type decodes to. */
export interface RecordData {
  A: string;
  AAAA: string;
  MX: MxRecord;
  SRV: SrvRecord;
  /** One TXT record: its character-strings concatenated (RFC 7208 section 3.3 style). */
  TXT: string;
  TLSA: TlsaRecord;
}

/** A positive answer. */
export interface DnsAnswer<T extends RecordType = RecordType> {
  ok: true;
  name: string;
  type: T;
  records: RecordData[T][];
  /** The resolver said the answer was DNSSEC-validated (AD bit, RFC 4035 3.2.3, RFC 6840 5.7). */
  authenticated: boolean;
  /** Seconds the answer may be reused (the smallest record TTL). */
  ttl: number;
  /** Where a CNAME chain in the answer led, when the records are not at `name` itself. */
  canonicalName?: string;
}

/** Why a name/type has no usable answer. */
export const dnsFailureCodes = ['NXDOMAIN', 'NODATA', 'SERVFAIL', 'REFUSED', 'TIMEOUT', 'MALFORMED', 'NETWORK'] as const;
export type DnsFailureCode = (typeof dnsFailureCodes)[number];

/** A typed failure; NXDOMAIN and NODATA are authoritative negative answers, the rest are errors. */
export interface DnsFailure {
  ok: false;
  name: string;
  type: RecordType;
  code: DnsFailureCode;
  message: string;
  /** For NXDOMAIN/NODATA: whether the denial was DNSSEC-validated. */
  authenticated: boolean;
  /** Seconds a negative answer may be reused (RFC 2308); 0 for errors. */
  ttl: number;
}

export type DnsResult<T extends RecordType = RecordType> = DnsAnswer<T> | DnsFailure;

/** Anything that answers queries: the network client, the per-run cache, a test double. */
export interface DnsResolver {
  query<T extends RecordType>(name: string, type: T, signal?: AbortSignal): Promise<DnsResult<T>>;
}

/** True when the name is known to have no such records (as opposed to a lookup error). */
export function isNegative(r: DnsResult): r is DnsFailure {
  return !r.ok && (r.code === 'NXDOMAIN' || r.code === 'NODATA');
}
