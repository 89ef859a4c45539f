// Fetching CRLs (RFC 5280 section 5). They are verified by src/cert's CrlSet (signature,
// issuer, times, CRLNumber, scope: the code the judge uses for its `crls` input); here only
// what caching needs is read (nextUpdate), and the parsed set is kept with the DER so that a
// run over 10,000 targets parses each CRL and checks its signature once, not once per probe.
import { children, content, readTlv } from '../cert/der.ts';
import type { Cert } from '../cert/info.ts';
import { CrlSet, type CrlStatus } from '../cert/revocation.ts';
import { FetchError, type HttpClient } from '../net/http-client.ts';
import type { Expiring } from './cache.ts';

/** Largest CRL fetched: big public CAs shard theirs (Let's Encrypt's shards are well under this). */
export const maxCrlBytes = 8 * 1024 * 1024;
/** A CRL past its nextUpdate (or without one) is re-fetched after this long. */
const staleRetryMs = 15 * 60_000;
/** Longest a CRL is kept even when its nextUpdate is further away. */
const maxKeepMs = 24 * 3_600_000;

/** Issuers remembered per CRL: CrlSet memoizes signature checks per issuer object. */
const maxIssuers = 4;

/** A fetched CRL, parsed once, with its signature checks memoized per issuer. */
export class FetchedCrl {
  readonly der: Buffer;
  private readonly set: CrlSet;
  /** One issuer object per certificate fingerprint: trust stores derived per target hold copies. */
  private readonly issuers = new Map<string, Cert>();

  constructor(der: Buffer) {
    this.der = der;
    this.set = new CrlSet([der]);
  }

  /** What this CRL says about `cert`, issued by `issuer`. */
  status(cert: Cert, issuer: Cert, role: 'leaf' | 'intermediate', now: Date): CrlStatus {
    const fp = issuer.x509.fingerprint256;
    const known = this.issuers.get(fp);
    if (known !== undefined) return this.set.status(cert, known, role, now);
    // Past a few issuers (a CRL URL shared by unrelated CAs) a throwaway set keeps memory bounded.
    if (this.issuers.size >= maxIssuers) return new CrlSet([this.der]).status(cert, issuer, role, now);
    this.issuers.set(fp, issuer);
    return this.set.status(cert, issuer, role, now);
  }
}

/** Fetches the CRL at `url` and says until when it may be reused. */
export async function fetchCrl(client: HttpClient, url: string, now: number, signal?: AbortSignal): Promise<Expiring<FetchedCrl>> {
  const res = await client.fetch(url, { maxBytes: maxCrlBytes, accept: 'application/pkix-crl', ...(signal === undefined ? {} : { signal }) });
  const der = pemOrDer(res.body);
  const next = crlNextUpdate(der);
  if (next === undefined) throw new FetchError('NETWORK', res.url, `${url} did not serve a CRL (${res.body.length} bytes that are not a DER CertificateList)`);
  const until = next === null || next.getTime() <= now ? now + staleRetryMs : Math.min(next.getTime(), now + maxKeepMs);
  return { value: new FetchedCrl(der), expiresAt: until };
}

/** Some CAs serve PEM despite RFC 5280 4.2.1.13's DER; accept both. */
function pemOrDer(body: Buffer): Buffer {
  const text = body.subarray(0, 64).toString('latin1');
  if (!text.includes('-----BEGIN')) return body;
  const m = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/.exec(body.toString('latin1'));
  return m === null ? body : Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** nextUpdate of a DER CRL: a Date, null when absent, undefined when it is not a CRL. */
export function crlNextUpdate(der: Buffer): Date | null | undefined {
  try {
    const list = readTlv(der, 0);
    if (list.tag !== 0x30 || list.end !== der.length) return undefined;
    const tbs = readTlv(der, list.start, list.end);
    const f = children(der, tbs);
    const i = f[0]?.tag === 0x02 ? 1 : 0;
    // signature, issuer, thisUpdate, then nextUpdate when a time follows.
    const next = f[i + 3];
    if (f[i + 2] === undefined) return undefined;
    if (next === undefined || (next.tag !== 0x17 && next.tag !== 0x18)) return null;
    return parseTime(Buffer.from(content(der, next)).toString('latin1'), next.tag === 0x17);
  } catch {
    return undefined;
  }
}

function parseTime(text: string, utc: boolean): Date | undefined {
  const m = utc ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return undefined;
  let year = Number(m[1]);
  // RFC 5280 4.1.2.5.1: two-digit years 50-99 are 19xx.
  if (utc) year += year >= 50 ? 1900 : 2000;
  return new Date(Date.UTC(year, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}
