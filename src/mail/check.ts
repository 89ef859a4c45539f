// One mail domain checked end to end: discovery, then every host probed in parallel (MX on
// port 25 with SMTP STARTTLS and SNI = the MX name, or the TLSA base domain when DANE applies;
// SRV services on their ports), DANE per MX, MTA-STS and TLS-RPT, all as one small tree of
// results and findings.
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { TrustStore } from '../cert/trust.ts';
import { isNegative, type DnsResolver, type DnsResult } from '../dns/types.ts';
import { Prober, type Address, type Resolver } from '../probe/probe.ts';
import { worstStatus, type ProbeResult, type Status } from '../probe/result.ts';
import { parseTarget, TargetError, type Target } from '../probe/target.ts';
import type { AddressPolicy } from '../security/address-policy.ts';
import type { MailFinding } from './codes.ts';
import { evaluateDane, type DaneResult, type TlsaContext } from './dane.ts';
import { discover, dnsFinding, type Discovery } from './discover.ts';
import { fetchPolicy, mxMatches, parsePolicy, parseStsRecord, type StsPolicy } from './mta-sts.ts';
import { parseTlsRpt, type TlsRpt } from './tlsrpt.ts';

/** One probed host of a domain. */
export interface MailHost {
  role: 'mx' | 'service';
  /** `mx 10` or the SRV label, e.g. `_imaps._tcp`. */
  label: string;
  host: string;
  port: number;
  target: Target;
  status: Status;
  /** Fewest days left over the host's addresses; null when no certificate was obtained. */
  daysLeft: number | null;
  results: ProbeResult[];
  dane: DaneResult | null;
  findings: MailFinding[];
  /** SHA-256 (hex) of each distinct leaf SubjectPublicKeyInfo served, so a watcher sees a key change. */
  leafKeys: string[];
}

/** What MTA-STS says for the domain. */
export interface MtaStsState {
  state: 'none' | 'invalid' | 'unavailable' | 'valid';
  id?: string;
  policy?: StsPolicy;
}

/** The tree `check --mail` and the chat print: the domain, then each host. */
export interface MailReport {
  domain: string;
  status: Status;
  checkedAt: string;
  source: Discovery['source'];
  /** Discovery lookups that failed (`MX`, SRV labels): their hosts are unknown this time, not gone. */
  failedLookups: string[];
  hosts: MailHost[];
  mtaSts: MtaStsState;
  tlsRpt: TlsRpt;
  /** Findings about the domain itself (discovery, MTA-STS, TLS-RPT). */
  findings: MailFinding[];
}

/** What a domain check needs; `dns` should be a per-run cached resolver. */
export interface MailCheckDeps {
  dns: DnsResolver;
  trust: TrustStore;
  /** PEM roots for the MTA-STS policy host (default: Node's bundled roots). */
  policyCa?: readonly string[];
  addressPolicy?: AddressPolicy;
  timeoutMs: number;
  warnDays: number;
  critDays: number;
  family?: 4 | 6;
  signal?: AbortSignal;
  now?: Date;
  /** Tests only: the port of each MX (25) and the policy HTTPS port (443). */
  smtpPort?: (mxHost: string) => number;
  policyPort?: number;
}

/** A probe Resolver on top of the DNS client, so host addresses share the run's cache and servers. */
export function addressResolver(dns: DnsResolver): Resolver {
  return async (host, signal) => {
    const [a, aaaa] = await Promise.all([dns.query(host, 'A', signal), dns.query(host, 'AAAA', signal)]);
    const out: Address[] = [...(a.ok ? a.records.map((address) => ({ address, family: 4 as const })) : []), ...(aaaa.ok ? aaaa.records.map((address) => ({ address, family: 6 as const })) : [])];
    if (out.length === 0) {
      const cause = !a.ok && a.code !== 'NODATA' ? a.code : !aaaa.ok ? aaaa.code : 'NODATA';
      throw Object.assign(new Error(`${host}: ${cause}`), { code: cause });
    }
    return out;
  };
}

