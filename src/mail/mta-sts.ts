// MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy fetched over HTTPS (validated
// certificate, no redirects, size cap, deadline, SSRF policy on the connected address) and
// its parse; and which MX names a policy allows.
import { request } from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { DnsResolver } from '../dns/types.ts';
import type { AddressPolicy } from '../security/address-policy.ts';

/** A parsed policy (RFC 8461 section 3.2). */
export interface StsPolicy {
  version: 'STSv1';
  mode: 'enforce' | 'testing' | 'none';
  mx: string[];
  maxAge: number;
}

/** RFC 8461 section 3.3 suggests 64 KiB as the most a policy may be. */
export const maxPolicyBytes = 64 * 1024;
/** RFC 8461 section 3.2: max_age is at most 31557600 seconds (about a year). */
const maxMaxAge = 31_557_600;

/**
 * Picks the STS record among a name's TXT records (section 3.1): exactly one starting with
 * `v=STSv1`, with an `id` of 1-32 letters and digits. Returns null when there is none.
 */
export function parseStsRecord(txts: readonly string[]): { id: string } | { error: string } | null {
  const sts = txts.filter((t) => /^v=STSv1\s*(;|$)/.test(t));
  if (sts.length === 0) {
    return txts.some((t) => /^v=STS/i.test(t)) ? { error: `unknown version in "${clip(txts.find((t) => /^v=STS/i.test(t))!)}"` } : null;
  }
  if (sts.length > 1) return { error: `${sts.length} TXT records start with v=STSv1; exactly one is allowed (RFC 8461 section 3.1)` };
  const fields = new Map<string, string>();
  for (const part of sts[0]!.split(';')) {
    const m = /^\s*([A-Za-z0-9_.-]+)=([\x21-\x3a\x3c\x3e-\x7e]*)\s*$/.exec(part);
    if (m !== null) fields.set(m[1]!, m[2]!);
    else if (part.trim() !== '') return { error: `malformed field "${clip(part)}" in "${clip(sts[0]!)}"` };
  }
  const id = fields.get('id');
  if (id === undefined || !/^[A-Za-z0-9]{1,32}$/.test(id)) return { error: `missing or invalid id= in "${clip(sts[0]!)}" (1-32 letters and digits)` };
  return { id };
}

/** Parses a policy body; returns the errors found instead when it is not valid. */
export function parsePolicy(text: string): StsPolicy | { errors: string[] } {
  const errors: string[] = [];
  const fields = new Map<string, string>();
  const mx: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    // Section 3.2: an extension name is (ALPHA / DIGIT) *31 (ALPHA / DIGIT / "_" / "-" / "."),
    // and unknown fields are ignored; refusing "x-foo:" would call a policy senders use invalid.
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:\s*(.*)$/.exec(line);
    if (m === null) {
      errors.push(`not a "key: value" line: "${clip(line)}"`);
      continue;
    }
    const key = m[1]!;
    if (key === 'mx') mx.push(m[2]!.toLowerCase());
    else if (!fields.has(key)) fields.set(key, m[2]!);
  }
  const version = fields.get('version');
  if (version !== 'STSv1') errors.push(`version is ${version === undefined ? 'missing' : `"${clip(version)}"`}, not STSv1`);
  const mode = fields.get('mode');
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') errors.push(`mode is ${mode === undefined ? 'missing' : `"${clip(mode)}"`}; expected enforce, testing or none`);
  const ageText = fields.get('max_age');
  const maxAge = ageText !== undefined && /^\d{1,10}$/.test(ageText) ? Number(ageText) : NaN;
  if (!(maxAge >= 0 && maxAge <= maxMaxAge)) errors.push(`max_age is ${ageText === undefined ? 'missing' : `"${clip(ageText)}"`}; expected 0-${maxMaxAge} seconds`);
  if (mode !== 'none' && mx.length === 0) errors.push('no mx: line (required unless mode is none)');
  for (const p of mx) if (!/^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/.test(p)) errors.push(`invalid mx pattern "${clip(p)}"`);
  if (errors.length > 0) return { errors };
  return { version: 'STSv1', mode: mode as StsPolicy['mode'], mx, maxAge };
}

