// Index records without key iteration (which only some keyv backends offer).
//
// keyv has no compare-and-set, so a single shared index record would lose entries when two
// replicas read-modify-write it at once. Instead every replica writes only its OWN segment of
// each index; readers take the union of all replicas' segments. Within a process all segment
// writes go through one queue (see drain), so no addition is ever lost between replicas or
// within one.
//
// Scale: a segment is split into BUCKETS records `ix:<name>:<replicaId>:<bucket>` by a stable
// hash of the id, so an add or remove rewrites only the buckets of its own ids (~n/BUCKETS ids
// each) instead of the whole segment: seeding n targets is no longer quadratic. Readers fetch
// every bucket of every replica with one getMany. Replica ids contain no ':' (config.ts), so the
// key is unambiguous whatever the index name. BUCKETS and bucketOf are part of the stored
// format: changing either hides existing entries.
//
// Order: each entry carries a sequence number (microseconds since the epoch, strictly
// increasing within a process and past every number this replica stored before), and readers
// return ids oldest first, so callers that rely on insertion order (the outbox) keep it
// across buckets.
//
// The replica registry, the one record replicas share, is split the same way: replica ids are
// listed in REGISTRY_SLOTS records `ix:replicas:<slot>` by the bucket hash of the id (readers
// fetch every slot, plus the single `ix:replicas` record of older versions, with one getMany).
// A replica writes only its own slot, reads it back and rewrites it until it holds its id, so
// two new replicas can only overwrite each other when they hash to the same slot AND register in
// the same instant. The loser then notices at its next index write or read (each re-checks its
// slot) and registers again, so its segment becomes visible then. (Before the slots, two
// replicas starting together could stay invisible to each other until a restart.)
// Removals delete the entity record (the source of truth); ids left in another replica's
// segment point at nothing and are skipped; each replica prunes such ids from its own segments.
//
// Damage: a bucket that cannot be read (not JSON, fails its schema) is reported and its ids are
// missing from reads, which say so (readChecked), so a caller that can recover them (the
// channel indexes, from the all-targets index) does. A write to such a bucket cannot keep what
// it held: the rewritten bucket carries `lost`, and reads keep saying "damaged" until the caller
// has recovered the ids and called repaired(). (Before, the next add of an id in that bucket
// overwrote it silently and its other ids were gone for good.)
import type { TypedKv } from './kv.ts';
import { SCHEMA_VERSION, storedReplicasSchema, storedSegmentSchema, type StoredSegment } from './schema.ts';

/** The single registry record of older versions: still read, no longer written. */
const LEGACY_REGISTRY = 'ix:replicas';
/** Registry records (stored format, see above). */
const REGISTRY_SLOTS = 64;
const registryKeys = Array.from({ length: REGISTRY_SLOTS }, (_, s) => `${LEGACY_REGISTRY}:${s}`);
/** Buckets per replica and index (stored format, see above). */
export const BUCKETS = 64;

/** The bucket of an id: FNV-1a (32 bit) over its UTF-16 code units, stable across versions. */
export function bucketOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

