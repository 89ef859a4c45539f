import type { Prober, ProbeOptions } from '../probe/probe.ts';
import type { ProbeResult } from '../probe/result.ts';
import type { Target } from '../probe/target.ts';
import { mapLimit } from '../util/concurrency.ts';

/** How to check a batch of targets. */
export interface CheckOptions extends ProbeOptions {
  prober: Prober;
  /** Targets probed at once (each target's addresses are probed together). */
  concurrency: number;
}

/** Called once per finished target. */
export type CheckProgress = (done: number, total: number, target: Target, results: readonly ProbeResult[]) => void;

/**
 * Probes every target with bounded concurrency and returns all results flattened, in the
 * order of `targets` (then address order). Reused by the bot's `check` command.
 */
export async function checkTargets(
  targets: readonly Target[],
  options: CheckOptions,
  onProgress?: CheckProgress,
): Promise<ProbeResult[]> {
  const { prober, concurrency, ...probeOptions } = options;
  const perTarget = await mapLimit(targets, concurrency, (target) => prober.probe(target, probeOptions), onProgress);
  return perTarget.flat();
}

/** Receives each target's results in target order; awaited (backpressure). */
export type ResultSink = (results: readonly ProbeResult[], target: Target) => void | Promise<void>;

/** Most targets finished ahead of the oldest unfinished one before workers wait (see streamCheck). */
export function reorderWindow(concurrency: number): number {
  return Math.max(1024, 8 * concurrency);
}

/**
 * Probes every target like checkTargets, but hands each target's results to `sink` in target
 * order as soon as every earlier target is done, and keeps nothing afterwards: memory stays
 * flat however many targets there are (issue 9: 100,000 targets kept 585 MB of results).
 *
 * Order is kept with a bounded reorder buffer: a worker does not start target i while target
 * i - window is still unfinished, so one slow target holds back at most `window` finished
 * results. A sink that returns a promise (stdout draining) holds the workers back as well.
 */
export async function streamCheck(
  targets: readonly Target[],
  options: CheckOptions & { window?: number },
  sink: ResultSink,
  onProgress?: CheckProgress,
): Promise<void> {
  const { prober, concurrency, window = reorderWindow(options.concurrency), ...probeOptions } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  const finished = new Map<number, readonly ProbeResult[]>();
  let next = 0;
  let written = 0;
  let done = 0;
  let failure: unknown = null;
  let waiting: (() => void)[] = [];
  let flushing: Promise<void> = Promise.resolve();

  const wake = (): void => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const flush = async (): Promise<void> => {
    for (let r = finished.get(written); r !== undefined; r = finished.get(written)) {
      finished.delete(written);
      await sink(r, targets[written]!);
      written++;
      wake();
    }
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      while (failure === null && next < targets.length && next - written >= window) await new Promise<void>((r) => waiting.push(r));
      if (failure !== null || next >= targets.length) return;
      const index = next++;
      const target = targets[index]!;
      try {
        const results = await prober.probe(target, probeOptions);
        done++;
        onProgress?.(done, targets.length, target, results);
        finished.set(index, results);
        flushing = flushing.then(flush);
        await flushing;
      } catch (err) {
        // A probe reports failures as results; a throw here (or from the sink) is fatal.
        failure ??= err;
        wake();
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
}

/** The identity of a target for duplicate elimination: host, port, protocol, mode and SNI name. */
export function targetKey(t: Target): string {
  return JSON.stringify([t.host, t.port, t.protocol, t.mode, t.servername]);
}

/** Drops repeated targets (same host, port, protocol, mode and SNI name), keeping the first. */
export function uniqueTargets(targets: readonly Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = targetKey(t);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
