// Watched mail domains in the keyv store, beside targets and in the same style: zod-parsed
// versioned values, per-replica index segments, no key scans. Key layout:
//   md:<id>    the domain record (channel, domain, label, thresholds, mute): written by commands
//   mds:<id>   its watch state (hosts, last results, findings, alert memory): written by runs
//   ix:mdomains:<replica>:<bucket>, ix:mchan:<channelKey>:<replica>:<bucket>
// Record and state are separate values so a `mute` and a scheduled run never overwrite each
// other's changes. Ids share the targets' alphabet and space (a new id is free in both).
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { ChannelRef } from '../chat/types.ts';
import type { WatchedEntry } from '../core/services.ts';
import { mailProblemCodes, type MailFinding } from '../mail/codes.ts';
import type { MailReport } from '../mail/check.ts';
import type { ProbeResult, Status } from '../probe/result.ts';
import type { Target } from '../probe/target.ts';
import type { TypedKv } from './kv.ts';
import { channelKey, readMany, recoverChannelIndex, strip } from './repository.ts';
import { alertStateSchema, entryId, iso, probeResultSchema, SCHEMA_VERSION, status, targetSchema, v, watchedEntryFields, type AlertState } from './schema.ts';
import type { SegmentIndex } from './segments.ts';

/** A watched mail domain as the commands see it. */
export interface MailDomainRecord extends WatchedEntry {
  /** Lower-case ASCII (punycode) domain. */
  domain: string;
}

// Field order is validation order (id, domain, then the owner fields), as before the fields were shared.
const recordFields = { id: entryId, domain: z.string().min(1).max(253), ...watchedEntryFields };
const storedRecordSchema = z.object({ v, ...recordFields });

const findingSchema: z.ZodType<MailFinding> = z.object({
  code: z.enum(mailProblemCodes),
  severity: z.enum(['warning', 'critical', 'note']),
  message: z.string().max(2000),
});

/** One host of a watched domain as last seen. */
export interface WatchedHost {
  /** Identity across runs: `protocol://host:port` (an MX preference change is the same host). */
  key: string;
  role: 'mx' | 'service';
  label: string;
  host: string;
  port: number;
  target: Target;
  /** ISO 8601: the run that first found it. */
  firstSeen: string;
  status: Status;
  daysLeft: number | null;
  results: ProbeResult[];
  dane: { state: 'none' | 'unsigned' | 'unusable' | 'match' | 'mismatch' | 'error'; records: { record: string; usable: boolean; reason?: string; matched: boolean }[] } | null;
  findings: MailFinding[];
  leafKeys: string[];
}

const hostSchema: z.ZodType<WatchedHost> = z.object({
  key: z.string().max(400),
  role: z.enum(['mx', 'service']),
  label: z.string().max(100),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  target: targetSchema,
  firstSeen: iso,
  status,
  daysLeft: z.number().nullable(),
  results: z.array(probeResultSchema).max(64),
  dane: z
    .object({
      state: z.enum(['none', 'unsigned', 'unusable', 'match', 'mismatch', 'error']),
      records: z.array(z.object({ record: z.string().max(200), usable: z.boolean(), reason: z.string().max(500).optional(), matched: z.boolean() })).max(64),
    })
    .nullable(),
  findings: z.array(findingSchema).max(64),
  leafKeys: z.array(z.string().regex(/^[a-f0-9]{64}$/)).max(64),
});

/** What a scheduled run or a check leaves behind for one domain. */
export interface MailDomainState {
  domainId: string;
  checkedAt: string;
  status: Status;
  source: MailReport['source'];
  /** Domain-level findings (discovery, MTA-STS, TLS-RPT). */
  findings: MailFinding[];
  mtaSts: { state: 'none' | 'invalid' | 'unavailable' | 'valid'; id?: string; mode?: 'enforce' | 'testing' | 'none' };
  tlsRpt: 'none' | 'unavailable' | 'valid' | 'invalid';
  hosts: WatchedHost[];
  /** Alert policy memory per host key, plus `domain` for the domain-level findings. */
  alerts: Record<string, AlertState>;
  /** Times each host key was announced as added: the episode in its added/removed idempotency keys. */
  episodes: Record<string, number>;
}

const stateFields = {
  domainId: z.string(),
  checkedAt: iso,
  status,
  source: z.enum(['mx', 'null-mx', 'implicit', 'none']),
  findings: z.array(findingSchema).max(64),
  mtaSts: z.object({ state: z.enum(['none', 'invalid', 'unavailable', 'valid']), id: z.string().max(64).optional(), mode: z.enum(['enforce', 'testing', 'none']).optional() }),
  tlsRpt: z.enum(['none', 'unavailable', 'valid', 'invalid']),
  hosts: z.array(hostSchema).max(64),
  alerts: z.record(z.string(), alertStateSchema),
  episodes: z.record(z.string(), z.number().int().min(0)),
};
const storedStateSchema = z.object({ v, ...stateFields });

