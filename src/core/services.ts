// The contract between the command layer (commands/, src/commands) and the bot core
// (store, monitor, scheduler). Commands see only these interfaces, so they are tested
// with an in-memory keyv and a fake probe.
import type { ProbeResult, Status } from '../probe/result.ts';
import type { Target } from '../probe/target.ts';
import type { ChannelRef, UserRef } from '../chat/types.ts';
import type { MailReport } from '../mail/check.ts';
import type { MailWatch } from '../mail/watch.ts';

/** What every watched entry (a target, a mail domain) carries: `entryId` and `watchedEntryFields` in src/store/schema.ts must match. */
export interface WatchedEntry {
  /** Short stable id shown to users, e.g. "k3x9p2". */
  id: string;
  channel: ChannelRef;
  addedBy: UserRef;
  /** ISO 8601 */
  addedAt: string;
  label?: string;
  /** Per-entry alert thresholds in days (overrides the channel's). */
  thresholds?: number[];
  /** ISO 8601; alerts are quiet until then. */
  mutedUntil?: string;
}

/** A monitored endpoint as stored (zod schema in src/store/schema.ts must match). */
export interface TargetRecord extends WatchedEntry {
  target: Target;
  /** PEM of extra CA certificates trusted for this target only. */
  caPem?: string;
}

/** Latest outcome for one target: one result per address. */
export interface LatestResults {
  targetId: string;
  /** ISO 8601 */
  checkedAt: string;
  status: Status;
  results: ProbeResult[];
}

/** Per-channel alert settings. */
export interface ChannelSettings {
  thresholds: number[];
  /** Consecutive failing results before a problem is announced. */
  failAfter: number;
  digest: boolean;
}

/** Typed access to stored state; backed by keyv (SQLite by default, Redis/Postgres shared). */
export interface TargetRepository {
  addTarget(record: TargetRecord): Promise<void>;
  updateTarget(record: TargetRecord): Promise<void>;
  getTarget(id: string): Promise<TargetRecord | undefined>;
  removeTarget(id: string): Promise<boolean>;
  listTargets(channel?: ChannelRef): Promise<TargetRecord[]>;
  /** The target in this channel with the same host, port, protocol, mode and servername. */
  findDuplicate(channel: ChannelRef, target: Target): Promise<TargetRecord | undefined>;
  getLatest(targetId: string): Promise<LatestResults | undefined>;
  /** Latest results of many targets in few round trips (missing ones absent); optional. */
  getLatestMany?(targetIds: readonly string[]): Promise<Map<string, LatestResults>>;
  getChannelSettings(channel: ChannelRef): Promise<ChannelSettings>;
  setChannelSettings(channel: ChannelRef, settings: ChannelSettings): Promise<void>;
}

/** Probes on behalf of the bot: applies trust, SSRF policy and deadlines, records results. */
export interface CheckService {
  /** Probes a stored target now, records the result and feeds the alert policy. */
  checkStored(record: TargetRecord): Promise<LatestResults>;
  /** Probes an unsaved target (nothing stored). */
  checkAdHoc(target: Target, caPem?: string): Promise<ProbeResult[]>;
}

/** Checks mail domains (MX, SRV, DANE, MTA-STS, TLS-RPT) for the chat commands. */
export interface MailService {
  checkDomain(domain: string): Promise<MailReport>;
}

/** Runs `fn` after every earlier call with the same key has finished (one process only). */
export interface KeyedLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Everything a command may use. */
export interface Services {
  /** Mail domain checks; absent in deployments and tests that do not wire them. */
  mail?: MailService;
  /** Watched mail domains (`add mail`); absent where not wired. */
  mailWatch?: MailWatch;
  repo: TargetRepository;
  checks: CheckService;
  now(): Date;
  /** Defaults used when a channel has no settings of its own. */
  defaults: ChannelSettings & { warnDays: number; critDays: number };
  /** Limits on chat input (targets per channel, etc.). */
  limits: { maxTargetsPerChannel: number };
  /** Per-channel serialization of check-then-write commands (add's count, duplicate, store). */
  channelLock: KeyedLock;
}
