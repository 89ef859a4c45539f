// Renders probe results and stored targets into neutral `Reply` objects. Adapters turn a
// Reply into Block Kit, Telegram HTML or plain text and escape it for their format; this
// module only bounds lengths and strips control characters (certificate subjects and
// server errors are attacker-chosen and could otherwise drive a terminal).
import type { LatestResults, TargetRecord } from '../core/services.ts';
import { formatHostPort } from '../probe/errors.ts';
import type { ProbeResult, Status } from '../probe/result.ts';
import { worstStatus } from '../probe/result.ts';
import type { Target } from '../probe/target.ts';
import type { Reply, ReplyButton } from './types.ts';

/** Longest server- or user-sourced string placed in a reply. */
const MAX_FIELD = 200;
/** Default mute offered by the Mute button. */
export const BUTTON_MUTE = '7d';

/** Removes control characters and bounds the length of text from servers or users. */
export function clean(text: string, max = MAX_FIELD): string {
  // C0, DEL, C1 and the bidi overrides (a subject can otherwise reorder what is shown).
  const s = text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ');
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `host:port` as users read it (IPv6 in brackets). */
export function endpoint(target: Target): string {
  return clean(formatHostPort(target.host, target.port));
}

/** "smtp, STARTTLS" or "https, implicit TLS". */
export function protocolText(target: Target): string {
  return `${target.protocol}, ${target.mode === 'starttls' ? 'STARTTLS' : 'implicit TLS'}`;
}

/** ISO time as "2025-03-01 12:00 UTC". */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return clean(iso, 40);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The result whose certificate expires first (the one users must act on), if any has one. */
export function soonestCertificate(results: readonly ProbeResult[]): ProbeResult | undefined {
  let best: ProbeResult | undefined;
  for (const r of results) {
    if (r.certificate === null) continue;
    if (best === undefined || r.certificate.daysLeft < best.certificate!.daysLeft) best = r;
  }
  return best;
}

/** Smallest days-left over all addresses, or undefined when no certificate was obtained. */
export function daysLeftOf(results: readonly ProbeResult[]): number | undefined {
  return soonestCertificate(results)?.certificate?.daysLeft;
}

const DAY_MS = 86_400_000;

/**
 * "87 days left", "1 day left", "expires today", "expired today", "expired 3 days ago".
 * One rule for every message, the same as the judge's EXPIRED problem (src/cert/judge.ts):
 * whole days, rounded down in the direction of travel. Before expiry that is daysLeft,
 * floor((notAfter - at) / day); once `at` is past notAfter it is
 * floor((at - notAfter) / day) days ago, so one second late reads "expired today", never
 * "expired 1 day ago", and the reply never says 31 where the finding says 30.
 */
export function expiryText(cert: { notAfter: string; daysLeft: number }, at: string | undefined): string {
  const end = Date.parse(cert.notAfter);
  const when = at === undefined ? Number.NaN : Date.parse(at);
  if (!Number.isNaN(end) && !Number.isNaN(when) ? when > end : cert.daysLeft < 0) {
    const ago = !Number.isNaN(end) && !Number.isNaN(when) ? Math.floor((when - end) / DAY_MS) : -cert.daysLeft - 1;
    return ago === 0 ? 'expired today' : `expired ${ago} day${ago === 1 ? '' : 's'} ago`;
  }
  const days = Math.max(cert.daysLeft, 0);
  if (days === 0) return 'expires today';
  return `${days} day${days === 1 ? '' : 's'} left`;
}

/** One-line verdict: "ok, 87 days left" or "error: CONNECT_REFUSED". */
export function verdict(results: readonly ProbeResult[]): string {
  const status = worstStatus(results.map((r) => r.status));
  const soonest = soonestCertificate(results);
  const firstError = results.find((r) => r.error !== null)?.error ?? null;
  if (soonest?.certificate == null) return firstError === null ? status : `${status}: ${firstError.code}`;
  return `${status}, ${expiryText(soonest.certificate, soonest.checkedAt)}`;
}

/** Buttons acting on a stored target. */
export function targetButtons(id: string): ReplyButton[] {
  return [
    { label: 'Check now', command: `check ${id}`, style: 'primary' },
    { label: `Mute ${BUTTON_MUTE}`, command: `mute ${id} ${BUTTON_MUTE}` },
    { label: 'Remove', command: `remove ${id}`, style: 'danger' },
  ];
}

/** Options for `formatResults`. */
export interface FormatOptions {
  /** The stored target, for id, label, mute and buttons. */
  record?: TargetRecord;
  /** Overrides the generated title. */
  title?: string;
  /** Extra paragraph shown before the findings (e.g. "Added as k3x9p2."). */
  note?: string;
  /** Now, to show whether a mute is still running. */
  now?: Date;
}

/** A full report on one endpoint: one result per address. */
export function formatResults(target: Target, results: readonly ProbeResult[], opts: FormatOptions = {}): Reply {
  const status: Status = results.length === 0 ? 'error' : worstStatus(results.map((r) => r.status));
  const name = opts.record?.label === undefined ? endpoint(target) : `${clean(opts.record.label, 64)} (${endpoint(target)})`;
  const fields: { label: string; value: string }[] = [
    { label: 'Endpoint', value: endpoint(target) },
    { label: 'Protocol', value: protocolText(target) },
  ];
  if (target.servername !== '' && target.servername !== target.host) {
    fields.push({ label: 'Server name', value: clean(target.servername) });
  }
  const addresses = results.map((r) => r.address).filter((a): a is string => a !== null);
  if (addresses.length > 0) {
    fields.push({ label: addresses.length === 1 ? 'Address' : 'Addresses', value: clean(addresses.join(', '), 400) });
  }
  const soonest = soonestCertificate(results);
  const cert = soonest?.certificate;
  if (cert != null) {
    fields.push({ label: 'Days left', value: expiryText(cert, soonest?.checkedAt) });
    fields.push({ label: 'Expires', value: formatTime(cert.notAfter) });
    fields.push({ label: 'Issuer', value: clean(cert.issuer) });
    fields.push({ label: 'Subject', value: clean(cert.subject) });
  }
  if (soonest?.tls != null) fields.push({ label: 'TLS', value: clean(`${soonest.tls.version} ${soonest.tls.cipher}`, 80) });
  if (opts.record !== undefined) {
    fields.push({ label: 'Id', value: opts.record.id });
    const until = opts.record.mutedUntil;
    if (until !== undefined && (opts.now === undefined || Date.parse(until) > opts.now.getTime())) {
      fields.push({ label: 'Muted until', value: formatTime(until) });
    }
  }
  const checked = results[0]?.checkedAt;
  if (checked !== undefined) fields.push({ label: 'Checked', value: formatTime(checked) });

  const text: string[] = [];
  if (opts.note !== undefined) text.push(opts.note);
  text.push(...findingLines(results));
  const reply: Reply = {
    title: opts.title ?? `${name}: ${results.length === 0 ? 'no result' : verdict(results)}`,
    status,
    fields,
  };
  if (text.length > 0) reply.text = text;
  const perAddress = addressLines(results);
  if (perAddress.length > 0) reply.items = perAddress;
  if (opts.record !== undefined) reply.buttons = targetButtons(opts.record.id);
  return reply;
}

/** Problems and errors, once each, naming the addresses when not all share them. */
function findingLines(results: readonly ProbeResult[]): string[] {
  const seen = new Map<string, string[]>();
  for (const r of results) {
    const lines = r.problems.map((p) => `${p.code} (${p.severity}): ${clean(p.message, 300)}`);
    // Notes never change the status or alert; a reply still says them (client certificate required...).
    for (const n of r.notes ?? []) lines.push(`Note, ${n.code}: ${clean(n.message, 300)}`);
    // STARTTLS_NOT_OFFERED/REJECTED are both a problem and the error: show them once.
    if (r.error !== null && !r.problems.some((p) => p.code === r.error!.code)) {
      lines.push(`${r.error.code}: ${clean(r.error.message, 300)}`);
    }
    for (const line of lines) {
      const where = seen.get(line) ?? [];
      if (r.address !== null) where.push(r.address);
      seen.set(line, where);
    }
  }
  return [...seen].map(([line, where]) =>
    results.length > 1 && where.length < results.length ? `${line} [${clean(where.join(', '), 120)}]` : line,
  );
}

/** Per-address lines, only when addresses disagree (different status or certificate). */
function addressLines(results: readonly ProbeResult[]): string[] {
  if (results.length < 2) return [];
  const keys = new Set(results.map((r) => `${r.status}|${r.certificate?.fingerprint256 ?? r.error?.code ?? ''}`));
  if (keys.size < 2) return [];
  return results.map((r) => {
    const what = r.certificate === null ? (r.error?.code ?? 'no certificate') : `${expiryText(r.certificate, r.checkedAt)}, SHA-256 ${r.certificate.fingerprint256.slice(0, 23)}…`;
    return `${clean(r.address ?? 'no address', 60)}: ${r.status}, ${what}`;
  });
}

/** The stored target's latest results, or a "not checked yet" reply. */
export function formatLatest(record: TargetRecord, latest: LatestResults | undefined, now?: Date, note?: string): Reply {
  if (latest === undefined || latest.results.length === 0) {
    const reply: Reply = {
      ...(note === undefined ? {} : { text: [note] }),
      title: `${endpoint(record.target)}: not checked yet`,
      status: 'info',
      fields: [
        { label: 'Endpoint', value: endpoint(record.target) },
        { label: 'Protocol', value: protocolText(record.target) },
        { label: 'Id', value: record.id },
      ],
      buttons: targetButtons(record.id),
    };
    return reply;
  }
  const opts: FormatOptions = { record };
  if (now !== undefined) opts.now = now;
  if (note !== undefined) opts.note = note;
  return formatResults(record.target, latest.results, opts);
}

/** One line of `list`: status, id, endpoint, protocol, days left, label, mute. */
export function formatListItem(record: TargetRecord, latest: LatestResults | undefined, now: Date): string {
  const t = record.target;
  let state: string;
  if (latest === undefined || latest.results.length === 0) state = 'not checked yet';
  else state = verdict(latest.results);
  const status = latest === undefined ? 'new' : latest.status;
  const parts = [`[${status.toUpperCase()}]`, record.id, `${endpoint(t)} (${t.protocol}${t.mode === 'starttls' ? ' STARTTLS' : ''})`, '—', state];
  if (record.label !== undefined) parts.push(`— ${clean(record.label, 64)}`);
  if (record.mutedUntil !== undefined && Date.parse(record.mutedUntil) > now.getTime()) {
    parts.push(`— muted until ${formatTime(record.mutedUntil)}`);
  }
  return parts.join(' ');
}

/** Sort key for `list`: soonest expiry first, then errors, then never checked. */
export function expirySortKey(latest: LatestResults | undefined): number {
  if (latest === undefined || latest.results.length === 0) return Number.MAX_SAFE_INTEGER;
  const days = daysLeftOf(latest.results);
  // No certificate (unreachable): after every certificate, before targets never checked.
  return days ?? Number.MAX_SAFE_INTEGER - 1;
}
