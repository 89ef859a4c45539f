// Scheduled runs: node-cron fires CHECK_SCHEDULE (noOverlap: a run still going when the next
// fire comes is not doubled), each run probes every stored target with bounded concurrency.
// The run itself (tick) takes its clock and sleep from outside, so tests drive it directly.
//
// Scale (issue 9): a run never holds every target record. It reads the id index once (a few
// bytes per target), then fetches records PAGE at a time as the workers need them, so memory
// is flat in the number of targets and the cost per target is constant. Optionally the run
// is spread over a window (spreadMs) instead of starting as a burst at the cron tick.
import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { LatestResults, TargetRecord } from '../core/services.ts';
import type { Logger } from '../ops/logger.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import type { KeyvRepository } from '../store/repository.ts';

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
  /**
   * Spread a run over this many milliseconds: the k-th of n targets starts no earlier than
   * k/n of the window after the run began (0: as fast as concurrency allows). Servers that
   * carry many targets then see a steady trickle instead of a burst at every cron tick.
   */
  spreadMs?: number;
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

/** Records fetched per store round trip during a run. */
const PAGE = 500;

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Runs checks on a schedule and on demand. */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly abort = new AbortController();
  private readonly now: () => Date;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private current: Promise<RunReport | undefined> | null = null;
  /** The digest being posted, if any: stop() waits for it (it writes to the outbox). */
  private digesting: Promise<void> | null = null;

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
    const [a, b] = this.nextFires(2);
    return a !== undefined && b !== undefined ? b.getTime() - a.getTime() : 6 * 3_600_000;
  }

  private nextFires(n: number): Date[] {
    const task = cron.createTask(this.o.checkSchedule, () => {});
    try {
      return task.getNextRuns(n);
    } finally {
      void task.destroy();
    }
  }

  /** Probes `targets` (default: every stored target, paged) with bounded concurrency and jitter. */
  async tick(reason: RunReport['reason'] = 'manual', targets?: readonly TargetRecord[]): Promise<RunReport> {
    if (targets !== undefined) return this.run(reason, fromArray(targets), targets.length);
    const ids = await this.o.repo.targetIds();
    return this.run(reason, this.pages(ids), ids.length);
  }

  /** Checks the targets whose latest result is missing or older than one interval. */
  async catchUp(): Promise<RunReport> {
    const ids = await this.o.repo.targetIds();
    const cutoff = this.now().getTime() - this.intervalMs();
    const counted = { stale: 0 };
    const report = await this.run('startup', this.stalePages(ids, cutoff, counted));
    this.o.log.info({ stale: counted.stale, targets: ids.length }, 'run.catch_up');
    return report;
  }

  /**
   * The startup catch-up, on one replica only when several share the store: node-cron
   * coordinates the scheduled fires but not this run, and replicas starting together would
   * each probe every stale target and race to enqueue the same alerts. Replicas starting
   * before the same next fire ask for the same lease; the losers leave it to the winner.
   */
  private async coordinatedCatchUp(): Promise<RunReport | undefined> {
    const coordinator = this.o.coordinator;
    if (coordinator !== undefined) {
      const [next] = this.nextFires(1);
      const key = `certwatch-check:catch-up:${next?.toISOString() ?? 'none'}`;
      const won = await Promise.resolve(coordinator.shouldRun(key, this.intervalMs())).catch(() => false);
      if (!won) {
        this.o.log.info({ key }, 'run.catch_up_elsewhere');
        return undefined;
      }
    }
    return this.catchUp();
  }

  /** Records of `ids`, fetched PAGE at a time (ids removed since are skipped). */
  private async *pages(ids: readonly string[]): AsyncGenerator<TargetRecord> {
    for (let i = 0; i < ids.length; i += PAGE) yield* await this.o.repo.getTargets(ids.slice(i, i + PAGE));
  }

  /** Records of `ids` whose latest result is missing or older than `cutoff`, paged. */
  private async *stalePages(ids: readonly string[], cutoff: number, counted: { stale: number }): AsyncGenerator<TargetRecord> {
    for (let i = 0; i < ids.length; i += PAGE) {
      const page = await this.o.repo.getTargets(ids.slice(i, i + PAGE));
      const latest = await this.o.repo.getLatestMany(page.map((t) => t.id));
      for (const t of page) {
        const l = latest.get(t.id);
        if (l !== undefined && Date.parse(l.checkedAt) >= cutoff) continue;
        counted.stale++;
        yield t;
      }
    }
  }

  /**
   * Checks what `source` yields with `concurrency` workers pulling from it (an async
   * generator queues concurrent next() calls, so each record goes to exactly one worker).
   */
  private async run(reason: RunReport['reason'], source: AsyncIterator<TargetRecord>, total?: number): Promise<RunReport> {
    const started = performance.now();
    let failed = 0;
    let checked = 0;
    let taken = 0;
    const signal = this.abort.signal;
    const { concurrency, jitterMs } = this.o;
    const spreadMs = total === undefined ? 0 : (this.o.spreadMs ?? 0);
    // Run time elapsed so far, counted only forwards: a wall clock stepped back (NTP, a resumed
    // VM) would otherwise make every remaining start of a spread run wait out the jump.
    let last = this.now().getTime();
    let elapsed = 0;
    const sinceBegun = (): number => {
      const t = this.now().getTime();
      elapsed += Math.max(0, t - last);
      last = t;
      return elapsed;
    };
    // A page that cannot be read (store down) ends the run, but only once the checks already
    // started have finished: a rejected run must not leave probes behind it (noOverlap).
    let sourceError: unknown = null;
    // The store going away mid-run: the rest of the run is skipped (one log line, not one per
    // target); the next fire or the startup catch-up checks them once it is back.
    let storeDown = false;
    const worker = async (): Promise<void> => {
      for (;;) {
        if (signal.aborted || sourceError !== null || storeDown) return;
        let next: IteratorResult<TargetRecord>;
        try {
          next = await source.next();
        } catch (err) {
          sourceError ??= err;
          return;
        }
        if (next.done === true) return;
        const record = next.value;
        const index = taken++;
        // Stagger the first wave so a run does not open `concurrency` connections at once.
        if (index < concurrency && jitterMs > 0) await this.sleep(Math.floor(this.random() * jitterMs), signal);
        // Spread: target k of n starts no earlier than k/n of the window.
        if (spreadMs > 0 && total !== undefined && total > 0) {
          const wait = (index * spreadMs) / total - sinceBegun();
          if (wait > 0) await this.sleep(Math.ceil(wait), signal);
        }
        if (signal.aborted) return;
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
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      await source.return?.(undefined);
    }
    if (sourceError !== null) throw sourceError;
    if (this.o.mail !== undefined && !signal.aborted && !storeDown) {
      // The startup catch-up checks only domains not checked within one interval, like targets.
      await this.o.mail.runAll(signal, reason === 'startup' ? this.intervalMs() : undefined).catch((err: unknown) => this.o.log.error({ err }, 'mail.run_failed'));
    }
    const report: RunReport = { reason, targets: total ?? taken, checked, failed, durationMs: Math.round(performance.now() - started) };
    this.o.log.info(report, 'run.finished');
    this.o.onRun?.(report);
    return report;
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
            if (this.abort.signal.aborted) return;
            const posting = digest(this.now()).catch((err: unknown) => this.o.log.error({ err }, 'digest.failed'));
            this.digesting = posting;
            await posting;
            if (this.digesting === posting) this.digesting = null;
          },
          { name: 'certwatch-digest', noOverlap: true, ...distributed },
        ),
      );
    }
    void this.guarded('startup');
  }

  /** Stops the cron tasks, aborts in-flight probes and waits for the run (and a digest) to wind down. */
  async stop(): Promise<void> {
    for (const t of this.tasks.splice(0)) await t.destroy();
    this.abort.abort();
    // A digest being posted is not cut short: its outbox writes land before the store closes.
    await Promise.all([this.current?.catch(() => {}), this.digesting]);
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
    const run = reason === 'startup' ? this.coordinatedCatchUp() : this.tick(reason);
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
