// The Revocation service: created once per process and shared by every probe, so its caches
// (CRLs by URL, OCSP answers by issuer key and serial, caIssuers certificates by URL) let a
// run over 10,000 targets sharing a few CAs fetch each CRL once. It wraps the judge: AIA
// completion of a chain the server sent incomplete (CHAIN_INCOMPLETE versus UNTRUSTED), then
// revocation of every certificate on the path, each from the best source it has: a stapled
// OCSP response, else its CRLs (verified by src/cert's CrlSet), else its OCSP responder. A
// fetch that fails, a stale CRL or a bad response is a REVOCATION_UNKNOWN warning: only
// verified, fresh data ever yields REVOKED. The chain is judged once (twice only when AIA
// completed it).
import { createHash } from 'node:crypto';
import type { Cert } from '../cert/info.ts';
import { judge, mergeByCode } from '../cert/judge.ts';
import type { TrustStore } from '../cert/trust.ts';
import type { Judgement, JudgeInput, Problem, Severity } from '../cert/types.ts';
import { clip, FetchError, type HttpClient } from '../net/http-client.ts';
import { ExpiringCache, type Expiring } from './cache.ts';
import { httpOnly, revocationFields, type RevocationFields } from './cert-fields.ts';
import { fetchCrl, type FetchedCrl } from './crl.ts';
import { ocspRequest, staleness, verifyOcspResponse, type OcspSubject, type OcspVerdict } from './ocsp.ts';

/** Settings of the service. */
export interface RevocationOptions {
  http: HttpClient;
  now?: () => number;
  /** Most entries per cache. */
  maxEntries?: number;
  /**
   * Longest one judge() waits on revocation and AIA fetches in all (default 15 s). Each fetch
   * has the HTTP client's deadline (5 s), but a hostile chain naming several stalling URLs per
   * certificate would otherwise hold a probe for minutes. Spent, no new fetch starts (cached
   * answers are still used) and what is left unchecked is REVOCATION_UNKNOWN.
   */
  budgetMs?: number;
}

/** One endpoint's chain to judge with revocation and AIA. */
export interface RevocationInput {
  judge: JudgeInput;
  trust: TrustStore;
  /** The stapled OCSP response (RFC 6066 status_request), if the server sent one. */
  staple: Buffer | null;
  signal?: AbortSignal;
}

/** Largest caIssuers response (one or two certificates). */
const maxAiaBytes = 64 * 1024;
/** Most caIssuers hops followed above the leaf. */
const maxAiaDepth = 3;
const aiaKeepMs = 24 * 3_600_000;
const ocspKeepMs = 24 * 3_600_000;
const ocspBadRetryMs = 15 * 60_000;
/** Longest OCSP GET URL, scheme to base64 included (RFC 5019 section 5); longer requests are POSTed. */
const maxOcspGetBytes = 255;
const defaultBudgetMs = 15_000;

/** The budget of one judge() ran out before a fetch could start or finish. */
class BudgetSpent extends Error {
  constructor(ms: number) {
    super(`not fetched: this probe's ${ms / 1000} s for revocation and AIA fetches ran out (slow or silent servers named earlier)`);
  }
}

/**
 * One judge()'s time for fetches. A fetch it stops waiting for is not aborted: it is shared
 * with other probes through the caches, and its own deadline ends it. A fetch is never
 * started through a cache once the budget is spent, so a cache never remembers a budget
 * failure as the URL's.
 */
class FetchBudget {
  private readonly end: number;
  private readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
    this.end = performance.now() + ms;
  }

  /** The cached answer when the budget is spent, else `load()` raced against what is left. */
  async fetch<V>(cache: ExpiringCache<V>, key: string, load: () => Promise<Expiring<V>>): Promise<V> {
    const left = this.end - performance.now();
    if (left <= 0) {
      const known = cache.settled(key);
      if (known === undefined) throw new BudgetSpent(this.ms);
      return known.value;
    }
    const running = cache.get(key, load);
    let timer: NodeJS.Timeout | undefined;
    const spent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BudgetSpent(this.ms)), left);
    });
    try {
      return await Promise.race([running, spent]);
    } finally {
      clearTimeout(timer);
    }
  }
}

type Finding = Problem;

