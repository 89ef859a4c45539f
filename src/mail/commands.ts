// The chat side of mail domains, kept out of commands/*.ts so each of those stays a small
// delegating branch: `add mail`, `check mail`, and remove/mute/unmute/check/list of a watched
// domain named by its id or its domain name in the owning channel.
import type { ChannelRef, Respond } from '../chat/types.ts';
import { formatTime } from '../chat/format.ts';
import { formatDuration } from '../commands/duration.ts';
import { ID_PATTERN } from '../commands/ids.ts';
import { findTarget } from '../commands/resolve.ts';
import type { CommandContext } from '../commands/types.ts';
import { UserError } from '../commands/types.ts';
import type { Services } from '../core/services.ts';
import type { Status } from '../probe/result.ts';
import type { MailDomainRecord } from '../store/mail-domains.ts';
import { parseMailDomain } from './domain.ts';
import { mailReply } from './reply.ts';
import { domainName, domainSortKey, listLines, watchedReply } from './watch-reply.ts';

type Ctx = Pick<CommandContext<unknown>, 'channel' | 'user' | 'services' | 'respond' | 'prefix' | 'log'>;

function domainOf(text: string): string {
  try {
    return parseMailDomain(text);
  } catch (err) {
    throw new UserError((err as Error).message, true);
  }
}

/** `check mail <domain>`: the watched domain when this channel watches it, else one ad hoc check. */
export async function checkMailCommand(domainText: string, services: Services, respond: Respond, channel?: ChannelRef, prefix = '/'): Promise<void> {
  if (services.mail === undefined) throw new UserError('mail domain checks are not enabled in this deployment');
  const domain = domainOf(domainText);
  const watched = channel === undefined || services.mailWatch === undefined ? [] : await services.mailWatch.repo.list(channel);
  const record = watched.find((d) => d.domain === domain && sameChannel(d, channel!));
  if (record !== undefined) {
    await respond(watchedReply(record, await services.mailWatch!.check(record), services.now()));
    return;
  }
  const report = await services.mail.checkDomain(domain);
  const note = services.mailWatch === undefined ? 'Checked once; mail domains are not watched in this deployment.' : `Checked once; not watched here (${prefix}add mail ${domain} watches it).`;
  await respond(mailReply(report, note));
}

/** `add mail <domain> [label]`: stores the domain in this channel (one entry of the channel limit) and checks it. */
export async function addMailCommand(domainText: string, label: string | undefined, thresholds: number[] | undefined, ctx: Ctx): Promise<void> {
  const { services, channel, respond, prefix } = ctx;
  const watch = services.mailWatch;
  if (watch === undefined) throw new UserError('watching mail domains is not enabled in this deployment');
  const domain = domainOf(domainText);
  const max = services.limits.maxTargetsPerChannel;
  const out = await watch.add(channel, ctx.user, domain, { ...(label === undefined ? {} : { label }), ...(thresholds === undefined ? {} : { thresholds }), max });
  if ('existing' in out) {
    await respond({ title: `${domain} is already watched here as ${out.existing.id}`, status: 'info', text: [`Nothing was added. ${prefix}check ${out.existing.id} checks it now.`] });
    return;
  }
  if ('full' in out) {
    throw new UserError(`This channel already watches ${out.full} targets and mail domains, the limit is ${max}. Remove one first (${prefix}remove <id>).`);
  }
  if (out.error !== undefined) {
    ctx.log.error({ event: 'add_mail_first_check_failed', domainId: out.added.id, err: out.error }, 'first mail check failed');
  }
  const note = out.state === undefined ? `Added as ${out.added.id}, but the first check could not run; it will be checked on schedule.` : `Added as ${out.added.id}; every scheduled run re-resolves its hosts.`;
  await respond(watchedReply(out.added, out.state, services.now(), note));
}

function sameChannel(record: MailDomainRecord, channel: ChannelRef): boolean {
  return record.channel.platform === channel.platform && record.channel.channelId === channel.channelId;
}