/** One queued add, remove or repaired() mark, settled once its buckets are written. */
interface Op {
  name: string;
  kind: 'add' | 'remove' | 'repaired';
  ids: readonly string[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Per-replica index segments stored in keyv. */
export class SegmentIndex {
  private registered = false;
  private queue: Op[] = [];
  private draining = false;
  private lastSeq = 0;
  /** Index names whose stored sequence numbers lastSeq already covers. */
  private readonly seeded = new Set<string>();

  private readonly kv: TypedKv;
  readonly replicaId: string;

  constructor(
    kv: TypedKv,
    replicaId: string,
  ) {
    this.kv = kv;
    this.replicaId = replicaId;
  }

  /** Adds ids to this replica's segment of `name`. */
  add(name: string, ...ids: string[]): Promise<void> {
    return this.submit(name, 'add', ids);
  }

  /** Removes ids from this replica's own segment of `name` (others' segments are not touched). */
  remove(name: string, ...ids: string[]): Promise<void> {
    return this.submit(name, 'remove', ids);
  }

  /**
   * The caller has recovered (and added again) every id of `name` that damaged buckets hid:
   * this replica's buckets of `name` lose their `lost` mark. Queued like adds, so it follows them.
   */
  repaired(name: string): Promise<void> {
    return this.submit(name, 'repaired', allBuckets(name, this.replicaId));
  }

  /** Union of every replica's segment of `name`, without duplicates, oldest first. */
  async read(name: string): Promise<string[]> {
    return (await this.readChecked(name)).ids;
  }

  /**
   * Like read(), and whether some bucket could not be read (reported through the store's
   * invalid-value log): its ids are missing from `ids`, and the caller may rebuild them.
   */
  async readChecked(name: string): Promise<{ ids: string[]; damaged: boolean }> {
    return this.collect(name, await this.replicas());
  }

  /** Only this replica's segment of `name` (work this replica owns, like its outbox), oldest first. */
  async readOwn(name: string): Promise<string[]> {
    return (await this.collect(name, [this.replicaId])).ids;
  }

  private async collect(name: string, replicas: readonly string[]): Promise<{ ids: string[]; damaged: boolean }> {
    const keys = replicas.flatMap((r) => allBuckets(name, r));
    const unreadable: string[] = [];
    const buckets = await this.kv.getMany(keys, storedSegmentSchema, unreadable);
    const entries: [id: string, seq: number][] = [];
    for (const b of buckets) if (b !== undefined) b.ids.forEach((id, i) => entries.push([id, b.seq[i]!]));
    entries.sort((x, y) => x[1] - y[1]);
    return { ids: [...new Set(entries.map(([id]) => id))], damaged: unreadable.length > 0 || buckets.some((b) => b?.lost === true) };
  }

  private submit(name: string, kind: Op['kind'], ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ name, kind, ids: [...ids], resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /**
   * The only writer of this replica's buckets in this process: takes every queued operation,
   * applies them in order and writes each touched bucket once. Concurrent callers therefore
   * share round trips instead of queueing one read-modify-write each, and no two writes of
   * one bucket ever overlap (which would lose an addition).
   */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.apply(this.queue.splice(0));
    } finally {
      this.draining = false;
    }
  }

  private async apply(batch: readonly Op[]): Promise<void> {
    const failed = new Map<Op, unknown>();
    try {
      const work = this.plan(batch);
      if (batch.some((op) => op.kind === 'add')) await this.register();
      const keys = [...work.keys()];
      // The first write of an index in this process also reads its other buckets, to continue
      // the sequence past what an earlier process (same replica id) stored there.
      const fresh = [...new Set(batch.map((op) => op.name))].filter((n) => !this.seeded.has(n));
      const extra = fresh.flatMap((n) => allBuckets(n, this.replicaId)).filter((k) => !work.has(k));
      const unreadableKeys: string[] = [];
      const stored = await this.kv.getMany([...keys, ...extra], storedSegmentSchema, unreadableKeys);
      const unreadable = new Set(unreadableKeys);
      for (const b of stored) for (const seq of b?.seq ?? []) if (seq > this.lastSeq) this.lastSeq = seq;
      for (const n of fresh) this.seeded.add(n);
      await Promise.all(
        keys.map(async (key, k) => {
          const { ops, steps } = work.get(key)!;
          const next = this.update(stored[k], steps, unreadable.has(key));
          if (next === undefined) return;
          try {
            await this.kv.set(key, next);
          } catch (err) {
            // Only the operations with an id in this bucket failed; the others are stored.
            for (const op of ops) failed.set(op, err);
          }
        }),
      );
    } catch (err) {
      // Registration or the read failed: nothing of this batch was written.
      for (const op of batch) failed.set(op, err);
    }
    for (const op of batch) {
      if (failed.has(op)) op.reject(failed.get(op));
      else op.resolve();
    }
  }

  /** The batch grouped by bucket key: the operations touching it and their steps in order. */
  private plan(batch: readonly Op[]): Map<string, { ops: Set<Op>; steps: Step[] }> {
    const work = new Map<string, { ops: Set<Op>; steps: Step[] }>();
    for (const op of batch) {
      for (const id of op.ids) {
        // A repaired() op lists bucket keys, the others ids.
        const key = op.kind === 'repaired' ? id : bucketKey(op.name, this.replicaId, bucketOf(id));
        let w = work.get(key);
        if (w === undefined) work.set(key, (w = { ops: new Set(), steps: [] }));
        w.ops.add(op);
        w.steps.push([op.kind, id]);
      }
    }
    return work;
  }

  /**
   * A bucket after the steps, in order; undefined when they change nothing. An unreadable
   * bucket that must be rewritten is marked `lost` (see "Damage" above).
   */
  private update(stored: StoredSegment | undefined, steps: readonly Step[], unreadable: boolean): StoredSegment | undefined {
    const entries = new Map<string, number>();
    stored?.ids.forEach((id, i) => entries.set(id, stored.seq[i]!));
    let lost = unreadable || stored?.lost === true;
    let changed = false;
    for (const [kind, id] of steps) {
      if (kind === 'repaired') {
        // The caller re-added every id it could recover, so what a damaged bucket held is either
        // back or gone: an unreadable bucket is rewritten (readable, so no longer reported).
        if (lost) changed = true;
        lost = false;
      } else if (kind === 'add' && !entries.has(id)) {
        entries.set(id, this.nextSeq());
        changed = true;
      } else if (kind === 'remove' && entries.delete(id)) changed = true;
    }
    if (!changed) return undefined;
    return { v: SCHEMA_VERSION, ids: [...entries.keys()], seq: [...entries.values()], ...(lost ? { lost: true as const } : {}) };
  }

  private nextSeq(): number {
    this.lastSeq = Math.max(Date.now() * 1000, this.lastSeq + 1);
    return this.lastSeq;
  }

  private async replicas(): Promise<string[]> {
    const regs = await this.kv.getMany([LEGACY_REGISTRY, ...registryKeys], storedReplicasSchema);
    const list = [...new Set(regs.flatMap((r) => r?.replicas ?? []))];
    if (list.includes(this.replicaId)) return list;
    // A replica that has written is registered; missing means a concurrent registration in its
    // slot overwrote it: register again so other replicas see its segment.
    if (this.registered) {
      this.registered = false;
      await this.register();
    }
    // Our own segments are readable even before registration completed.
    return [...list, this.replicaId];
  }

  /** Makes sure this replica's slot lists it: one read when it does (every index write asks). */
  private async register(): Promise<void> {
    const key = registryKeys[bucketOf(this.replicaId) % REGISTRY_SLOTS]!;
    for (let attempt = 0; attempt < 5; attempt++) {
      const reg = await this.kv.get(key, storedReplicasSchema);
      if (reg?.replicas.includes(this.replicaId)) {
        this.registered = true;
        return;
      }
      await this.kv.set(key, { v: SCHEMA_VERSION, replicas: [...(reg?.replicas ?? []), this.replicaId] });
      // Read back after a random pause: a concurrent registration may have overwritten ours.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20 * (attempt + 1))));
    }
  }
}

/** One change to a bucket: an id added or removed, or the repaired() mark (id: the bucket key). */
type Step = [kind: Op['kind'], id: string];

function bucketKey(name: string, replicaId: string, bucket: number): string {
  return `ix:${name}:${replicaId}:${bucket}`;
}

function allBuckets(name: string, replicaId: string): string[] {
  return Array.from({ length: BUCKETS }, (_, b) => bucketKey(name, replicaId, b));
}
