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

/** Drops repeated targets (same host, port, protocol, mode and SNI name), keeping the first. */
export function uniqueTargets(targets: readonly Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = JSON.stringify([t.host, t.port, t.protocol, t.mode, t.servername]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
