// Delivers outbox entries through the ChannelSender of each platform, with retries.
//
// Delivery guarantee: at-least-once with idempotent enqueue, which is exactly-once except in
// one window. An entry is persisted before any send; the worker sends one entry at a time and
// marks it delivered immediately after the platform accepted it. A crash (or a lost
// acknowledgement) between the platform's acceptance and that mark repeats that one message
// after restart: the window is one message per crash. A crash anywhere else repeats nothing
// (the decision is re-made with the same idempotency key, see store.ts) and loses nothing
// (pending entries are delivered on restart).
//
// Without a crash the process remembers what the store could not yet be told: a send the
// platform accepted while the store refused the mark (an outage), and a send cut off by
// sendTimeoutMs that is still running (the platform may yet accept it). Neither is sent again
// until its outcome is known, so a store fault or a slow API repeats no message.
import { DeliveryError, type ChannelRef, type ChannelSender } from '../chat/types.ts';
import type { Logger } from '../ops/logger.ts';
import { Mutex } from '../store/mutex.ts';
import type { OutboxEntry } from '../store/schema.ts';
import type { OutboxStore } from './store.ts';

/** Tunables of the delivery worker. */
export interface OutboxWorkerOptions {
  store: OutboxStore;
  log: Logger;
  now?: () => Date;
  /** First retry delay; doubles per attempt up to maxDelayMs (with jitter). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * A transiently failing entry is given up (marked failed) once it has had maxAttempts
   * attempts AND is giveUpAfterMs old: the attempts alone run out within hours (backoff caps
   * at maxDelayMs), and a chat API or network outage that long must not lose alerts.
   */
  maxAttempts?: number;
  giveUpAfterMs?: number;
  /** A send that takes longer counts as a transient failure. */
  sendTimeoutMs?: number;
  /** Idle poll interval (entries are also picked up at once after kick()). */
  pollMs?: number;
  random?: () => number;
  /** Called after an entry was marked delivered (metrics, tests). */
  onDelivered?: (entry: OutboxEntry) => void;
}

/** Result of one pass over the due entries. */
export interface DrainReport {
  delivered: number;
  retried: number;
  failed: number;
  pending: number;
}

/** The delivery worker. */
export class OutboxWorker {
  private readonly senders = new Map<ChannelRef['platform'], ChannelSender>();
  private readonly now: () => Date;
  private readonly o: Required<Omit<OutboxWorkerOptions, 'onDelivered' | 'now'>> & Pick<OutboxWorkerOptions, 'onDelivered'>;
  private running: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  private kicked = false;
  private lastPending = 0;
  /** Passes never overlap: two concurrent passes would send the same entry twice. */
  private readonly pass = new Mutex();
  /** Keys the platform accepted whose delivered mark the store has not yet recorded. */
  private readonly accepted = new Set<string>();
  /** Keys whose send outlived sendTimeoutMs and has not settled yet. */
  private readonly inDoubt = new Set<string>();

  constructor(opts: OutboxWorkerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.o = {
      baseDelayMs: 2000,
      maxDelayMs: 15 * 60_000,
      maxAttempts: 25,
      giveUpAfterMs: 7 * 86_400_000,
      sendTimeoutMs: 30_000,
      pollMs: 5000,
      random: Math.random,
      ...opts,
    };
  }

  /** Registers the sender for its platform (adapters start after the worker). */
  register(sender: ChannelSender): void {
    this.senders.set(sender.platform, sender);
    this.kick();
  }

  /** Entries pending after the last pass. */
  get pendingCount(): number {
    return this.lastPending;
  }

  /** Makes the running loop look at the outbox now (after an enqueue). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** One pass: delivers every due entry once, in order. */
  drainOnce(): Promise<DrainReport> {
    return this.pass.run(() => this.drainPass());
  }

  private async drainPass(): Promise<DrainReport> {
    const report: DrainReport = { delivered: 0, retried: 0, failed: 0, pending: 0 };
    const remembered = [...this.accepted];
    const unreadable: string[] = [];
    const entries = await this.o.store.pending(unreadable);
    // A remembered key whose entry left the pending index without our delivered mark (given up
    // while its send was in doubt, or marked by a write whose answer was lost) is never looked
    // up again: forget it, or the set grows for the life of the process. An entry that cannot
    // be read is still pending and keeps its key.
    const live = new Set([...entries.map((e) => e.key), ...unreadable]);
    for (const key of remembered) if (!live.has(key)) this.accepted.delete(key);
    // After a transient failure, later messages to the same channel wait too (rate limits,
    // and keeping a channel's alerts in order).
    const held = new Set<string>();
    for (const entry of entries) {
      if (this.stopping) break;
      const chan = `${entry.channel.platform}:${entry.channel.channelId}`;
      if (held.has(chan) || Date.parse(entry.notBefore) > this.now().getTime()) {
        held.add(chan);
        continue;
      }
      const outcome = await this.deliver(entry);
      report[outcome]++;
      if (outcome === 'retried') held.add(chan);
    }
    report.pending = entries.length - report.delivered - report.failed;
    this.lastPending = report.pending;
    return report;
  }

