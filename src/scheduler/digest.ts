// The optional per-channel digest: one summary message per channel that has digests on,
// posted through the outbox (so it is retried and never sent twice for the same fire).
import { displayName } from '../alerts/messages.ts';
import { expiryText, soonestCertificate } from '../chat/format.ts';
import type { ChannelRef, Reply } from '../chat/types.ts';
import type { LatestResults, TargetRecord } from '../core/services.ts';
import type { OutboxStore } from '../outbox/store.ts';
import type { ProbeResult } from '../probe/result.ts';
import type { MailDomainRecord, MailDomainRepository, MailDomainState } from '../store/mail-domains.ts';
import { channelKey, type KeyvRepository } from '../store/repository.ts';
import { domainName } from '../mail/watch-reply.ts';

/** What the digest needs. */
export interface DigestDeps {
  repo: KeyvRepository;
  /** Watched mail domains (src/store/mail-domains.ts): one digest row each, beside the targets. */
  mailDomains?: Pick<MailDomainRepository, 'list' | 'getStates'> | undefined;
  outbox: OutboxStore;
  onEnqueued?: () => void;
}

/** Most lines in one digest (the rest is counted). */
const MAX_ITEMS = 50;

/** Targets read per store round trip. */
const PAGE = 500;

/**
 * Enqueues one digest per channel with `digest` on; returns how many were enqueued.
 * Pages through the targets (issue 9: never every record and latest result at once) and keeps
 * per channel only its counts and its MAX_ITEMS soonest-expiring rows.
 */
export async function postDigest(deps: DigestDeps, now: Date): Promise<number> {
  const ids = await deps.repo.targetIds();
  const channels = new Map<string, { channel: ChannelRef; digest: ChannelDigest | null }>();
  const digestOf = async (ref: ChannelRef): Promise<ChannelDigest | null> => {
    const key = channelKey(ref);
    let entry = channels.get(key);
    if (entry === undefined) {
      const channel: ChannelRef = { platform: ref.platform, channelId: ref.channelId };
      entry = { channel, digest: (await deps.repo.getChannelSettings(channel)).digest ? new ChannelDigest() : null };
      channels.set(key, entry);
    }
    return entry.digest;
  };
  for (let i = 0; i < ids.length; i += PAGE) {
    const page = await deps.repo.getTargets(ids.slice(i, i + PAGE));
    const latest = await deps.repo.getLatestMany(page.map((t) => t.id));
    for (const t of page) (await digestOf(t.channel))?.add(t, latest.get(t.id));
  }
  const domains = (await deps.mailDomains?.list()) ?? [];
  for (let i = 0; i < domains.length; i += PAGE) {
    const page = domains.slice(i, i + PAGE);
    const states = await deps.mailDomains!.getStates(page.map((d) => d.id));
    for (const d of page) (await digestOf(d.channel))?.addDomain(d, states.get(d.id));
  }
  let enqueued = 0;
  for (const [key, { channel, digest }] of channels) {
    if (digest === null) continue;
    // One digest per channel and hour of the fire: a repeated fire (restart) is deduplicated.
    const event = `digest:${now.toISOString().slice(0, 13)}`;
    const added = await deps.outbox.enqueue([{ targetId: `chan:${key}`, event, channel, message: digest.reply() }], now);
    enqueued += added.length;
  }
  if (enqueued > 0) deps.onEnqueued?.();
  return enqueued;
}

/** The digest text: every target of a channel, soonest expiry first. */
export function digestReply(targets: TargetRecord[], latest: Map<string, LatestResults>): Reply {
  const digest = new ChannelDigest();
  for (const t of targets) digest.add(t, latest.get(t.id));
  return digest.reply();
}

interface Row {
  id: string;
  name: string;
  status: string;
  min: number | null;
  /** The same words as every other reply ("expired 30 days ago", never "-31 days left"). */
  when: string | null;
}

/** Soonest expiry first, then by id. */
const before = (a: Row, b: Row): number => (a.min ?? Infinity) - (b.min ?? Infinity) || a.id.localeCompare(b.id);

/** One channel's digest, built one target at a time in bounded memory. */
export class ChannelDigest {
  private total = 0;
  private domains = 0;
  /** The first MAX_ITEMS rows in digest order. */
  private readonly top: Row[] = [];
  /** Per status: how many, and its first row in digest order (the counts are listed in that order). */
  private readonly statuses = new Map<string, { count: number; first: Row }>();

  add(t: TargetRecord, l: LatestResults | undefined): void {
    this.addRow(t.id, displayName(t), l?.status, l?.results ?? []);
  }

  /** A watched mail domain: one row, its soonest-expiring host certificate and its status. */
  addDomain(d: MailDomainRecord, s: MailDomainState | undefined): void {
    this.domains++;
    this.addRow(d.id, `mail ${domainName(d)}`, s?.status, s?.hosts.flatMap((h) => h.results) ?? []);
  }

  private addRow(id: string, name: string, status: string | undefined, results: readonly ProbeResult[]): void {
    const soonest = soonestCertificate(results);
    const cert = soonest?.certificate ?? null;
    const row: Row = {
      id,
      name,
      status: status ?? 'unchecked',
      min: cert === null ? null : cert.daysLeft,
      when: cert === null || soonest === undefined ? null : expiryText(cert, soonest.checkedAt),
    };
    this.total++;
    const s = this.statuses.get(row.status);
    if (s === undefined) this.statuses.set(row.status, { count: 1, first: row });
    else {
      s.count++;
      if (before(row, s.first) < 0) s.first = row;
    }
    const last = this.top.at(-1);
    if (this.top.length >= MAX_ITEMS && last !== undefined && !(before(row, last) < 0)) return;
    let at = this.top.length;
    while (at > 0 && before(row, this.top[at - 1]!) < 0) at--;
    this.top.splice(at, 0, row);
    if (this.top.length > MAX_ITEMS) this.top.pop();
  }

  reply(): Reply {
    const items = this.top.map((r) => `${r.status.toUpperCase()} ${r.name}: ${r.when ?? 'no certificate'} [${r.id}]`);
    if (this.total > MAX_ITEMS) items.push(`... and ${this.total - MAX_ITEMS} more`);
    const counts = [...this.statuses].sort(([, a], [, b]) => before(a.first, b.first));
    const worst = ['error', 'critical', 'warning'].find((s) => this.statuses.has(s));
    return {
      title: `Certificate digest: ${this.total - this.domains} target${this.total - this.domains === 1 ? '' : 's'}${this.domains === 0 ? '' : ` and ${this.domains} mail domain${this.domains === 1 ? '' : 's'}`}`,
      status: worst === undefined ? 'ok' : (worst as Reply['status']),
      text: [counts.map(([s, { count }]) => `${count} ${s}`).join(', ')],
      items,
    };
  }
}
