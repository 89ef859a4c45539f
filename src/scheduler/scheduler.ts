// Scheduled runs: node-cron fires CHECK_SCHEDULE (noOverlap: a run still going when the next
// fire comes is not doubled), each run probes every stored target with bounded concurrency.
// The run itself (tick) takes its clock and sleep from outside, so tests drive it directly.
import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { LatestResults, TargetRecord } from '../core/services.ts';
import type { Logger } from '../ops/logger.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import type { KeyvRepository } from '../store/repository.ts';
import { mapLimit } from '../util/concurrency.ts';

/** What a run needs from the monitor. */
export interface Checker {
  checkStored(record: TargetRecord): Promise<LatestResults>;
}

/** Abortable wait (injected in tests). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Outcome of one run. */
export interface RunReport {
  reason: 'scheduled' | 'startup' | 'manual';
  targets: number;
  checked: number;
  failed: number;
  durationMs: number;
}

/** Scheduler settings and collaborators. */
export interface SchedulerOptions {
  repo: KeyvRepository;
  checker: Checker;
  /** Watched mail domains, re-resolved and checked after the targets of every run (src/mail/watch.ts). */
  mail?: { runAll(signal: AbortSignal, staleMs?: number): Promise<unknown> } | undefined;
  log: Logger;
  checkSchedule: string;
  digestSchedule?: string | undefined;
  /** Posts the digest (src/scheduler/digest.ts); called on DIGEST_SCHEDULE. */
  digest?: (now: Date) => Promise<void>;
  concurrency: number;
  /** Each of the first `concurrency` probes starts after a random 0..jitterMs delay. */
  jitterMs: number;
  now?: () => Date;
  sleep?: Sleep;
  random?: () => number;
  /** Stale threshold for the startup catch-up (default: the schedule's interval). */
  intervalMs?: number;
  /** Multi-replica mode: one replica per fire (node-cron `distributed`). */
  coordinator?: RunCoordinator | undefined;
  /** Told after each run (metrics). */
  onRun?: (report: RunReport) => void;
}

const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/** Runs checks on a schedule and on demand. */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly abort = new AbortController();
  private readonly now: () => Date;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private current: Promise<RunReport> | null = null;

  private readonly o: SchedulerOptions;

  constructor(o: SchedulerOptions) {
    this.o = o;
    this.now = o.now ?? (() => new Date());
    this.sleep = o.sleep ?? realSleep;
    this.random = o.random ?? Math.random;
  }

  /** Signal aborted by stop(); the monitor's probes should observe it too. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Milliseconds between two fires of the check schedule. */
  intervalMs(): number {
    if (this.o.intervalMs !== undefined) return this.o.intervalMs;
    const task = cron.createTask(this.o.checkSchedule, () => {});
    try {
      const [a, b] = task.getNextRuns(2);
      return a !== undefined && b !== undefined ? b.getTime() - a.getTime() : 6 * 3_600_000;
    } finally {
      void task.destroy();
    }
  }

  /** Probes `targets` (default: all stored) with bounded concurrency and jitter. */
  async tick(reason: RunReport['reason'] = 'manual', targets?: TargetRecord[]): Promise<RunReport> {
    const started = performance.now();
    const list = targets ?? (await this.o.repo.listTargets());
    let failed = 0;
    let checked = 0;
    const signal = this.abort.signal;
    // The store going away mid-run: skip the rest of the run (one log line, not one per target);
    // the next fire or the startup catch-up checks them once it is back.
    let storeDown = false;
    await mapLimit(list, this.o.concurrency, async (record, index) => {
      // Stagger the first wave so a run does not open `concurrency` connections at once.
      if (index < this.o.concurrency && this.o.jitterMs > 0) await this.sleep(Math.floor(this.random() * this.o.jitterMs), signal);
      if (signal.aborted || storeDown) return;
      try {
        await this.o.checker.checkStored(record);
        checked++;
      } catch (err) {
        failed++;
        if (err instanceof StoreUnavailableError) {
          if (!storeDown) this.o.log.error({ error: err.message, target: record.id }, 'run.store_unavailable');
          storeDown = true;
        } else if (!signal.aborted) this.o.log.error({ err, target: record.id }, 'check.failed');
      }
    });
    if (this.o.mail !== undefined && !signal.aborted) {
      // The startup catch-up checks only domains not checked within one interval, like targets.
      await this.o.mail.runAll(signal, reason === 'startup' ? this.intervalMs() : undefined).catch((err: unknown) => this.o.log.error({ err }, 'mail.run_failed'));
    }
    const report: RunReport = { reason, targets: list.length, checked, failed, durationMs: Math.round(performance.now() - started) };
    this.o.log.info(report, 'run.finished');
    this.o.onRun?.(report);
    return report;
  }

  /** Checks the targets whose latest result is missing or older than one interval. */
  async catchUp(): Promise<RunReport> {
    const all = await this.o.repo.listTargets();
    const latest = await this.o.repo.getLatestMany(all.map((t) => t.id));
    const cutoff = this.now().getTime() - this.intervalMs();
    const stale = all.filter((t) => {
      const l = latest.get(t.id);
      return l === undefined || Date.parse(l.checkedAt) < cutoff;
    });
    this.o.log.info({ stale: stale.length, targets: all.length }, 'run.catch_up');
    return this.tick('startup', stale);
  }

  /** Starts the cron tasks and the startup catch-up run. */
  start(): void {
    const distributed = this.o.coordinator === undefined ? {} : { distributed: true, runCoordinator: this.o.coordinator };
    this.tasks.push(
      cron.schedule(this.o.checkSchedule, () => this.guarded('scheduled'), { name: 'certwatch-check', noOverlap: true, ...distributed }),
    );
    const digest = this.o.digest;
    if (this.o.digestSchedule !== undefined && digest !== undefined) {
      this.tasks.push(
        cron.schedule(
          this.o.digestSchedule,
          async () => {
            try {
              await digest(this.now());
            } catch (err) {
              this.o.log.error({ err }, 'digest.failed');
            }
          },
          { name: 'certwatch-digest', noOverlap: true, ...distributed },
        ),
      );
    }
    void this.guarded('startup');
  }

  /** Stops the cron tasks, aborts in-flight probes and waits for the run to wind down. */
  async stop(): Promise<void> {
    for (const t of this.tasks.splice(0)) await t.destroy();
    this.abort.abort();
    await this.current?.catch(() => {});
  }

  /** Completes when the run in progress (if any) ends. */
  async idle(): Promise<void> {
    await this.current?.catch(() => {});
  }

  private guarded(reason: 'scheduled' | 'startup'): Promise<RunReport | undefined> {
    if (this.current !== null) {
      this.o.log.warn({ reason }, 'run.skipped_overlap');
      return Promise.resolve(undefined);
    }
    const run = reason === 'startup' ? this.catchUp() : this.tick(reason);
    this.current = run;
    return run
      .catch((err: unknown) => {
        if (err instanceof StoreUnavailableError) this.o.log.error({ reason, error: err.message }, 'run.skipped_store_unavailable');
        else this.o.log.error({ err }, 'run.failed');
        return undefined;
      })
      .finally(() => {
        this.current = null;
      });
  }
}
