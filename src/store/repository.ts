// The typed repository over keyv: targets, latest results, alert state and channel settings.
// Key layout (namespace "certwatch"):
//   t:<id>            target record          l:<id>  latest results      a:<id>  alert state
//   s:<channelKey>    channel settings       ix:targets:<replica>:<bucket>, ix:chan:<channelKey>:<replica>:<bucket>
// Index segments are explained in segments.ts. Nothing here iterates keys, so the same code
// runs on SQLite, PostgreSQL and Redis.
import { randomInt } from 'node:crypto';
import type { z } from 'zod';
import type { ChannelRef } from '../chat/types.ts';
import type { ChannelSettings, LatestResults, TargetRecord, TargetRepository } from '../core/services.ts';
import type { Target } from '../probe/target.ts';
import type { TypedKv } from './kv.ts';
import {
  SCHEMA_VERSION,
  storedAlertStateSchema,
  storedLatestSchema,
  storedSettingsSchema,
  storedTargetSchema,
  type AlertState,
} from './schema.ts';
import { SegmentIndex } from './segments.ts';

/** The channel part that owns targets and settings: a Telegram chat or Slack channel (topics share it). */
export function channelKey(channel: ChannelRef): string {
  return `${channel.platform}:${channel.channelId}`;
}

/**
 * A channel index whose buckets could not be read (reported already), or were rewritten while
 * unreadable (segments.ts, "Damage"): the ids it lost are recovered from the all-entries index
 * `all` by the records' own channel, written back to this replica's segment, and the index is
 * marked repaired. One garbage bucket must not hide a channel's targets or mail domains from
 * list and check. Used for targets (here) and mail domains (mail-domains.ts).
 */
export async function recoverChannelIndex<S extends z.ZodType<{ channel: ChannelRef }>>(o: {
  kv: TypedKv;
  index: SegmentIndex;
  all: string;
  name: string;
  /** Record key prefix ("t:", "md:"). */
  prefix: string;
  schema: S;
  channel: ChannelRef;
  known: readonly string[];
}): Promise<string[]> {
  const have = new Set(o.known);
  const candidates = (await o.index.read(o.all)).filter((id) => !have.has(id));
  const records = await o.kv.getMany(candidates.map((id) => `${o.prefix}${id}`), o.schema);
  const key = channelKey(o.channel);
  const found = candidates.filter((_, i) => {
    const r = records[i] as { channel: ChannelRef } | undefined;
    return r !== undefined && channelKey(r.channel) === key;
  });
  if (found.length > 0) await o.index.add(o.name, ...found);
  // Every id the damaged buckets hid is back: reads need not rebuild again.
  await o.index.repaired(o.name);
  return [...o.known, ...found];
}

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Store-backed TargetRepository plus the bot core's own entities. */
export class KeyvRepository implements TargetRepository {
  readonly index: SegmentIndex;

  readonly kv: TypedKv;
  /** Settings for channels that have none stored. */
  private readonly defaults: ChannelSettings;

  constructor(
    kv: TypedKv,
    replicaId: string,
    defaults: ChannelSettings,
  ) {
    this.kv = kv;
    this.defaults = defaults;
    this.index = new SegmentIndex(kv, replicaId);
  }