/** Shared revocation and AIA state; `judge()` is what probes call instead of the plain judge. */
export class Revocation {
  readonly crls: ExpiringCache<FetchedCrl>;
  readonly ocsp: ExpiringCache<OcspVerdict>;
  readonly aia: ExpiringCache<Buffer>;
  private readonly http: HttpClient;
  private readonly fields = new WeakMap<Cert, RevocationFields | null>();
  private readonly now: () => number;
  private readonly budgetMs: number;

  constructor(o: RevocationOptions) {
    this.http = o.http;
    this.now = o.now ?? Date.now;
    this.budgetMs = o.budgetMs ?? defaultBudgetMs;
    const c = { now: this.now, ...(o.maxEntries === undefined ? {} : { maxEntries: o.maxEntries }) };
    this.crls = new ExpiringCache<FetchedCrl>(c);
    this.ocsp = new ExpiringCache<OcspVerdict>(c);
    this.aia = new ExpiringCache<Buffer>(c);
  }

  /** Judges the chain, completes it through AIA when incomplete, and adds revocation findings. */
  async judge(r: RevocationInput): Promise<Judgement> {
    const base = judge(r.judge, r.trust);
    const budget = new FetchBudget(this.budgetMs);
    const findings: Finding[] = [];
    const sent = parseAll(r.trust, r.judge.chain);
    let pool = sent;
    let problems = base.problems;
    if (base.problems.some((p) => p.code === 'CHAIN_INCOMPLETE') && sent[0] !== undefined) {
      const done = await this.complete(sent, r, budget);
      pool = done.pool;
      problems = problems.map((p) => (p.code === 'CHAIN_INCOMPLETE' ? done.explain(p) : p));
    }
    const path = walk(pool, r.trust);
    const severity: Severity = r.judge.revocationPolicy === 'hard-fail' ? 'critical' : 'warning';
    for (let i = 0; i < path.length; i++) {
      const [cert, issuer] = path[i]!;
      const f = await this.check(cert, issuer, i === 0 ? r.staple : null, i === 0 ? 'leaf' : 'intermediate', r, budget);
      for (const p of f) findings.push(p.code === 'REVOCATION_UNKNOWN' ? { ...p, severity } : p);
    }
    const merged = mergeByCode([...problems, ...findings]);
    const revoked = merged.some((p) => p.code === 'REVOKED');
    return { ...base, trusted: base.trusted && !revoked, problems: merged };
  }

  /** AIA: fetches the missing issuers (caIssuers of the last certificate without one). */
  private async complete(sent: Cert[], r: RevocationInput, budget: FetchBudget): Promise<{ pool: Cert[]; explain: (p: Problem) => Problem }> {
    const pool = [...sent];
    const fetched: { cert: Cert; url: string }[] = [];
    let cur = sent[0]!;
    let failure = '';
    for (let depth = 0; depth < maxAiaDepth; depth++) {
      if (issuerOf(cur, pool, r.trust) !== null || cur.selfSigned) break;
      const urls = httpOnly(this.fieldsOf(cur)?.caIssuerUrls ?? []);
      if (urls.length === 0) {
        failure = `"${cur.label}" names no http caIssuers URL (AIA)`;
        break;
      }
      let got: Cert | null = null;
      for (const url of urls) {
        try {
          const der = await budget.fetch(this.aia, url, async () => ({ value: await this.fetchCert(url, r.signal), expiresAt: this.now() + aiaKeepMs }));
          const c = r.trust.certs.get(der);
          if (!cur.issuedBy(c).verified) {
            failure = `the certificate at ${clip(url)} ("${c.label}") did not sign "${cur.label}"`;
            continue;
          }
          got = c;
          fetched.push({ cert: c, url });
          break;
        } catch (err) {
          failure = `fetching the issuer of "${cur.label}" from AIA failed: ${describe(err)}`;
        }
      }
      if (got === null) break;
      pool.push(got);
      cur = got;
    }
    const explain = (p: Problem): Problem => {
      if (fetched.length === 0) return failure === '' ? p : { ...p, message: `${p.message} (${failure})` };
      const completed = judge({ ...r.judge, chain: pool.map((c) => c.der) }, r.trust);
      const names = fetched.map((f) => `"${f.cert.label}", available at ${clip(f.url)}`).join(' and ');
      if (completed.trusted || !completed.problems.some((q) => q.code === 'UNTRUSTED' || q.code === 'CHAIN_INCOMPLETE' || q.code === 'SELF_SIGNED')) {
        return { ...p, message: `the server omits an intermediate: browsers will cope (they fetch it through AIA), OpenSSL-based clients (mail, LDAP, databases) will not: serve ${names}` };
      }
      const why = completed.problems.find((q) => q.code === 'UNTRUSTED' || q.code === 'CHAIN_INCOMPLETE')?.message ?? 'it does not lead to a trusted CA';
      return { code: 'UNTRUSTED', severity: 'critical', message: `the server omits an intermediate, and even with ${names} the chain is not trusted: ${why}` };
    };
    return { pool, explain };
  }

