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

/** Enqueues one digest per channel with `digest` on; returns how many were enqueued. */
export async function postDigest(deps: DigestDeps, now: Date): Promise<number> {
  const all = await deps.repo.listTargets();
  const byChannel = new Map<string, TargetRecord[]>();
  for (const t of all) {
    const k = channelKey(t.channel);
    byChannel.set(k, [...(byChannel.get(k) ?? []), t]);
  }
  const latest = await deps.repo.getLatestMany(all.map((t) => t.id));
  let enqueued = 0;
  for (const [key, targets] of byChannel) {
    const first = targets[0]!;
    const channel: ChannelRef = { platform: first.channel.platform, channelId: first.channel.channelId };
    if (!(await deps.repo.getChannelSettings(channel)).digest) continue;
    // One digest per channel and hour of the fire: a repeated fire (restart) is deduplicated.
    const event = `digest:${now.toISOString().slice(0, 13)}`;
    const added = await deps.outbox.enqueue([{ targetId: `chan:${key}`, event, channel, message: digestReply(targets, latest) }], now);
    enqueued += added.length;
  }
  if (enqueued > 0) deps.onEnqueued?.();
  return enqueued;
}

/** The digest text: every target of a channel, soonest expiry first. */
export function digestReply(targets: TargetRecord[], latest: Map<string, LatestResults>): Reply {
  const rows = targets.map((t) => {
    const l = latest.get(t.id);
    const soonest = l === undefined ? undefined : soonestCertificate(l.results);
    const min = soonest?.certificate == null ? null : soonest.certificate.daysLeft;
    // The same words as every other reply ("expired 30 days ago", never "-31 days left").
    const when = soonest?.certificate == null ? null : expiryText(soonest.certificate, soonest.checkedAt);
    return { t, status: l?.status ?? 'unchecked', min, when };
  });
  rows.sort((a, b) => (a.min ?? Infinity) - (b.min ?? Infinity) || a.t.id.localeCompare(b.t.id));
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const items = rows.slice(0, MAX_ITEMS).map((r) => `${r.status.toUpperCase()} ${displayName(r.t)}: ${r.when ?? 'no certificate'} [${r.t.id}]`);
  if (rows.length > MAX_ITEMS) items.push(`... and ${rows.length - MAX_ITEMS} more`);
  const worst = ['error', 'critical', 'warning'].find((s) => counts.has(s));
  return {
    title: `Certificate digest: ${targets.length} target${targets.length === 1 ? '' : 's'}`,
    status: worst === undefined ? 'ok' : (worst as Reply['status']),
    text: [[...counts].map(([s, n]) => `${n} ${s}`).join(', ')],
    items,
  };
}
