// The CheckService: probes on behalf of the bot with the per-target trust, the SSRF address
// policy and the probe deadline; records results, runs the alert policy and enqueues its
// messages in the outbox (before saving the new alert state, so a crash in between re-makes
// the same decisions under the same idempotency keys instead of losing them).
import { createHash } from 'node:crypto';
import { decideAlerts } from '../alerts/policy.ts';
import type { TrustStore } from '../cert/trust.ts';
import type { CheckService, LatestResults, TargetRecord } from '../core/services.ts';
import type { Logger } from '../ops/logger.ts';
import type { OutboxStore } from '../outbox/store.ts';
import type { ProbeOptions } from '../probe/probe.ts';
import { worstStatus, type ProbeResult } from '../probe/result.ts';
import type { Target } from '../probe/target.ts';
import type { KeyvRepository } from '../store/repository.ts';

/** The probe as the monitor uses it (Prober.probe, or a fake in tests). */
export type ProbeFn = (target: Target, opts: ProbeOptions) => Promise<ProbeResult[]>;

/** Returns why an address must not be contacted, or null (see src/security). */
export type AddressCheck = NonNullable<ProbeOptions['addressPolicy']>;

/** Dependencies of the monitor, built by the composition root. */
export interface MonitorOptions {
  repo: KeyvRepository;
  outbox: OutboxStore;
  probe: ProbeFn;
  /** Global trust: bundled roots plus EXTRA_CA_FILE. */
  trust: TrustStore;
  addressPolicy: AddressCheck;
  timeoutMs: number;
  /** Only this address family of host names (PROBE_IP_FAMILY). */
  family?: 4 | 6;
  warnDays: number;
  critDays: number;
  now: () => Date;
  log: Logger;
  /** Aborted on shutdown: in-flight probes end and their results are not recorded. */
  signal?: AbortSignal;
  /** Told after messages were enqueued (the outbox worker's kick). */
  onEnqueued?: () => void;
  /** Told after every recorded check (metrics). */
  onChecked?: (record: TargetRecord, latest: LatestResults) => void;
}

/** Most distinct per-target CA bundles kept parsed. */
const TRUST_CACHE = 256;

/** Thrown when a check was abandoned because the bot is shutting down. */
export class CheckAbortedError extends Error {
  override readonly name = 'CheckAbortedError';
}

/** CheckService implementation used by commands and the scheduler. */
export class Monitor implements CheckService {
  private readonly inFlight = new Map<string, Promise<LatestResults>>();
  private readonly trustCache = new Map<string, TrustStore>();

  private readonly o: MonitorOptions;

  constructor(o: MonitorOptions) {
    this.o = o;
  }

  /** Probes a stored target; concurrent calls for the same target share one probe. */
  checkStored(record: TargetRecord): Promise<LatestResults> {
    const running = this.inFlight.get(record.id);
    if (running !== undefined) return running;
    const p = this.checkAndRecord(record).finally(() => this.inFlight.delete(record.id));
    this.inFlight.set(record.id, p);
    return p;
  }

  async checkAdHoc(target: Target, caPem?: string): Promise<ProbeResult[]> {
    return this.o.probe(target, this.probeOptions(caPem));
  }

  private async checkAndRecord(record: TargetRecord): Promise<LatestResults> {
    const started = this.o.now();
    const results = await this.o.probe(record.target, this.probeOptions(record.caPem));
    const latest: LatestResults = { targetId: record.id, checkedAt: started.toISOString(), status: worstStatus(results.map((r) => r.status)), results };
    // A probe cut short by shutdown says nothing about the endpoint: record nothing.
    if (this.o.signal?.aborted === true) throw new CheckAbortedError(`check of ${record.id} abandoned at shutdown`);
    // Re-read: the target may have been removed, muted or re-configured while probing.
    const current = await this.o.repo.getTarget(record.id);
    if (current === undefined) return latest;
    await this.o.repo.recordLatest(latest);
    const channel = await this.o.repo.getChannelSettings(current.channel);
    const prev = await this.o.repo.getAlertState(current.id);
    const outcome = decideAlerts(prev, latest, current, this.o.now(), {
      thresholds: current.thresholds ?? channel.thresholds,
      failAfter: channel.failAfter,
      critDays: this.o.critDays,
      mutedUntil: current.mutedUntil,
    });
    if (outcome.messages.length > 0) {
      const added = await this.o.outbox.enqueue(
        outcome.messages.map((m) => ({ targetId: current.id, event: m.event, channel: current.channel, message: m.reply })),
        this.o.now(),
      );
      this.o.log.info({ target: current.id, events: outcome.messages.map((m) => m.event), enqueued: added.length }, 'alerts.decided');
      this.o.onEnqueued?.();
    }
    await this.o.repo.putAlertState(outcome.state);
    // Removed while this was recording (after the re-read above): take the late writes back.
    if (await this.o.repo.dropIfRemoved(current.id)) return latest;
    this.o.onChecked?.(current, latest);
    return latest;
  }

  private probeOptions(caPem: string | undefined): ProbeOptions {
    const opts: ProbeOptions = {
      timeoutMs: this.o.timeoutMs,
      warnDays: this.o.warnDays,
      critDays: this.o.critDays,
      trust: this.trustFor(caPem),
      now: this.o.now(),
      addressPolicy: this.o.addressPolicy,
      ...(this.o.family === undefined ? {} : { family: this.o.family }),
    };
    if (this.o.signal !== undefined) opts.signal = this.o.signal;
    return opts;
  }

  /** Global trust plus the target's own CA bundle (parsed once per distinct bundle). */
  private trustFor(caPem: string | undefined): TrustStore {
    if (caPem === undefined || caPem.trim() === '') return this.o.trust;
    const key = createHash('sha256').update(caPem).digest('hex');
    let t = this.trustCache.get(key);
    if (t === undefined) {
      t = this.o.trust.withExtra(caPem, 'target CA');
      if (this.trustCache.size >= TRUST_CACHE) this.trustCache.delete(this.trustCache.keys().next().value!);
      this.trustCache.set(key, t);
    }
    return t;
  }
}
