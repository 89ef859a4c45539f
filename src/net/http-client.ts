// The one HTTP client for URLs found inside certificates (CRL distribution points, OCSP
// responders, caIssuers). Such a URL is attacker-controlled, so every request: resolves the
// host itself and applies the SSRF address policy to the address actually connected (and again
// after each redirect), runs under one deadline for the whole exchange, reads at most
// `maxBytes`, follows at most `maxRedirects` redirects, and fails with a typed FetchError.
import { lookup as dnsLookup } from 'node:dns/promises';
import { request, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { AddressPolicy, PolicyAddress } from '../security/address-policy.ts';

/** Why a fetch failed (stable codes, shown in REVOCATION_UNKNOWN messages). */
export type FetchErrorCode = 'BAD_URL' | 'BLOCKED' | 'DNS' | 'CONNECT' | 'TIMEOUT' | 'HTTP_STATUS' | 'TOO_LARGE' | 'TOO_MANY_REDIRECTS' | 'NETWORK';

/** A failed fetch; `url` is the URL that failed (after redirects). */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly code: FetchErrorCode;
  readonly url: string;
  constructor(code: FetchErrorCode, url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.url = url;
  }
}

/** Resolves a host name to its addresses (injectable for tests). */
export type HostResolver = (host: string, signal: AbortSignal) => Promise<PolicyAddress[]>;

/** Settings shared by every request of one client. */
export interface HttpClientOptions {
  /** Refuses addresses (the SSRF policy); none means every address is allowed (CLI). */
  addressPolicy?: AddressPolicy;
  resolve?: HostResolver;
  /** Deadline for one fetch, redirects included. */
  timeoutMs?: number;
  /** Largest body read. */
  maxBytes?: number;
  maxRedirects?: number;
}