  private async fetchCert(url: string, signal: AbortSignal | undefined): Promise<Buffer> {
    const res = await this.http.fetch(url, { maxBytes: maxAiaBytes, accept: 'application/pkix-cert', ...(signal === undefined ? {} : { signal }) });
    const text = res.body.subarray(0, 64).toString('latin1');
    if (text.includes('-----BEGIN CERTIFICATE-----')) {
      const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(res.body.toString('latin1'));
      if (m !== null) return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
    }
    // RFC 5280 4.2.2.1 also allows a certs-only PKCS#7 bundle; not read here (a typed failure).
    if (res.body[0] !== 0x30) throw new FetchError('NETWORK', url, `${clip(url)} did not serve a DER certificate`);
    return res.body;
  }

  /**
   * Revocation of `cert` (issued by `issuer`) from its best source: a fresh verified staple,
   * else the first of its CRLs that covers it and can be used, else its OCSP responder. A
   * source that cannot answer passes to the next; REVOCATION_UNKNOWN only when none answers.
   */
  private async check(cert: Cert, issuer: Cert, staple: Buffer | null, role: 'leaf' | 'intermediate', r: RevocationInput, budget: FetchBudget): Promise<Finding[]> {
    const fields = this.fieldsOf(cert);
    const issuerFields = this.fieldsOf(issuer);
    if (fields === null || issuerFields === null) return [];
    const out: Finding[] = [];
    const subject: OcspSubject = { cert: fields, issuer: issuerFields, issuerX509: issuer.x509 };
    const now = r.judge.now;
    const who = `certificate "${cert.label}"`;
    if (staple !== null) {
      const v = verifyOcspResponse(staple, subject, now);
      const stale = v.ok ? staleness(v, now) : null;
      if (v.ok && stale === null && v.status !== 'unknown') {
        if (v.status === 'revoked') out.push(revokedFinding(who, v.revokedAt, v.reason, 'the stapled OCSP response'));
        return out;
      }
      const why = !v.ok ? v.why : stale ?? 'it says the status is unknown';
      out.push({ code: 'STAPLE_INVALID', severity: 'warning', message: `the server staples an OCSP response for ${who} that cannot be used: ${why}` });
    }
    const failures: string[] = [];
    const complete = httpOnly(fields.crlUrls);
    for (const url of [...complete, ...httpOnly(fields.reasonCrlUrls)]) {
      let crl: FetchedCrl;
      try {
        crl = await budget.fetch(this.crls, url, () => fetchCrl(this.http, url, this.now(), r.signal));
      } catch (err) {
        failures.push(`CRL ${describe(err)}`);
        continue;
      }
      const s = crl.status(cert, issuer, role, now);
      if (s.kind === 'revoked') {
        out.push({ code: 'REVOKED', severity: 'critical', message: `${s.finding.message} (${clip(url)})` });
        return out;
      }
      // A CRL of a distribution point limited to some reasons can revoke, but its silence says
      // nothing about the other reasons (RFC 5280 6.3.3 (d), (k)).
      if (s.kind === 'good' && !complete.includes(url)) {
        failures.push(`the CRL at ${clip(url)} covers only some revocation reasons (its distribution point's reasons field) and does not list ${who}`);
        continue;
      }
      if (s.kind === 'good') return out;
      failures.push(s.kind === 'unknown' ? `the CRL at ${clip(url)}: ${s.finding.message}` : `the CRL at ${clip(url)} is not from the issuer of ${who} or does not cover it`);
    }
    const ocspUrl = httpOnly(fields.ocspUrls)[0];
    if (ocspUrl !== undefined) {
      const v = await this.askResponder(ocspUrl, subject, issuerFields, r.signal, budget).catch((err: unknown): OcspVerdict => {
        if (err instanceof BudgetSpent) return { ok: false, why: err.message };
        throw err;
      });
      const stale = v.ok ? staleness(v, now) : null;
      if (v.ok && stale === null) {
        if (v.status === 'revoked') out.push(revokedFinding(who, v.revokedAt, v.reason, `OCSP responder ${clip(ocspUrl)}`));
        else if (v.status === 'unknown') out.push(unknown(`the OCSP responder ${clip(ocspUrl)} does not know ${who}`));
        return out;
      }
      failures.push(`OCSP ${clip(ocspUrl)}: ${!v.ok ? v.why : `the response is stale: ${stale}`}`);
    }
    if (failures.length > 0) out.push(unknown(`revocation of ${who} could not be checked: ${failures.join('; ')}`));
    return out;
  }