const severityStatus = (f: MailFinding): Status => (f.severity === 'critical' ? 'critical' : f.severity === 'warning' ? 'warning' : 'ok');

/** Checks one mail domain; never throws for what the network or DNS does. */
export async function checkMailDomain(domain: string, deps: MailCheckDeps): Promise<MailReport> {
  const prober = new Prober({ trust: deps.trust, resolve: addressResolver(deps.dns) });
  const found = await discover(domain, deps.dns, deps.signal);
  const unusable: MailFinding[] = [];
  const specs: HostSpec[] = [];
  for (const m of found.mx) {
    // RFC 5321 section 5.1 (and RFC 1035 section 3.3.9): an MX names a host, never an address.
    // Senders look "192.0.2.1" up as a name (Exim's allow_mx_to_ip is off by default, Postfix
    // skips it as malformed), so probing the address would say "ok" for a host nobody uses.
    if (isIP(m.host) !== 0) {
      unusable.push({ code: 'DNS_FAILED', severity: 'critical', message: `MX ${m.preference} of ${domain}: "${m.host}" is an IP address, not a host name; senders do not deliver to it, so it is not checked` });
      continue;
    }
    const target = hostTarget(() => mxTarget(m.host, deps.smtpPort?.(m.host) ?? 25), `MX ${m.preference} of ${domain}`, m.host, unusable);
    if (target !== null) specs.push({ role: 'mx', label: `mx ${m.preference}`, target, dane: true });
  }
  for (const s of found.services) {
    const target = hostTarget(() => parseTarget(`${s.scheme}://${s.host}:${s.port}`), `SRV ${s.service}.${domain}`, s.host, unusable);
    if (target !== null) specs.push({ role: 'service', label: s.service, target, dane: false });
  }
  const [hosts, sts, tlsRptTxt] = await Promise.all([
    Promise.all(specs.map((h) => checkHost(prober, h, deps))),
    found.source === 'null-mx' ? Promise.resolve({ state: { state: 'none' } as MtaStsState, findings: [] as MailFinding[] }) : mtaSts(domain, deps),
    deps.dns.query(`_smtp._tls.${domain}`, 'TXT', deps.signal),
  ]);
  const findings = [...found.findings, ...unusable, ...sts.findings];
  // A failed lookup is not "no TLS-RPT": it is reported like a failed `_mta-sts` lookup.
  let tlsRpt: TlsRpt = { state: 'none' };
  if (tlsRptTxt.ok) tlsRpt = parseTlsRpt(tlsRptTxt.records);
  else if (!isNegative(tlsRptTxt)) {
    tlsRpt = { state: 'unavailable' };
    findings.push(dnsFinding(tlsRptTxt, `TXT _smtp._tls.${domain}`));
  }
  if (tlsRpt.state === 'invalid') findings.push({ code: 'TLSRPT_INVALID', severity: 'warning', message: `_smtp._tls.${domain}: ${tlsRpt.error}` });
  if (sts.state.policy !== undefined && sts.state.policy.mode !== 'none') applyPolicy(sts.state.policy, hosts);
  for (const h of hosts) h.status = worstStatus([h.status, ...h.findings.map(severityStatus)]);
  return {
    domain,
    status: worstStatus([...hosts.map((h) => h.status), ...findings.map(severityStatus)]),
    checkedAt: (deps.now ?? new Date()).toISOString(),
    source: found.source,
    failedLookups: found.failed,
    hosts,
    mtaSts: sts.state,
    tlsRpt,
    findings,
  };
}

function mxTarget(host: string, port: number): Target {
  return { ...parseTarget(`smtp://${host}`), port };
}

/** One host to probe. */
interface HostSpec {
  role: MailHost['role'];
  label: string;
  target: Target;
  dane: boolean;
}

/**
 * The probe target of a host name taken from DNS, or null with a DNS_FAILED finding when it
 * is no host name: DNS labels may hold any octet (a space, "/", "@", ":"), and one bad MX
 * must neither throw the whole check away nor stop the other hosts from being checked.
 */
