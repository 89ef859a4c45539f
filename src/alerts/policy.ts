// The alert policy: a pure function of (previous state, new results, now, settings) to
// (new state, messages). No clock, no I/O: tested as a table of cases.
//
// Decisions, documented:
// - Thresholds are per certificate (SHA-256 fingerprint). When several thresholds were
//   crossed since the last post (downtime, a long mute, a short-lived certificate), only the
//   most severe one is posted: one message, never a burst.
// - The first evaluation of a target (right after `add`, whose reply already showed the
//   result) is a silent baseline. A certificate seen for the first time later is a renewal
//   when another certificate was known: one "renewed" message, thresholds start over.
// - Expired certificates post no threshold message: the EXPIRED problem covers them.
// - Problems (each code, plus UNREACHABLE when an address yields no certificate) are
//   announced after `failAfter` consecutive results and recovered after `failAfter`
//   consecutive clean results (hysteresis), so a flapping endpoint cannot alternate
//   problem/recovery messages on every run.
// - While muted nothing is posted, but the state advances: crossings during the mute are
//   consumed (not replayed at unmute), problems that start during it are marked "muted" and
//   their recovery is not posted either. A problem announced before the mute and still
//   present after it is not repeated; one that started during the mute and is still present
//   after it is posted then (a mute silences for a while, it does not acknowledge for good).
import type { CertificateInfo } from '../cert/types.ts';
import type { Reply } from '../chat/types.ts';
import type { LatestResults, TargetRecord } from '../core/services.ts';
import type { AlertState, IssueMemory } from '../store/schema.ts';
import { problemReply, recoveredReply, renewedReply, thresholdReply } from './messages.ts';

/** Settings in force for one target (target overrides already applied). */
export interface PolicySettings {
  /** Days-left thresholds, any order. */
  thresholds: readonly number[];
  failAfter: number;
  /** Threshold alerts at or below this many days left are critical. */
  critDays: number;
  /** ISO 8601; quiet until then. */
  mutedUntil?: string | undefined;
}

/** One decided message; `event` is unique per target and occurrence (idempotency). */
export interface AlertMessage {
  event: string;
  reply: Reply;
}

/** The new state to store and the messages to enqueue. */
export interface PolicyOutcome {
  state: AlertState;
  messages: AlertMessage[];
}

/** Certificates not seen for this long are forgotten (renewal detection looks back this far). */
export const CERT_MEMORY_MS = 30 * 86_400_000;
const UNREACHABLE = 'UNREACHABLE';

interface Served {
  cert: CertificateInfo;
  addresses: string[];
}

interface Active {
  detail: string;
  severity: 'warning' | 'critical' | 'error';
}

