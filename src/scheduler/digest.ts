// The optional per-channel digest: one summary message per channel that has digests on,
// posted through the outbox (so it is retried and never sent twice for the same fire).
import { displayName } from '../alerts/messages.ts';
import { expiryText, soonestCertificate } from '../chat/format.ts';
import type { ChannelRef, Reply } from '../chat/types.ts';
import type { LatestResults, TargetRecord } from '../core/services.ts';
import type { OutboxStore } from '../outbox/store.ts';
import { channelKey, type KeyvRepository } from '../store/repository.ts';

/** What the digest needs. */
export interface DigestDeps {
  repo: KeyvRepository;
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
  for (let i = 0; i < ids.length; i += PAGE) {
    const page = await deps.repo.getTargets(ids.slice(i, i + PAGE));
    const latest = await deps.repo.getLatestMany(page.map((t) => t.id));
    for (const t of page) {
      const key = channelKey(t.channel);
      let entry = channels.get(key);
      if (entry === undefined) {
        const channel: ChannelRef = { platform: t.channel.platform, channelId: t.channel.channelId };
        entry = { channel, digest: (await deps.repo.getChannelSettings(channel)).digest ? new ChannelDigest() : null };
        channels.set(key, entry);
      }
      entry.digest?.add(t, latest.get(t.id));
    }
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
  /** The first MAX_ITEMS rows in digest order. */
  private readonly top: Row[] = [];
  /** Per status: how many, and its first row in digest order (the counts are listed in that order). */
  private readonly statuses = new Map<string, { count: number; first: Row }>();

  add(t: TargetRecord, l: LatestResults | undefined): void {
    const soonest = l === undefined ? undefined : soonestCertificate(l.results);
    const cert = soonest?.certificate ?? null;
    const row: Row = {
      id: t.id,
      name: displayName(t),
      status: l?.status ?? 'unchecked',
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
      title: `Certificate digest: ${this.total} target${this.total === 1 ? '' : 's'}`,
      status: worst === undefined ? 'ok' : (worst as Reply['status']),
      text: [counts.map(([s, { count }]) => `${count} ${s}`).join(', ')],
      items,
    };
  }
}
