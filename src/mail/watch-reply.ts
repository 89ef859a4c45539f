// Replies about watched mail domains: the stored state as the same tree `check mail` shows,
// the `list` lines, and the host added/retired announcements.
import { clean, formatTime, targetButtons } from '../chat/format.ts';
import type { Reply, ReplyStatus } from '../chat/types.ts';
import type { MailDomainRecord, MailDomainState, WatchedHost } from '../store/mail-domains.ts';
import type { MailHost, MailReport } from './check.ts';
import { mailReply } from './reply.ts';
import { hostDetails, hostLine } from './render.ts';

/** `label (domain)` or the domain. */
export function domainName(record: MailDomainRecord): string {
  return record.label === undefined ? clean(record.domain) : `${clean(record.label, 64)} (${clean(record.domain)})`;
}

/** A stored host in the shape the tree renderer takes. */
export function toMailHost(h: WatchedHost): MailHost {
  return { ...h, dane: h.dane === null ? null : { ...h.dane, findings: [] } };
}

/** A stored state as a report (for the tree). */
export function stateToReport(record: MailDomainRecord, s: MailDomainState): MailReport {
  const policy = s.mtaSts.mode === undefined ? undefined : { version: 'STSv1' as const, mode: s.mtaSts.mode, mx: [], maxAge: 0 };
  return {
    domain: record.domain,
    status: s.status,
    checkedAt: s.checkedAt,
    source: s.source,
    failedLookups: [],
    hosts: s.hosts.map(toMailHost),
    mtaSts: { state: s.mtaSts.state, ...(s.mtaSts.id === undefined ? {} : { id: s.mtaSts.id }), ...(policy === undefined ? {} : { policy }) },
    tlsRpt: s.tlsRpt === 'valid' ? { state: 'valid', rua: [] } : s.tlsRpt === 'invalid' ? { state: 'invalid', error: '' } : { state: s.tlsRpt },
    findings: s.findings,
  };
}

/** A watched domain's tree with its id, mute and buttons. */
export function watchedReply(record: MailDomainRecord, state: MailDomainState | undefined, now: Date, note?: string): Reply {
  const muted = record.mutedUntil !== undefined && Date.parse(record.mutedUntil) > now.getTime();
  const extra = [`Watched as ${record.id}${record.label === undefined ? '' : ` (${clean(record.label, 64)})`}.${muted ? ` Muted until ${formatTime(record.mutedUntil!)}.` : ''}`];
  if (state === undefined) {
    return { title: `${clean(record.domain)}: not checked yet`, status: 'info', text: [...(note === undefined ? [] : [note]), ...extra], buttons: targetButtons(record.id) };
  }
  const reply = mailReply(stateToReport(record, state));
  reply.text = [...(note === undefined ? [] : [note]), ...extra, `Checked ${formatTime(state.checkedAt)}.`];
  reply.buttons = targetButtons(record.id);
  return reply;
}

/** The `list` lines of one domain: the domain, then each host under it. */
export function listLines(record: MailDomainRecord, state: MailDomainState | undefined, now: Date): string[] {
  const status = state === undefined ? 'new' : state.status;
  const days = state?.hosts.map((h) => h.daysLeft).filter((d): d is number => d !== null) ?? [];
  const verdict = state === undefined ? 'not checked yet' : days.length === 0 ? `${state.status}, no certificate` : `${state.status}, ${Math.min(...days)} days left`;
  const parts = [`[${status.toUpperCase()}]`, record.id, `mail ${clean(record.domain)} (${state?.hosts.length ?? 0} host${state?.hosts.length === 1 ? '' : 's'})`, '—', verdict];
  if (record.label !== undefined) parts.push(`— ${clean(record.label, 64)}`);
  if (record.mutedUntil !== undefined && Date.parse(record.mutedUntil) > now.getTime()) parts.push(`— muted until ${formatTime(record.mutedUntil)}`);
  const hosts = state?.hosts ?? [];
  return [parts.join(' '), ...hosts.map((h, i) => `    ${i === hosts.length - 1 ? '└' : '├'} ${hostLine(toMailHost(h), clean)}`)];
}

/** Smallest days left over the domain's hosts, for sorting `list` (like expirySortKey). */
export function domainSortKey(state: MailDomainState | undefined): number {
  if (state === undefined) return Number.MAX_SAFE_INTEGER;
  const days = state.hosts.map((h) => h.daysLeft).filter((d): d is number => d !== null);
  return days.length === 0 ? Number.MAX_SAFE_INTEGER - 1 : Math.min(...days);
}

const tone = (h: WatchedHost): ReplyStatus => (h.status === 'ok' ? 'info' : h.status);

/** A run found a host the domain did not have. */
export function hostAddedReply(record: MailDomainRecord, h: WatchedHost): Reply {
  return {
    title: `${domainName(record)}: new ${h.role === 'mx' ? 'MX host' : 'service'} ${clean(h.host)}:${h.port} (${clean(h.label, 40)})`,
    status: tone(h),
    text: ['DNS now lists this host for the domain; it is watched from this run on.', hostLine(toMailHost(h), clean), ...hostDetails(toMailHost(h), clean).slice(0, 6)],
    buttons: targetButtons(record.id),
  };
}

/** A host the domain no longer lists: retired, no longer checked. */
export function hostRemovedReply(record: MailDomainRecord, h: WatchedHost): Reply {
  return {
    title: `${domainName(record)}: ${clean(h.host)}:${h.port} (${clean(h.label, 40)}) is no longer a host`,
    status: 'info',
    text: [`DNS no longer lists it for ${clean(record.domain)}, so it was retired and is no longer checked; its alerts end here.`],
    buttons: targetButtons(record.id),
  };
}
