// The persisted outbox: entries `o:<key>` plus this replica's pending index segment.
//
// Idempotent enqueue: an entry is written only if no entry with its key exists, whatever its
// state; delivered entries are kept (with a TTL) so a late repeat of the decision is still
// recognised. Remaining race, documented: two replicas deciding the same event at the same
// instant (an on-demand check on each) could both write it; the scheduled run itself happens
// on one replica (distributed lock) and one process serializes checks per target.
import type { ChannelRef, Reply } from '../chat/types.ts';
import type { TypedKv } from '../store/kv.ts';
import { SCHEMA_VERSION, storedOutboxEntrySchema, type OutboxEntry } from '../store/schema.ts';
import type { SegmentIndex } from '../store/segments.ts';
import { outboxKey } from './keys.ts';

const PENDING = 'outbox';
/** How long delivered and failed entries are kept for idempotency and inspection. */
export const RETAIN_MS = 90 * 86_400_000;

/** A message to enqueue. */
export interface OutboxItem {
  targetId: string;
  event: string;
  channel: ChannelRef;
  message: Reply;
}

/** Outbox persistence. */
export class OutboxStore {
  private readonly kv: TypedKv;
  private readonly index: SegmentIndex;

  constructor(
    kv: TypedKv,
    index: SegmentIndex,
  ) {
    this.kv = kv;
    this.index = index;
  }

  /** Persists items not already known; returns the entries actually added. */
  async enqueue(items: readonly OutboxItem[], now: Date): Promise<OutboxEntry[]> {
    const added: OutboxEntry[] = [];
    const toIndex: string[] = [];
    const stillPending: string[] = [];
    for (const item of items) {
      const key = outboxKey(item.targetId, item.event);
      // Raw existence check: even an unreadable entry means "already decided".
      const existing = await this.kv.peek(`o:${key}`);
      if (existing.present) {
        if ((existing.value as { state?: unknown } | null | undefined)?.state === 'pending') stillPending.push(key);
        continue;
      }
      const entry: OutboxEntry = {
        key,
        channel: item.channel,
        message: item.message,
        origin: `${item.targetId} ${item.event}`.slice(0, 500),
        state: 'pending',
        attempts: 0,
        createdAt: now.toISOString(),
        notBefore: now.toISOString(),
      };
      // Entry first, then the index: a crash in between leaves an unindexed entry, which the
      // repeated decision finds by key and indexes (see below), so it is not lost.
      await this.kv.set(`o:${key}`, { v: SCHEMA_VERSION, ...entry });
      added.push(entry);
      toIndex.push(key);
    }
    if (stillPending.length > 0) {
      // Adopt only entries no replica indexes (a crash between entry and index write): one
      // that another replica's worker already owns would otherwise be delivered twice.
      const owned = new Set(await this.index.read(PENDING));
      toIndex.push(...stillPending.filter((k) => !owned.has(k)));
    }
    if (toIndex.length > 0) await this.index.add(PENDING, ...toIndex);
    return added;
  }

  /**
   * Pending entries of this replica, oldest first. An indexed entry that cannot be read (not
   * JSON, failing its schema, or written by a newer version) is reported by the store
   * (`store.invalid_value`) and skipped, but stays indexed, like an unreadable target: dropping
   * it lost the alert for good, and a newer replica's entry must survive an older one. It is
   * delivered once it reads again. The worker only polls, so each costs one log line per poll
   * interval, not a loop. The keys of those are added to `unreadable` when given.
   */
  async pending(unreadable?: string[]): Promise<OutboxEntry[]> {
    const keys = await this.index.readOwn(PENDING);
    const bad: string[] = [];
    const rows = await this.kv.getMany(
      keys.map((k) => `o:${k}`),
      storedOutboxEntrySchema,
      bad,
    );
    const badKeys = new Set(bad);
    const out: OutboxEntry[] = [];
    const stale: string[] = [];
    rows.forEach((r, i) => {
      const key = keys[i]!;
      if (r !== undefined && r.state === 'pending') out.push(strip(r));
      else if (badKeys.has(`o:${key}`)) unreadable?.push(key);
      // Gone, or readably delivered or failed: no longer pending.
      else stale.push(key);
    });
    if (stale.length > 0) await this.index.remove(PENDING, ...stale);
    // Stable sort: equal timestamps keep index (insertion) order, i.e. decision order.
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async get(key: string): Promise<OutboxEntry | undefined> {
    const r = await this.kv.get(`o:${key}`, storedOutboxEntrySchema);
    return r === undefined ? undefined : strip(r);
  }

  /** Records a successful delivery; the entry leaves the pending index. */
  async markDelivered(entry: OutboxEntry, now: Date): Promise<void> {
    await this.kv.set(`o:${entry.key}`, { v: SCHEMA_VERSION, ...entry, state: 'delivered', deliveredAt: now.toISOString(), lastError: undefined }, RETAIN_MS);
    await this.index.remove(PENDING, entry.key);
  }

  /** Gives up on an entry (permanent error or too many attempts). */
  async markFailed(entry: OutboxEntry, error: string): Promise<void> {
    await this.kv.set(`o:${entry.key}`, { v: SCHEMA_VERSION, ...entry, state: 'failed', lastError: error.slice(0, 1000) }, RETAIN_MS);
    await this.index.remove(PENDING, entry.key);
  }

  /** Keeps an entry pending until `notBefore`. */
  async reschedule(entry: OutboxEntry, notBefore: Date, error: string): Promise<OutboxEntry> {
    const next: OutboxEntry = { ...entry, attempts: entry.attempts + 1, notBefore: notBefore.toISOString(), lastError: error.slice(0, 1000) };
    await this.kv.set(`o:${entry.key}`, { v: SCHEMA_VERSION, ...next });
    return next;
  }
}

function strip(r: OutboxEntry & { v: number }): OutboxEntry {
  const { v: _v, ...rest } = r;
  return rest;
}
