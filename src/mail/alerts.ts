// The alert policy of a watched mail domain: pure, like src/alerts/policy.ts, and built on it.
//
// - Each host is fed through decideAlerts as if it were a target: thresholds per certificate
//   fingerprint, "renewed", problem/recovery after failAfter, mute. Its mail findings (DANE,
//   MTA-STS...) ride along as problems of an extra address-less result, so they alert with the
//   same codes, hysteresis and idempotency as any probe problem. Notes never alert.
// - Domain-level findings (MX lookup, MTA-STS record/policy, TLS-RPT) go through the same policy
//   under the key `domain`.
// - Host set changes: a host DNS newly lists is announced once, one it no longer lists is
//   retired (its alert memory dropped) and announced once. Each announcement's event carries
//   the host's episode counter, so a run repeated after a crash re-makes the same key, and a
//   host that comes back later is announced again. The first run (after `add`) is a silent
//   baseline, like a target's. Hosts behind a failed lookup (SERVFAIL, timeout) are unknown
//   this time, not gone: they keep their last results and are not retired.
// - DANE key rollover: the previous run's leaf keys are stored; when a host's key changed and
//   no TLSA record matches the new one (while the old one matched), the DANE_MISMATCH says so.
import { decideAlerts, type AlertMessage, type PolicySettings } from '../alerts/policy.ts';
import type { Problem } from '../cert/types.ts';
import type { Reply } from '../chat/types.ts';
import type { LatestResults, TargetRecord } from '../core/services.ts';
import { worstStatus, type ProbeResult } from '../probe/result.ts';
import { parseTarget, type Target } from '../probe/target.ts';
import type { MailDomainRecord, MailDomainState, WatchedHost } from '../store/mail-domains.ts';
import type { AlertState } from '../store/schema.ts';
import type { MailHost, MailReport } from './check.ts';
import type { MailFinding } from './codes.ts';
import { domainName, hostAddedReply, hostRemovedReply } from './watch-reply.ts';
import { targetButtons } from '../chat/format.ts';

/** Most host keys whose episode counter is remembered (a hostile zone may rotate names). */
const MAX_EPISODES = 200;
const ROLLOVER = 'the rollover was deployed before its TLSA record was published (RFC 7671 section 8.1); DANE clients will not deliver';
/** Longest finding message stored (a hostile zone can make DANE_UNUSABLE list 64 records). */
const MAX_MESSAGE = 1000;
/** The stored issue detail's bound (src/store/schema.ts). */
const MAX_DETAIL = 2000;
const clip = (f: MailFinding): MailFinding => (f.message.length <= MAX_MESSAGE ? f : { ...f, message: `${f.message.slice(0, MAX_MESSAGE - 1)}…` });
/** Several findings of one code are joined into one detail: keep it storable. */
function bounded(state: AlertState): AlertState {
  for (const mem of Object.values(state.issues)) if (mem.detail.length > MAX_DETAIL) mem.detail = `${mem.detail.slice(0, MAX_DETAIL - 1)}…`;
  return state;
}
/** Alert-state key of the domain-level findings. */
export const DOMAIN_KEY = 'domain';

/** A host's identity across runs. */
export function hostKey(h: { target: Target }): string {
  return `${h.target.protocol}://${h.target.host}:${h.target.port}`.toLowerCase();
}

/** The new state to store and the messages to enqueue (events unique within the domain). */
export interface MailPolicyOutcome {
  state: MailDomainState;
  messages: AlertMessage[];
}