/** Decides which alerts one new set of results causes. Pure. */
export function decideAlerts(prev: AlertState | undefined, latest: LatestResults, record: TargetRecord, now: Date, settings: PolicySettings): PolicyOutcome {
  const muted = settings.mutedUntil !== undefined && Date.parse(settings.mutedUntil) > now.getTime();
  const baseline = prev === undefined;
  const state: AlertState = structuredClone(prev ?? { targetId: record.id, certs: {}, issues: {}, updatedAt: now.toISOString() });
  state.updatedAt = now.toISOString();
  const messages: AlertMessage[] = [];
  const post = (event: string, reply: Reply): void => {
    if (!muted) messages.push({ event, reply });
  };

  const thresholds = [...new Set(settings.thresholds)].sort((a, b) => a - b);
  const served = servedCerts(latest);
  const knewSome = Object.keys(state.certs).length > 0;
  for (const [fp, { cert, addresses }] of served) {
    const left = cert.daysLeft;
    // The most severe threshold crossed: the smallest t with daysLeft <= t.
    const crossed = left < 0 ? (thresholds[0] ?? null) : (thresholds.find((t) => left <= t) ?? null);
    const mem = state.certs[fp];
    if (mem === undefined) {
      state.certs[fp] = { notAfter: cert.notAfter, lowestPosted: crossed, firstSeen: now.toISOString(), lastSeen: now.toISOString() };
      if (baseline) continue;
      if (knewSome) post(`renewed:${fp}`, renewedReply(record, cert, left, addresses));
      else if (crossed !== null && left >= 0) post(`threshold:${fp}:${crossed}`, thresholdReply(record, cert, left, crossed, left <= settings.critDays, addresses));
      continue;
    }
    mem.lastSeen = now.toISOString();
    mem.notAfter = cert.notAfter;
    if (crossed !== null && (mem.lowestPosted === null || crossed < mem.lowestPosted)) {
      mem.lowestPosted = crossed;
      if (left >= 0) post(`threshold:${fp}:${crossed}`, thresholdReply(record, cert, left, crossed, left <= settings.critDays, addresses));
    }
  }
  for (const [fp, mem] of Object.entries(state.certs)) {
    if (now.getTime() - Date.parse(mem.lastSeen) > CERT_MEMORY_MS) delete state.certs[fp];
  }

  const active = activeIssues(latest);
  const keys = new Set([...Object.keys(state.issues), ...active.keys()]);
  for (const key of [...keys].sort()) {
    const found = active.get(key);
    const mem: IssueMemory = state.issues[key] ?? { streak: 0, clearStreak: 0, announced: null, episode: 0, detail: found?.detail ?? '' };
    state.issues[key] = mem;
    if (found !== undefined) {
      mem.streak++;
      mem.clearStreak = 0;
      mem.detail = found.detail;
      if (mem.announced === null && mem.streak >= settings.failAfter) {
        mem.episode++;
        mem.announced = muted ? 'muted' : 'posted';
        // On the baseline the `add` reply has just shown the problem: count it as announced
        // (so its recovery is posted) without a second message.
        if (!baseline) post(`problem:${key}:${mem.episode}`, problemReply(record, key, found.detail, found.severity, mem.streak));
      } else if (mem.announced === 'muted' && !muted) {
        // Silenced by a mute that has ended: announce this episode now (same key, never sent).
        mem.announced = 'posted';
        post(`problem:${key}:${mem.episode}`, problemReply(record, key, found.detail, found.severity, mem.streak));
      }
      continue;
    }
    mem.streak = 0;
    mem.clearStreak++;
    if (mem.announced !== null && mem.clearStreak >= settings.failAfter) {
      if (mem.announced === 'posted') post(`recovered:${key}:${mem.episode}`, recoveredReply(record, key, mem.detail));
      mem.announced = null;
    }
    // Keep the episode counter (bounded: one entry per problem code) so the next episode's
    // idempotency key differs; forget only issues that were never announced.
    if (mem.announced === null && mem.episode === 0) delete state.issues[key];
  }
  return { state, messages };
}

function servedCerts(latest: LatestResults): Map<string, Served> {
  const out = new Map<string, Served>();
  for (const r of latest.results) {
    if (r.certificate === null) continue;
    const fp = r.certificate.fingerprint256;
    const entry = out.get(fp) ?? { cert: r.certificate, addresses: [] };
    if (r.address !== null) entry.addresses.push(r.address);
    out.set(fp, entry);
  }
  return out;
}

function activeIssues(latest: LatestResults): Map<string, Active> {
  const out = new Map<string, Active>();
  const add = (key: string, detail: string, severity: Active['severity']): void => {
    const seen = out.get(key);
    if (seen === undefined) out.set(key, { detail, severity });
    else if (!seen.detail.includes(detail)) seen.detail = `${seen.detail}\n${detail}`;
  };
  for (const r of latest.results) {
    const at = r.address === null ? '' : `${r.address}: `;
    // EXPIRES_SOON is what the thresholds announce; repeating it as a problem would double up.
    for (const p of r.problems) if (p.code !== 'EXPIRES_SOON') add(p.code, `${at}${p.message}`, p.severity);
    if (r.error !== null && r.problems.length === 0) add(UNREACHABLE, `${at}${r.error.code}: ${r.error.message}`, 'error');
  }
  return out;
}