  /** Starts the delivery loop. */
  start(): void {
    if (this.running !== null) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** Stops the loop, letting the current send finish for at most `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    if (this.running === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.running = null;
  }

  private async loop(): Promise<void> {
    // Failing drains in a row: an outage is logged once when it starts (with the error) and once
    // when it ends, not every poll interval while it lasts.
    let failing = 0;
    while (!this.stopping) {
      this.kicked = false;
      try {
        await this.drainOnce();
        if (failing > 0) this.o.log.info({ failedDrains: failing }, 'outbox.drain_recovered');
        failing = 0;
      } catch (err) {
        // The store is unreachable: keep the loop alive, try again after the poll interval.
        if (failing++ === 0) this.o.log.error({ err }, 'outbox.drain_failed');
      }
      if (this.stopping || this.kicked) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.o.pollMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
  }

  private async deliver(entry: OutboxEntry): Promise<'delivered' | 'retried' | 'failed'> {
    const sender = this.senders.get(entry.channel.platform);
    const log = this.o.log.child({ key: entry.key, origin: entry.origin, platform: entry.channel.platform, attempt: entry.attempts + 1 });
    // Sent before; only the mark failed (store outage): record it now, do not send again.
    if (this.accepted.has(entry.key)) return this.recordDelivered(entry, log);
    if (this.inDoubt.has(entry.key)) return this.retryLater(entry, log, new DeliveryError('the previous send has not finished yet'));
    if (sender === undefined) {
      // The platform is not configured in this process (yet): wait, do not drop the message.
      await this.o.store.reschedule(entry, new Date(this.now().getTime() + this.o.maxDelayMs), `no ${entry.channel.platform} sender configured`);
      log.warn('outbox.no_sender');
      return 'retried';
    }
    let sending: Promise<void> | undefined;
    try {
      sending = sender.send(entry.channel, entry.message, entry.key);
      await withTimeout(sending, this.o.sendTimeoutMs);
    } catch (err) {
      if (err instanceof SendTimeout && sending !== undefined) {
        // The send goes on: its late outcome decides whether the entry is sent again.
        this.inDoubt.add(entry.key);
        sending.then(
          () => this.accepted.add(entry.key),
          () => {},
        ).finally(() => this.inDoubt.delete(entry.key));
      }
      const e = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err), { cause: err });
      return this.retryLater(entry, log, e);
    }
    this.accepted.add(entry.key);
    return this.recordDelivered(entry, log);
  }

  /** Marks an accepted entry delivered; until that succeeds it stays in `accepted`. */
  private async recordDelivered(entry: OutboxEntry, log: Logger): Promise<'delivered'> {
    await this.o.store.markDelivered(entry, this.now());
    this.accepted.delete(entry.key);
    log.info('outbox.delivered');
    this.o.onDelivered?.(entry);
    return 'delivered';
  }

  /** Reschedules after a transient failure, or gives up (permanent error, too many attempts). */
  private async retryLater(entry: OutboxEntry, log: Logger, e: DeliveryError): Promise<'retried' | 'failed'> {
    const exhausted = entry.attempts + 1 >= this.o.maxAttempts && this.now().getTime() - Date.parse(entry.createdAt) >= this.o.giveUpAfterMs;
    if (e.options.permanent === true || exhausted) {
      await this.o.store.markFailed({ ...entry, attempts: entry.attempts + 1 }, e.message);
      log.error({ error: e.message, permanent: e.options.permanent === true }, 'outbox.gave_up');
      return 'failed';
    }
    const delay = this.backoff(entry.attempts, e.options.retryAfterMs);
    await this.o.store.reschedule(entry, new Date(this.now().getTime() + delay), e.message);
    log.warn({ error: e.message, retryInMs: delay }, 'outbox.retry');
    return 'retried';
  }

  /** Exponential backoff with full jitter on the upper half; never earlier than Retry-After. */
  private backoff(attempts: number, retryAfterMs: number | undefined): number {
    const exp = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** attempts);
    const jittered = Math.round(exp / 2 + (this.o.random() * exp) / 2);
    return Math.max(jittered, retryAfterMs ?? 0);
  }
}

/** The outbox's own deadline cut a send short: the platform may still accept it. */
class SendTimeout extends DeliveryError {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SendTimeout(`send took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