/** One request. */
export interface FetchRequest {
  method?: 'GET' | 'POST';
  body?: Buffer;
  contentType?: string;
  accept?: string;
  /** Overrides the client's size cap (smaller or larger, e.g. for CRLs). */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** A 200 response, fully read. */
export interface FetchResponse {
  /** The URL that answered (after redirects). */
  url: string;
  contentType: string;
  body: Buffer;
}

const systemResolver: HostResolver = async (host) => {
  const all = await dnsLookup(host, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** Bounded HTTP/1.1 client for certificate-borne URLs (http: only, see fetch()). */
export class HttpClient {
  private readonly policy: AddressPolicy | undefined;
  private readonly resolve: HostResolver;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects: number;

  constructor(o: HttpClientOptions = {}) {
    this.policy = o.addressPolicy;
    this.resolve = o.resolve ?? systemResolver;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.maxBytes = o.maxBytes ?? 1024 * 1024;
    this.maxRedirects = o.maxRedirects ?? 3;
  }

  /**
   * Fetches `url`. Only http: URLs: RFC 5280 4.2.1.13/4.2.2.1 and RFC 6960 publish these over
   * plain HTTP (the data is signed), and fetching over HTTPS would need the very validation
   * being performed. Redirects to http: URLs are followed (303 turns a POST into a GET).
   */
  async fetch(url: string, req: FetchRequest = {}): Promise<FetchResponse> {
    const timer = AbortSignal.timeout(this.timeoutMs);
    const signal = req.signal === undefined ? timer : AbortSignal.any([timer, req.signal]);
    let current = url;
    let method = req.method ?? 'GET';
    for (let hop = 0; ; hop++) {
      const target = parseHttpUrl(current);
      const address = await this.pickAddress(target, current, signal);
      const res = await this.once(target, address, current, method, method === 'POST' ? req : { ...req, body: undefined }, signal);
      if (res.kind === 'ok') return res.response;
      if (hop >= this.maxRedirects) {
        throw new FetchError('TOO_MANY_REDIRECTS', current, `${clip(url)} redirected more than ${this.maxRedirects} times`);
      }
      let next: URL;
      try {
        next = new URL(res.location, current);
      } catch {
        throw new FetchError('BAD_URL', current, `${clip(current)} redirected to an invalid URL "${clip(res.location)}"`);
      }
      if (res.status === 303) method = 'GET';
      current = next.href;
    }
  }

  private async pickAddress(target: URL, url: string, signal: AbortSignal): Promise<PolicyAddress> {
    const host = target.hostname.replace(/^\[|\]$/g, '');
    let addresses: PolicyAddress[];
    const family = isIP(host);
    if (family !== 0) {
      addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await raceAbort(this.resolve(host, signal), signal, () => new FetchError('TIMEOUT', url, `no DNS answer for ${host} within ${this.timeoutMs} ms`));
      } catch (err) {
        if (err instanceof FetchError) throw err;
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new FetchError('DNS', url, `cannot resolve ${host} (${code})`, { cause: err });
      }
      if (addresses.length === 0) throw new FetchError('DNS', url, `${host} has no address`);
    }
    let reason = '';
    for (const a of addresses) {
      const why = this.policy?.(a) ?? null;
      if (why === null) return a;
      reason = why;
    }
    throw new FetchError('BLOCKED', url, `${clip(url)} is not fetched: ${reason}`);
  }

  private once(
    target: URL,
    addr: PolicyAddress,
    url: string,
    method: 'GET' | 'POST',
    req: FetchRequest,
    signal: AbortSignal,
  ): Promise<{ kind: 'ok'; response: FetchResponse } | { kind: 'redirect'; status: number; location: string }> {
    const maxBytes = req.maxBytes ?? this.maxBytes;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(timeoutError(url, this.timeoutMs));
      const headers: Record<string, string> = { host: target.host, 'user-agent': 'certwatch', accept: req.accept ?? '*/*' };
      if (req.body !== undefined) {
        headers['content-type'] = req.contentType ?? 'application/octet-stream';
        headers['content-length'] = String(req.body.length);
      }
      const r = request({
        host: addr.address,
        family: addr.family,
        port: target.port === '' ? 80 : Number(target.port),
        path: `${target.pathname}${target.search}`,
        method,
        headers,
        agent: false,
        signal,
        // Response headers are bounded too (Node's default is 16 KiB).
        maxHeaderSize: 16 * 1024,
      });
      let settled = false;
      const fail = (err: FetchError): void => {
        if (settled) return;
        settled = true;
        r.destroy();
        reject(err);
      };
      r.on('error', (err: NodeJS.ErrnoException) => {
        if (signal.aborted) return fail(timeoutError(url, this.timeoutMs));
        const connect = err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH';
        fail(new FetchError(connect ? 'CONNECT' : 'NETWORK', url, `${clip(url)}: ${err.code ?? err.message}`, { cause: err }));
      });
      r.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (redirectStatuses.has(status) && typeof res.headers.location === 'string') {
          settled = true;
          res.destroy();
          return resolve({ kind: 'redirect', status, location: res.headers.location });
        }
        if (status !== 200) {
          res.destroy();
          return fail(new FetchError('HTTP_STATUS', url, `${clip(url)} answered HTTP ${status}`));
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > maxBytes) {
          res.destroy();
          return fail(new FetchError('TOO_LARGE', url, `${clip(url)} sends ${declared} bytes, more than the ${maxBytes} allowed`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            // Settle first: destroying the response emits 'aborted', which must not win.
            fail(new FetchError('TOO_LARGE', url, `${clip(url)} sent more than the ${maxBytes} bytes allowed`));
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', () => fail(signal.aborted ? timeoutError(url, this.timeoutMs) : new FetchError('NETWORK', url, `${clip(url)}: the response was cut off`)));
        res.on('aborted', () => fail(new FetchError('NETWORK', url, `${clip(url)}: the response was cut off`)));
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) return fail(new FetchError('NETWORK', url, `${clip(url)}: the response was cut off`));
          settled = true;
          resolve({ kind: 'ok', response: { url, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks, size) } });
        });
      });
      r.end(req.body);
    });
  }
}

function parseHttpUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FetchError('BAD_URL', url, `"${clip(url)}" is not a URL`);
  }
  if (u.protocol !== 'http:') throw new FetchError('BAD_URL', url, `${clip(url)} is not an http:// URL (only http is fetched)`);
  if (u.username !== '' || u.password !== '') throw new FetchError('BAD_URL', url, `${clip(url)} carries credentials`);
  return u;
}

function timeoutError(url: string, ms: number): FetchError {
  return new FetchError('TIMEOUT', url, `${clip(url)} did not answer within ${ms} ms`);
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal, err: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(err());
    const onAbort = (): void => reject(err());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** A URL as shown in messages: bounded, control characters replaced. */
export function clip(s: string, max = 120): string {
  const safe = s.replace(/[\x00-\x1f\x7f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