/** Decides what one new report of a watched domain causes. Pure. */
export function decideMailAlerts(prev: MailDomainState | undefined, report: MailReport, record: MailDomainRecord, now: Date, settings: PolicySettings): MailPolicyOutcome {
  const muted = settings.mutedUntil !== undefined && Date.parse(settings.mutedUntil) > now.getTime();
  const at = now.toISOString();
  const prevHosts = new Map((prev?.hosts ?? []).map((h) => [h.key, h]));
  const alerts: MailDomainState['alerts'] = structuredClone(prev?.alerts ?? {});
  const episodes: MailDomainState['episodes'] = { ...(prev?.episodes ?? {}) };
  const messages: AlertMessage[] = [];
  const post = (event: string, reply: Reply): void => {
    if (!muted) messages.push({ event, reply });
  };

  const hosts: WatchedHost[] = [];
  const seen = new Set<string>();
  for (const h of report.hosts) {
    const key = hostKey(h);
    if (seen.has(key)) continue; // the same endpoint via MX and SRV, or twice in SRV: one host
    seen.add(key);
    hosts.push(toWatched(h, key, prevHosts.get(key), at));
  }
  // Hosts behind a failed lookup are unknown this run: keep them as last seen.
  const unknown = (h: WatchedHost): boolean => report.failedLookups.includes(h.role === 'mx' ? 'MX' : h.label);
  for (const old of prevHosts.values()) if (!seen.has(old.key) && unknown(old)) hosts.push(old);
  const kept = new Set(hosts.map((h) => h.key));

  if (prev !== undefined) {
    for (const h of hosts) {
      if (prevHosts.has(h.key)) continue;
      episodes[h.key] = (episodes[h.key] ?? 0) + 1;
      post(`host-added:${h.key}:${episodes[h.key]}`, hostAddedReply(record, h));
    }
    for (const old of prevHosts.values()) {
      if (kept.has(old.key)) continue;
      delete alerts[old.key];
      post(`host-removed:${old.key}:${episodes[old.key] ?? 0}`, hostRemovedReply(record, old));
    }
  }

  for (const h of hosts) {
    if (!seen.has(h.key)) continue; // carried over unprobed: its alert memory waits
    const name = `${record.label ?? record.domain} ${h.label}`;
    const fake: TargetRecord = { id: `${record.id}/${h.key}`, target: h.target, channel: record.channel, addedBy: record.addedBy, addedAt: record.addedAt, label: name };
    const latest: LatestResults = { targetId: fake.id, checkedAt: report.checkedAt, status: h.status, results: [...h.results, ...findingsResult(h.target, h.findings, report.checkedAt)] };
    const out = decideAlerts(alerts[h.key], latest, fake, now, settings);
    alerts[h.key] = bounded(out.state);
    for (const m of out.messages) messages.push({ event: `${h.key}|${m.event}`, reply: { ...m.reply, buttons: targetButtons(record.id) } });
  }

  const domainTarget = parseTarget(`smtp://${record.domain}`);
  const fake: TargetRecord = { id: `${record.id}/${DOMAIN_KEY}`, target: domainTarget, channel: record.channel, addedBy: record.addedBy, addedAt: record.addedAt };
  const latest: LatestResults = { targetId: fake.id, checkedAt: report.checkedAt, status: report.status, results: findingsResult(domainTarget, report.findings, report.checkedAt) };
  const out = decideAlerts(alerts[DOMAIN_KEY], latest, fake, now, settings);
  alerts[DOMAIN_KEY] = bounded(out.state);
  for (const m of out.messages) messages.push({ event: `${DOMAIN_KEY}|${m.event}`, reply: domainLevel(m.reply, record, domainTarget) });

  // Bound the episode memory: forget counters of hosts long gone first.
  const keys = Object.keys(episodes);
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_EPISODES))) if (!kept.has(k)) delete episodes[k];

  const state: MailDomainState = {
    domainId: record.id,
    checkedAt: report.checkedAt,
    status: worstStatus([report.status, ...hosts.map((h) => h.status)]),
    source: report.source,
    findings: report.findings.map(clip),
    mtaSts: { state: report.mtaSts.state, ...(report.mtaSts.id === undefined ? {} : { id: report.mtaSts.id }), ...(report.mtaSts.policy === undefined ? {} : { mode: report.mtaSts.policy.mode }) },
    tlsRpt: report.tlsRpt.state,
    hosts,
    alerts,
    episodes,
  };
  return { state, messages };
}

/** A report host as stored, with the DANE key-rollover explanation when it applies. */
function toWatched(h: MailHost, key: string, before: WatchedHost | undefined, at: string): WatchedHost {
  let findings = h.findings.map(clip);
  const newKeys = h.leafKeys.filter((k) => !(before?.leafKeys ?? []).includes(k));
  const mismatch = h.dane?.state === 'mismatch';
  let explained: string | undefined;
  if (mismatch && before !== undefined && before.leafKeys.length > 0 && newKeys.length > 0 && before.dane?.state === 'match') {
    explained = `${h.host}: the server's key changed since the last check (new key sha256 ${newKeys[0]!.slice(0, 16)}…) and no TLSA record matches it, while the old key matched: ${ROLLOVER}`;
  } else if (mismatch && newKeys.length === 0) {
    // Same key as last run: keep the explanation for as long as the mismatch lasts.
    explained = before?.findings.find((f) => f.code === 'DANE_MISMATCH' && f.message.includes(ROLLOVER))?.message;
  }
  if (explained !== undefined) findings = findings.map((f) => (f.code === 'DANE_MISMATCH' ? { ...f, message: explained } : f));
  return {
    key,
    role: h.role,
    label: h.label,
    host: h.host,
    port: h.port,
    target: h.target,
    firstSeen: before?.firstSeen ?? at,
    status: h.status,
    daysLeft: h.daysLeft,
    results: h.results,
    dane: h.dane === null ? null : { state: h.dane.state, records: h.dane.records },
    findings,
    leafKeys: h.leafKeys,
  };
}

/** Mail findings (not notes) as problems of one address-less result: the policy's input shape. */
function findingsResult(target: Target, findings: readonly MailFinding[], checkedAt: string): ProbeResult[] {
  const problems: Problem[] = findings.flatMap((f) => (f.severity === 'note' ? [] : [{ code: f.code, severity: f.severity, message: f.message }]));
  if (problems.length === 0) return [];
  return [
    {
      target,
      address: null,
      status: problems.some((p) => p.severity === 'critical') ? 'critical' : 'warning',
      problems,
      error: null,
      tls: null,
      certificate: null,
      chain: [],
      trusted: null,
      hostnameMatch: null,
      checkedAt,
      timings: { totalMs: 0 },
    },
  ];
}

/** Domain-level alerts name the domain, not an endpoint. */
function domainLevel(reply: Reply, record: MailDomainRecord, target: Target): Reply {
  const endpointName = `${target.host}:${target.port}`;
  return {
    ...reply,
    title: reply.title.replace(endpointName, `mail domain ${domainName(record)}`),
    fields: (reply.fields ?? []).filter((f) => f.label !== 'Endpoint' && f.label !== 'Protocol'),
    buttons: targetButtons(record.id),
  };
}