function hostTarget(make: () => Target, what: string, host: string, findings: MailFinding[]): Target | null {
  try {
    return make();
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    findings.push({ code: 'DNS_FAILED', severity: 'critical', message: `${what}: "${host.replace(/[\x00-\x1f\x7f]/g, '?')}" is not a valid host name, so it is not checked` });
    return null;
  }
}

async function checkHost(prober: Prober, h: HostSpec, deps: MailCheckDeps): Promise<MailHost> {
  const chains = new Map<string, readonly Buffer[]>();
  // The TLSA lookup comes first: it decides the SNI (RFC 7672 section 8.1: a DANE client sends
  // the TLSA base domain, the expanded name for a secure CNAME with TLSA records there).
  const daneLookup = h.dane ? await lookupTlsa(deps.dns, h.target.host, deps.signal) : null;
  const daneApplies = daneLookup !== null && daneLookup.ctx.addressesSecure && daneLookup.tlsa.ok && daneLookup.tlsa.authenticated;
  const results = await prober.probe(h.target, {
    ...(daneApplies && daneLookup.ctx.base !== h.target.servername ? { sni: daneLookup.ctx.base } : {}),
    timeoutMs: deps.timeoutMs,
    warnDays: deps.warnDays,
    critDays: deps.critDays,
    ...(deps.signal === undefined ? {} : { signal: deps.signal }),
    ...(deps.now === undefined ? {} : { now: deps.now }),
    ...(deps.addressPolicy === undefined ? {} : { addressPolicy: deps.addressPolicy }),
    ...(deps.family === undefined ? {} : { family: deps.family }),
    onChain: (address, chain) => chains.set(address, chain),
  });
  const findings: MailFinding[] = [];
  let dane: DaneResult | null = null;
  if (daneLookup !== null) {
    const { tlsa, ctx } = daneLookup;
    // Each address may serve another chain: the worst verdict over them is the host's.
    const verdicts = [...chains.entries()].map(([address, chain]) => ({ address, v: evaluateDane(tlsa, chain, h.target.host, ctx) }));
    const order: DaneResult['state'][] = ['mismatch', 'error', 'unusable', 'match', 'unsigned', 'none'];
    verdicts.sort((x, y) => order.indexOf(x.v.state) - order.indexOf(y.v.state));
    dane = verdicts[0]?.v ?? (tlsa.ok || !ctx.addressesSecure || tlsa.code === 'NXDOMAIN' || tlsa.code === 'NODATA' ? null : { state: 'error', records: [], findings: [dnsFinding(tlsa, `TLSA _25._tcp.${ctx.base}`)] });
    if (dane !== null) findings.push(...dane.findings);
  }
  const days = results.map((r) => r.certificate?.daysLeft).filter((d): d is number => d !== undefined);
  return {
    role: h.role,
    label: h.label,
    host: h.target.host,
    port: h.target.port,
    target: h.target,
    status: worstStatus(results.map((r) => r.status)),
    daysLeft: days.length === 0 ? null : Math.min(...days),
    results,
    dane,
    findings,
    leafKeys: leafKeys(chains),
  };
}

/**
 * The TLSA records a DANE sender uses for an MX host (RFC 7672 section 2.2.2): only when the
 * host's address records are secure; for a name that is a (secure) CNAME, those of the fully
 * expanded name first, and the MX name's own when the expanded name has none. The address
 * lookups are the ones the probe makes, shared through the run's cache.
 */
async function lookupTlsa(dns: DnsResolver, host: string, signal?: AbortSignal): Promise<{ tlsa: DnsResult<'TLSA'>; ctx: TlsaContext }> {
  const [a, aaaa] = await Promise.all([dns.query(host, 'A', signal), dns.query(host, 'AAAA', signal)]);
  const found = [a, aaaa].filter((r) => r.ok);
  const addressesSecure = found.every((r) => r.authenticated);
  const expanded = found.find((r) => r.canonicalName !== undefined)?.canonicalName;
  const query = (name: string): Promise<DnsResult<'TLSA'>> => dns.query(`_25._tcp.${name}`, 'TLSA', signal);
  if (addressesSecure && expanded !== undefined && expanded !== host) {
    const names = [host, expanded];
    const atExpanded = await query(expanded);
    if (!isNegative(atExpanded)) return { tlsa: atExpanded, ctx: { addressesSecure, base: expanded, names } };
    return { tlsa: await query(host), ctx: { addressesSecure, base: host, names } };
  }
  return { tlsa: await query(host), ctx: { addressesSecure, base: host, names: [host] } };
}