  /** A fresh short id not used by any stored target. */
  async newId(): Promise<string> {
    for (;;) {
      let id = '';
      for (let i = 0; i < 6; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
      if (!(await this.kv.peek(`t:${id}`)).present) return id;
    }
  }

  async addTarget(record: TargetRecord): Promise<void> {
    // Record first, then the indexes: a crash in between leaves an unlisted record, never a
    // listed id without a record.
    await this.kv.set(`t:${record.id}`, { v: SCHEMA_VERSION, ...record });
    await this.index.add('targets', record.id);
    await this.index.add(`chan:${channelKey(record.channel)}`, record.id);
  }

  async updateTarget(record: TargetRecord): Promise<void> {
    const old = await this.getTarget(record.id);
    if (old === undefined) throw new Error(`target ${record.id} does not exist`);
    if (channelKey(old.channel) !== channelKey(record.channel)) throw new Error('a target cannot move to another channel');
    await this.kv.set(`t:${record.id}`, { v: SCHEMA_VERSION, ...record });
  }

  async getTarget(id: string): Promise<TargetRecord | undefined> {
    return strip(await this.kv.get(`t:${id}`, storedTargetSchema));
  }

  async removeTarget(id: string): Promise<boolean> {
    const record = await this.getTarget(id);
    const existed = await this.kv.delete(`t:${id}`);
    await Promise.all([this.kv.delete(`l:${id}`), this.kv.delete(`a:${id}`)]);
    await this.index.remove('targets', id);
    if (record !== undefined) await this.index.remove(`chan:${channelKey(record.channel)}`, id);
    return existed || record !== undefined;
  }

  /**
   * After a late write of a target's latest result or alert state (a check that was recording
   * while the target was removed): when the record is gone, deletes them again so nothing of a
   * removed target stays stored; true when it did. removeTarget deletes the record before them,
   * so whichever of the two runs last leaves nothing behind. An unreadable record counts as there.
   */
  async dropIfRemoved(id: string): Promise<boolean> {
    if ((await this.kv.peek(`t:${id}`)).present) return false;
    await Promise.all([this.kv.delete(`l:${id}`), this.kv.delete(`a:${id}`)]);
    return true;
  }

  /** Targets of one channel (any thread in it), or every target; sorted by id for stable output. */
  async listTargets(channel?: ChannelRef): Promise<TargetRecord[]> {
    const name = channel === undefined ? 'targets' : `chan:${channelKey(channel)}`;
    const read = await this.index.readChecked(name);
    let ids = read.ids;
    if (read.damaged && channel !== undefined) ids = await this.rebuildChannelIndex(name, channel, ids);
    const records = await this.kv.getMany(
      ids.map((id) => `t:${id}`),
      storedTargetSchema,
    );
    const out: TargetRecord[] = [];
    const gone: string[] = [];
    records.forEach((r, i) => {
      if (r === undefined) gone.push(ids[i]!);
      else out.push(strip(r));
    });
    // Ids whose record was removed (possibly by another replica): drop them from our segment.
    if (gone.length > 0) await this.pruneGone(name, gone);
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Ids of every stored target, oldest first (a scheduled run pages through them). */
  async targetIds(): Promise<string[]> {
    return this.index.read('targets');
  }

  /** The stored records of `ids`, in that order; ids without a readable record are skipped. */
  async getTargets(ids: readonly string[]): Promise<TargetRecord[]> {
    const records = await this.kv.getMany(
      ids.map((id) => `t:${id}`),
      storedTargetSchema,
    );
    return records.flatMap((r) => (r === undefined ? [] : [strip(r)]));
  }

  async findDuplicate(channel: ChannelRef, target: Target): Promise<TargetRecord | undefined> {
    const same = (t: Target): boolean =>
      t.host === target.host && t.port === target.port && t.protocol === target.protocol && t.mode === target.mode && t.servername === target.servername;
    return (await this.listTargets(channel)).find((r) => same(r.target));
  }

  async getLatest(targetId: string): Promise<LatestResults | undefined> {
    return strip(await this.kv.get(`l:${targetId}`, storedLatestSchema));
  }

  /** Latest results for many targets at once (missing ones are absent from the map). */
  getLatestMany(targetIds: readonly string[]): Promise<Map<string, LatestResults>> {
    return readMany(this.kv, 'l:', targetIds, storedLatestSchema);
  }

  async recordLatest(latest: LatestResults): Promise<void> {
    await this.kv.set(`l:${latest.targetId}`, { v: SCHEMA_VERSION, ...latest });
  }

  async getAlertState(targetId: string): Promise<AlertState | undefined> {
    return strip(await this.kv.get(`a:${targetId}`, storedAlertStateSchema));
  }

  async putAlertState(state: AlertState): Promise<void> {
    await this.kv.set(`a:${state.targetId}`, { v: SCHEMA_VERSION, ...state });
  }

  async getChannelSettings(channel: ChannelRef): Promise<ChannelSettings> {
    const stored = strip(await this.kv.get(`s:${channelKey(channel)}`, storedSettingsSchema));
    return stored ?? { ...this.defaults, thresholds: [...this.defaults.thresholds] };
  }

  async setChannelSettings(channel: ChannelRef, settings: ChannelSettings): Promise<void> {
    await this.kv.set(`s:${channelKey(channel)}`, { v: SCHEMA_VERSION, ...settings });
  }

  private rebuildChannelIndex(name: string, channel: ChannelRef, known: readonly string[]): Promise<string[]> {
    return recoverChannelIndex({ kv: this.kv, index: this.index, all: 'targets', name, prefix: 't:', schema: storedTargetSchema, channel, known });
  }

  private async pruneGone(name: string, gone: string[]): Promise<void> {
    // Re-check under no assumption of timing: an id whose record reappeared is kept.
    // An unreadable record is still there (reported, not listed): its id stays indexed.
    const still = await Promise.all(gone.map(async (id) => ((await this.kv.peek(`t:${id}`)).present ? null : id)));
    const drop = still.filter((id): id is string => id !== null);
    if (drop.length > 0) await this.index.remove(name, ...drop);
  }
}

/** A stored value without its schema version. */
/** The stored values of `ids` under `prefix`, by id, without their version; missing or unreadable ones are absent. */
export async function readMany<S extends z.ZodType<{ v: number }>>(kv: TypedKv, prefix: string, ids: readonly string[], schema: S): Promise<Map<string, Omit<z.infer<S>, 'v'>>> {
  const rows = await kv.getMany(
    ids.map((id) => `${prefix}${id}`),
    schema,
  );
  const out = new Map<string, Omit<z.infer<S>, 'v'>>();
  rows.forEach((r, i) => {
    if (r !== undefined) out.set(ids[i]!, strip(r as z.infer<S>));
  });
  return out;
}

export function strip<T extends { v: number }>(value: T): Omit<T, 'v'>;
export function strip<T extends { v: number }>(value: T | undefined): Omit<T, 'v'> | undefined;
export function strip<T extends { v: number }>(value: T | undefined): Omit<T, 'v'> | undefined {
  if (value === undefined) return undefined;
  const { v: _v, ...rest } = value;
  return rest;
}
