// The mail watcher: watched mail domains for commands and scheduled runs. A check re-resolves
// the domain (the mail service gives each check its own per-run DNS cache), probes its hosts,
// runs DANE/MTA-STS/TLS-RPT, decides alerts (src/mail/alerts.ts), enqueues them in the outbox
// and only then stores the new state, so a crash in between re-makes the same decisions under
// the same idempotency keys (as the Monitor does for targets).
import type { KeyedLock } from '../core/services.ts';
import type { ChannelRef, UserRef } from '../chat/types.ts';
import { channelLockKey } from '../commands/channel-lock.ts';
import type { ChannelSettings } from '../core/services.ts';
import type { Logger } from '../ops/logger.ts';
import { outboxKey } from '../outbox/keys.ts';
import type { OutboxStore } from '../outbox/store.ts';
import type { MailDomainRecord, MailDomainRepository, MailDomainState } from '../store/mail-domains.ts';
import { mapLimit } from '../util/concurrency.ts';
import { decideMailAlerts } from './alerts.ts';
import type { MailReport } from './check.ts';

/** What the watcher needs; built by the composition root (tests pass fakes for `check`). */
export interface MailWatchOptions {
  repo: MailDomainRepository;
  outbox: OutboxStore;
  /** Checks one domain now (src/mail/service.ts: fresh per-run DNS cache). */
  check: (domain: string) => Promise<MailReport>;
  settings: (channel: ChannelRef) => Promise<ChannelSettings>;
  /** Entries a channel already has: its targets plus its mail domains (one entry per domain). */
  countTargets: (channel: ChannelRef) => Promise<number>;
  /** The channel lock `add` of a target holds too: a domain and a target added at once cannot both pass the limit. */
  channelLock: KeyedLock;
  critDays: number;
  /** Domains checked at once by a run (each probes its hosts in parallel). */
  concurrency: number;
  now: () => Date;
  log: Logger;
  /** Aborted at shutdown: a check cut short records nothing. */
  signal?: AbortSignal;
  onEnqueued?: () => void;
}

/** Outcome of `add`. */
export type AddOutcome = { added: MailDomainRecord; state: MailDomainState | undefined; error?: unknown } | { existing: MailDomainRecord } | { full: number };

/** Outcome of one run over every watched domain. */
export interface MailRunReport {
  domains: number;
  checked: number;
  failed: number;
}

/** Watched mail domains: add/find/remove/mute for commands, check and runAll for runs. */
export class MailWatch {
  private readonly o: MailWatchOptions;
  private readonly inFlight = new Map<string, Promise<MailDomainState | undefined>>();

  constructor(o: MailWatchOptions) {
    this.o = o;
  }

  get repo(): MailDomainRepository {
    return this.o.repo;
  }

  /** Stores a domain for a channel (unless already there or the channel is full), then checks it once: a silent baseline. */
  async add(channel: ChannelRef, user: UserRef, domain: string, opts: { label?: string; thresholds?: number[]; max: number }): Promise<AddOutcome> {
    // The same key as the target `add` (commands/add.ts): one limit for both kinds of entry.
    const stored = await this.o.channelLock.run(channelLockKey(channel), async (): Promise<AddOutcome> => {
      const mine = await this.o.repo.list(channel);
      const existing = mine.find((d) => d.domain === domain);
      if (existing !== undefined) return { existing };
      const count = (await this.o.countTargets(channel)) + mine.length;
      if (count >= opts.max) return { full: count };
      const record: MailDomainRecord = { id: await this.o.repo.newId(), domain, channel, addedBy: user, addedAt: this.o.now().toISOString() };
      if (opts.label !== undefined) record.label = opts.label;
      if (opts.thresholds !== undefined) record.thresholds = opts.thresholds;
      await this.o.repo.add(record);
      return { added: record, state: undefined };
    });
    if (!('added' in stored)) return stored;
    try {
      return { added: stored.added, state: await this.check(stored.added) };
    } catch (err) {
      // Stored already; the scheduler will check it. The caller says so.
      return { added: stored.added, state: undefined, error: err };
    }
  }

  /** Checks a stored domain now and records it; concurrent calls for one domain share the check. */
  check(record: MailDomainRecord): Promise<MailDomainState | undefined> {
    const running = this.inFlight.get(record.id);
    if (running !== undefined) return running;
    const p = this.checkAndRecord(record).finally(() => this.inFlight.delete(record.id));
    this.inFlight.set(record.id, p);
    return p;
  }

  /**
   * Checks every watched domain (a scheduled run); with `staleMs` only those whose last check
   * is older (the startup catch-up). Never throws for one domain's failure.
   */
  async runAll(signal?: AbortSignal, staleMs?: number): Promise<MailRunReport> {
    let list = await this.o.repo.list();
    if (staleMs !== undefined) {
      const states = await this.o.repo.getStates(list.map((d) => d.id));
      const cutoff = this.o.now().getTime() - staleMs;
      list = list.filter((d) => {
        const s = states.get(d.id);
        return s === undefined || Date.parse(s.checkedAt) < cutoff;
      });
    }
    let checked = 0;
    let failed = 0;
    const stopped = (): boolean => signal?.aborted === true;
    await mapLimit(list, this.o.concurrency, async (record) => {
      if (stopped()) return;
      try {
        await this.check(record);
        checked++;
      } catch (err) {
        failed++;
        if (!stopped()) this.o.log.error({ err, domainId: record.id }, 'mail.check_failed');
      }
    });
    const report = { domains: list.length, checked, failed };
    this.o.log.info(report, 'mail.run_finished');
    return report;
  }

  private async checkAndRecord(record: MailDomainRecord): Promise<MailDomainState | undefined> {
    const report = await this.o.check(record.domain);
    if (this.o.signal?.aborted === true) throw new Error(`check of mail domain ${record.id} abandoned at shutdown`);
    // Re-read: removed, muted or re-labelled while checking.
    const current = await this.o.repo.get(record.id);
    if (current === undefined) return undefined;
    const [prev, channel] = await Promise.all([this.o.repo.getState(current.id), this.o.settings(current.channel)]);
    const outcome = decideMailAlerts(prev, report, current, this.o.now(), {
      thresholds: current.thresholds ?? channel.thresholds,
      failAfter: channel.failAfter,
      critDays: this.o.critDays,
      mutedUntil: current.mutedUntil,
    });
    if (outcome.messages.length > 0) {
      const added = await this.o.outbox.enqueue(
        outcome.messages.map((m) => ({ targetId: `mail:${current.id}`, event: m.event, channel: current.channel, message: m.reply })),
        this.o.now(),
      );
      this.o.log.info({ domainId: current.id, events: outcome.messages.map((m) => m.event), enqueued: added.length }, 'mail.alerts_decided');
      this.o.onEnqueued?.();
    }
    await this.o.repo.putState(outcome.state);
    // Removed while this was recording (after the re-read above): take the late write back.
    if (await this.o.repo.dropStateIfRemoved(current.id)) return undefined;
    return outcome.state;
  }
}

/** The outbox key a mail domain's event gets (tests and tools look entries up by it). */
export function mailOutboxKey(domainId: string, event: string): string {
  return outboxKey(`mail:${domainId}`, event);
}