function leafKeys(chains: Map<string, readonly Buffer[]>): string[] {
  const out = new Set<string>();
  for (const chain of chains.values()) {
    const leaf = chain[0];
    if (leaf === undefined) continue;
    try {
      out.add(createHash('sha256').update(new X509Certificate(leaf).publicKey.export({ type: 'spki', format: 'der' })).digest('hex'));
    } catch {
      // A leaf Node cannot parse has no key to compare; the judge reports the certificate.
    }
  }
  return [...out].sort();
}

async function mtaSts(domain: string, deps: MailCheckDeps): Promise<{ state: MtaStsState; findings: MailFinding[] }> {
  const txt = await deps.dns.query(`_mta-sts.${domain}`, 'TXT', deps.signal);
  if (!txt.ok) {
    if (txt.code === 'NXDOMAIN' || txt.code === 'NODATA') return { state: { state: 'none' }, findings: [] };
    return { state: { state: 'unavailable' }, findings: [dnsFinding(txt, `TXT _mta-sts.${domain}`)] };
  }
  const rec = parseStsRecord(txt.records);
  if (rec === null) return { state: { state: 'none' }, findings: [] };
  if ('error' in rec) return { state: { state: 'invalid' }, findings: [{ code: 'MTA_STS_INVALID', severity: 'warning', message: `_mta-sts.${domain}: ${rec.error}` }] };
  let body: string;
  try {
    body = await fetchPolicy(domain, {
      dns: deps.dns,
      timeoutMs: deps.timeoutMs,
      ...(deps.policyCa === undefined ? {} : { ca: deps.policyCa }),
      ...(deps.addressPolicy === undefined ? {} : { addressPolicy: deps.addressPolicy }),
      ...(deps.policyPort === undefined ? {} : { port: deps.policyPort }),
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
    });
  } catch (err) {
    return { state: { state: 'unavailable', id: rec.id }, findings: [{ code: 'MTA_STS_UNAVAILABLE', severity: 'warning', message: `MTA-STS policy of ${domain} (id ${rec.id}): ${(err as Error).message}` }] };
  }
  const policy = parsePolicy(body);
  if ('errors' in policy) {
    return { state: { state: 'unavailable', id: rec.id }, findings: [{ code: 'MTA_STS_UNAVAILABLE', severity: 'warning', message: `MTA-STS policy of ${domain} is invalid: ${policy.errors.slice(0, 5).join('; ')}` }] };
  }
  return { state: { state: 'valid', id: rec.id, policy }, findings: [] };
}

/** RFC 8461 section 4: every MX must match a pattern, and its certificate must validate for its name. */
function applyPolicy(policy: StsPolicy, hosts: MailHost[]): void {
  const severity = policy.mode === 'enforce' ? 'critical' : 'warning';
  for (const h of hosts.filter((x) => x.role === 'mx')) {
    if (!policy.mx.some((p) => mxMatches(p, h.host))) {
      h.findings.push({ code: 'MTA_STS_MISMATCH', severity, message: `${h.host} matches no mx pattern of the MTA-STS policy (${policy.mx.join(', ')}); in ${policy.mode} mode senders ${policy.mode === 'enforce' ? 'will not deliver to it' : 'report it'}` });
    }
    const bad = h.results.filter((r) => r.certificate !== null && (r.trusted !== true || r.hostnameMatch !== true));
    if (bad.length > 0) {
      const why = bad[0]!.trusted !== true ? 'not trusted' : `not valid for ${h.host}`;
      h.findings.push({ code: 'MTA_STS_CERT_INVALID', severity, message: `${h.host}: the certificate is ${why}, which MTA-STS (${policy.mode}) requires (RFC 8461 section 4.2)` });
    }
  }
}