  /** Read once per certificate object: the trust store's cache hands the same objects to every probe. */
  private fieldsOf(c: Cert): RevocationFields | null {
    let f = this.fields.get(c);
    if (f === undefined) {
      f = revocationFields(c.der);
      this.fields.set(c, f);
    }
    return f;
  }

  private askResponder(url: string, s: OcspSubject, issuer: RevocationFields, signal: AbortSignal | undefined, budget: FetchBudget): Promise<OcspVerdict> {
    const key = `${createHash('sha1').update(issuer.publicKeyBits).digest('hex')}:${s.cert.serial.toString('hex')}:${url}`;
    return budget.fetch(this.ocsp, key, async () => {
      const req = ocspRequest(s);
      // RFC 6960 A.1: GET (cacheable by the responder's CDN); RFC 5019 section 5: only when the
      // whole URL fits in 255 bytes, POST beyond that.
      const get = `${url.replace(/\/$/, '')}/${encodeURIComponent(req.toString('base64'))}`;
      const post = Buffer.byteLength(get) > maxOcspGetBytes ? { method: 'POST' as const, body: req, contentType: 'application/ocsp-request' } : {};
      const res = await this.http
        .fetch(post.method === undefined ? get : url, { ...post, accept: 'application/ocsp-response', maxBytes: 64 * 1024, ...(signal === undefined ? {} : { signal }) })
        .catch((err: unknown) => ({ error: describe(err) }));
      if ('error' in res) return { value: { ok: false, why: res.error }, expiresAt: this.now() + ocspBadRetryMs };
      const v = verifyOcspResponse(res.body, s, new Date(this.now()));
      const until = v.ok && v.nextUpdate !== null ? Math.min(v.nextUpdate.getTime(), this.now() + ocspKeepMs) : this.now() + ocspBadRetryMs;
      return { value: v, expiresAt: until };
    });
  }
}

function revokedFinding(who: string, at: Date | null, reason: string | null, source: string): Finding {
  const when = at === null ? '' : ` on ${at.toISOString().slice(0, 10)}`;
  return { code: 'REVOKED', severity: 'critical', message: `${who} was revoked${when}${reason === null ? '' : ` (${reason})`}, per ${source}` };
}

function unknown(message: string): Finding {
  return { code: 'REVOCATION_UNKNOWN', severity: 'warning', message };
}

function describe(err: unknown): string {
  if (err instanceof FetchError) return err.code === 'BLOCKED' ? `BLOCKED (blocked by the address policy, never contacted): ${err.message}` : `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

function parseAll(trust: TrustStore, ders: readonly Buffer[]): Cert[] {
  const out: Cert[] = [];
  for (const d of ders) {
    try {
      out.push(trust.certs.get(d));
    } catch {
      // The judge reports unreadable certificates.
    }
  }
  return out;
}

/** A certificate that signed `c`: from `pool` first, then the anchors; null when none verifies. */
function issuerOf(c: Cert, pool: readonly Cert[], trust: TrustStore): Cert | null {
  for (const x of [...trust.withSubject(c.issuerId), ...pool]) {
    if (x !== c && c.issuedBy(x).verified) return x;
  }
  return null;
}

/** The (certificate, issuer) pairs from the leaf up to (not including) a trust anchor. */
function walk(pool: readonly Cert[], trust: TrustStore): [Cert, Cert][] {
  const out: [Cert, Cert][] = [];
  const seen = new Set<Cert>();
  let cur = pool[0];
  while (cur !== undefined && !seen.has(cur) && out.length < 8 && !trust.isAnchor(cur) && !cur.selfSigned) {
    seen.add(cur);
    const issuer = issuerOf(cur, pool, trust);
    if (issuer === null) break;
    out.push([cur, issuer]);
    cur = issuer;
  }
  return out;
}