const ID_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Mail domain records and their watch state. */
export class MailDomainRepository {
  private readonly kv: TypedKv;
  private readonly index: SegmentIndex;

  constructor(kv: TypedKv, index: SegmentIndex) {
    this.kv = kv;
    this.index = index;
  }

  /** A fresh id used by neither a target nor a mail domain. */
  async newId(): Promise<string> {
    for (let attempt = 0; attempt < 8; attempt++) {
      let id = '';
      for (let i = 0; i < 6; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
      const [t, m] = await Promise.all([this.kv.peek(`t:${id}`), this.kv.peek(`md:${id}`)]);
      if (!t.present && !m.present) return id;
    }
    throw new Error('could not find a free id after 8 attempts');
  }

  async add(record: MailDomainRecord): Promise<void> {
    // Record first, then the indexes: a crash in between leaves an unlisted record, never a dangling id.
    await this.kv.set(`md:${record.id}`, { v: SCHEMA_VERSION, ...record });
    await this.index.add('mdomains', record.id);
    await this.index.add(`mchan:${channelKey(record.channel)}`, record.id);
  }

  async update(record: MailDomainRecord): Promise<void> {
    const old = await this.get(record.id);
    if (old === undefined) throw new Error(`mail domain ${record.id} does not exist`);
    if (channelKey(old.channel) !== channelKey(record.channel) || old.domain !== record.domain) throw new Error('a mail domain cannot change channel or name');
    await this.kv.set(`md:${record.id}`, { v: SCHEMA_VERSION, ...record });
  }

  async get(id: string): Promise<MailDomainRecord | undefined> {
    return strip(await this.kv.get(`md:${id}`, storedRecordSchema));
  }

  async remove(id: string): Promise<boolean> {
    const record = await this.get(id);
    const existed = await this.kv.delete(`md:${id}`);
    await this.kv.delete(`mds:${id}`);
    await this.index.remove('mdomains', id);
    if (record !== undefined) await this.index.remove(`mchan:${channelKey(record.channel)}`, id);
    return existed || record !== undefined;
  }

  /**
   * After a late putState (a check recording while the domain was removed): when the record is
   * gone, deletes the state again; true when it did. remove() deletes the record first, so
   * whichever runs last leaves nothing behind. An unreadable record counts as there.
   */
  async dropStateIfRemoved(id: string): Promise<boolean> {
    if ((await this.kv.peek(`md:${id}`)).present) return false;
    await this.kv.delete(`mds:${id}`);
    return true;
  }

  /** One channel's domains (threads share their channel's), or all; sorted by domain. */
  async list(channel?: ChannelRef): Promise<MailDomainRecord[]> {
    const name = channel === undefined ? 'mdomains' : `mchan:${channelKey(channel)}`;
    const read = await this.index.readChecked(name);
    let ids = read.ids;
    if (read.damaged && channel !== undefined) ids = await this.rebuildChannelIndex(name, channel, ids);
    const rows = await this.kv.getMany(
      ids.map((id) => `md:${id}`),
      storedRecordSchema,
    );
    const out: MailDomainRecord[] = [];
    const gone: string[] = [];
    rows.forEach((r, i) => (r === undefined ? gone.push(ids[i]!) : out.push(strip(r))));
    if (gone.length > 0) {
      // Removed (maybe by another replica): drop from our own segment; unreadable records stay indexed.
      const still = await Promise.all(gone.map(async (id) => ((await this.kv.peek(`md:${id}`)).present ? null : id)));
      const drop = still.filter((id): id is string => id !== null);
      if (drop.length > 0) await this.index.remove(name, ...drop);
    }
    return out.sort((a, b) => a.domain.localeCompare(b.domain) || a.id.localeCompare(b.id));
  }

  private rebuildChannelIndex(name: string, channel: ChannelRef, known: readonly string[]): Promise<string[]> {
    return recoverChannelIndex({ kv: this.kv, index: this.index, all: 'mdomains', name, prefix: 'md:', schema: storedRecordSchema, channel, known });
  }

  async getState(id: string): Promise<MailDomainState | undefined> {
    return strip(await this.kv.get(`mds:${id}`, storedStateSchema));
  }

  getStates(ids: readonly string[]): Promise<Map<string, MailDomainState>> {
    return readMany(this.kv, 'mds:', ids, storedStateSchema);
  }

  async putState(state: MailDomainState): Promise<void> {
    await this.kv.set(`mds:${state.domainId}`, { v: SCHEMA_VERSION, ...state });
  }
}