/**
 * The channel's watched domain named by `ref` (its id, or its domain name), or undefined. A
 * name that also names one of the channel's targets is ambiguous: the user is asked for the id.
 */
export async function findMailDomain(services: Services, channel: ChannelRef, ref: string): Promise<MailDomainRecord | undefined> {
  const watch = services.mailWatch;
  if (watch === undefined) return undefined;
  const text = ref.trim().toLowerCase();
  if (ID_PATTERN.test(text)) {
    const byId = await watch.repo.get(text);
    if (byId !== undefined && sameChannel(byId, channel)) return byId;
  }
  let domain: string;
  try {
    domain = parseMailDomain(text);
  } catch {
    return undefined;
  }
  const found = (await watch.repo.list(channel)).find((d) => d.domain === domain && sameChannel(d, channel));
  if (found === undefined) return undefined;
  const target = await findTarget(services, channel, ref);
  if (target !== undefined) {
    throw new UserError(`"${ref.slice(0, 80)}" names both the target ${target.id} and the mail domain ${found.id} here; use the id.`);
  }
  return found;
}

/** `remove`, `unmute` or `check` of a watched domain; false when `ref` names none here. */
export async function mailRefCommand(kind: 'remove' | 'unmute' | 'check', ref: string, ctx: Ctx): Promise<boolean> {
  const { services, channel, respond } = ctx;
  const record = await findMailDomain(services, channel, ref);
  if (record === undefined) return false;
  const watch = services.mailWatch!;
  if (kind === 'remove') {
    await watch.repo.remove(record.id);
    await respond({ title: `Removed mail domain ${domainName(record)} (${record.id}) and its hosts`, status: 'info' });
  } else if (kind === 'unmute') {
    const wasMuted = record.mutedUntil !== undefined && Date.parse(record.mutedUntil) > services.now().getTime();
    const { mutedUntil: _, ...rest } = record;
    await watch.repo.update(rest);
    await respond({ title: wasMuted ? `Unmuted mail domain ${domainName(record)} (${record.id})` : `Mail domain ${domainName(record)} (${record.id}) was not muted`, status: 'info' });
  } else {
    await respond(watchedReply(record, await watch.check(record), services.now()));
  }
  return true;
}

/** `mute <domain|id> <duration>` of a watched domain; false when `ref` names none here. */
export async function muteMailCommand(ref: string, ms: number, ctx: Ctx): Promise<boolean> {
  const { services, channel, respond, prefix } = ctx;
  const record = await findMailDomain(services, channel, ref);
  if (record === undefined) return false;
  const until = new Date(services.now().getTime() + ms).toISOString();
  await services.mailWatch!.repo.update({ ...record, mutedUntil: until });
  await respond({
    title: `Muted mail domain ${domainName(record)} (${record.id}) for ${formatDuration(ms)}`,
    status: 'info',
    text: [`No alerts for it or its hosts until ${formatTime(until)}. ${prefix}unmute ${record.id} ends it early.`],
  });
  return true;
}

/** One `list` entry per watched domain: the domain line, then its hosts. */
export interface MailListEntry {
  sortKey: number;
  status: Status | undefined;
  lines: string[];
}

/** The mail domains this channel watches (none when mail watching is not wired). */
export async function channelMailDomains(services: Services, channel: ChannelRef): Promise<MailDomainRecord[]> {
  const watch = services.mailWatch;
  if (watch === undefined) return [];
  return (await watch.repo.list(channel)).filter((d) => sameChannel(d, channel));
}

/** This channel's watched domains as `list` entries. */
export async function mailListEntries(services: Services, channel: ChannelRef, now: Date): Promise<MailListEntry[]> {
  const watch = services.mailWatch;
  if (watch === undefined) return [];
  const records = await channelMailDomains(services, channel);
  const states = await watch.repo.getStates(records.map((r) => r.id));
  return records.map((r) => {
    const s = states.get(r.id);
    return { sortKey: domainSortKey(s), status: s?.status, lines: listLines(r, s, now) };
  });
}