/** Section 4.1: an exact name, or "*." matching exactly one leftmost label. */
export function mxMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) {
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot + 1) === p.slice(2);
  }
  return p === h;
}

/** Settings for fetching a policy. */
export interface PolicyFetch {
  dns: DnsResolver;
  /** Trusted roots for the policy host (default: Node's bundled Mozilla roots). */
  ca?: readonly string[];
  addressPolicy?: AddressPolicy;
  timeoutMs: number;
  /** For tests: the HTTPS port of the policy host (443). */
  port?: number;
  signal?: AbortSignal;
}

/** Fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt`; throws an Error naming the step. */
export async function fetchPolicy(domain: string, f: PolicyFetch): Promise<string> {
  const host = `mta-sts.${domain}`;
  const deadline = f.signal === undefined ? AbortSignal.timeout(f.timeoutMs) : AbortSignal.any([AbortSignal.timeout(f.timeoutMs), f.signal]);
  const [a, aaaa] = await Promise.all([f.dns.query(host, 'A', deadline), f.dns.query(host, 'AAAA', deadline)]);
  const addresses = [...(a.ok ? a.records : []), ...(aaaa.ok ? aaaa.records : [])];
  if (addresses.length === 0) {
    const why = !a.ok ? a.code : 'no address';
    throw new Error(`cannot resolve ${host} (${why})`);
  }
  // The HTTPS clients senders fetch with try the host's next address when one cannot be
  // connected to, so a dead first address is no missing policy. All within the one deadline;
  // each address passes the SSRF policy first. TLS, HTTP and content failures are the host's
  // answer: no retry.
  const skipped: string[] = [];
  let connectTried = false;
  for (const addr of addresses) {
    const reason = f.addressPolicy?.({ address: addr, family: isIP(addr) === 6 ? 6 : 4 }) ?? null;
    if (reason !== null) {
      skipped.push(`${addr} is not allowed (${reason})`);
      continue;
    }
    try {
      return await get(host, addr, f, deadline);
    } catch (err) {
      if (!(err instanceof ConnectError) || deadline.aborted) throw err;
      connectTried = true;
      skipped.push(`${addr}: ${err.message}`);
    }
  }
  throw new Error(connectTried ? `cannot connect to ${host}: ${skipped.join('; ')}` : `${host} is not allowed: ${skipped.join('; ')}`);
}

/** The TCP connection to one address failed: the next address may be tried. */
class ConnectError extends Error {
  readonly code = 'CONNECT_FAILED';
}

function get(host: string, address: string, f: PolicyFetch, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = request({
      host: address,
      port: f.port ?? 443,
      path: '/.well-known/mta-sts.txt',
      method: 'GET',
      servername: host,
      headers: { host, 'user-agent': 'certwatch', accept: 'text/plain' },
      ca: [...(f.ca ?? rootCertificates)],
      rejectUnauthorized: true,
      agent: false,
      signal,
    });
    let connected = false;
    req.on('socket', (socket) => socket.once('connect', () => (connected = true)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && !signal.aborted) return reject(new ConnectError(`${err.code ?? ''} ${err.message}`.trim(), { cause: err }));
      const what = signal.aborted ? `no policy from ${host} within the deadline` : `HTTPS to ${host} failed: ${err.code ?? ''} ${err.message}`.trim();
      reject(new Error(what));
    });
    req.on('response', (res) => {
      // Section 3.3: redirects must not be followed; only 200 counts.
      if (res.statusCode !== 200) {
        res.destroy();
        return reject(new Error(`${host} answered HTTP ${res.statusCode} for the policy (only 200 counts, redirects are not followed)`));
      }
      const type = String(res.headers['content-type'] ?? '');
      if (!/^text\/plain\b/i.test(type)) {
        res.destroy();
        return reject(new Error(`${host} served the policy as "${clip(type)}", not text/plain (RFC 8461 section 3.3)`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxPolicyBytes) {
          res.destroy();
          reject(new Error(`the policy at ${host} is larger than ${maxPolicyBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', (err) => reject(new Error(`reading the policy from ${host}: ${err.message}`)));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.end();
  });
}

function clip(s: string, max = 80): string {
  const safe = s.replace(/[\x00-\x1f\x7f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
