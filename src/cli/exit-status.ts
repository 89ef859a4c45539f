import type { ProbeResult, Status } from '../probe/result.ts';

/** Nagios plugin exit statuses. */
export const exitStatus = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;

export type ExitStatus = (typeof exitStatus)[keyof typeof exitStatus];

/**
 * Precedence when results mix: a confirmed critical outranks an address that could not be
 * checked (the operator must act on the critical either way, and Nagios treats CRITICAL as
 * the worst state), while "could not check" outranks a warning (it may hide anything).
 * So: critical 2 > unknown 3 > warning 1 > ok 0.
 */
const precedence: readonly Status[] = ['critical', 'error', 'warning', 'ok'];

const byStatus: Record<Status, ExitStatus> = {
  ok: exitStatus.ok,
  warning: exitStatus.warning,
  critical: exitStatus.critical,
  error: exitStatus.unknown,
};

/** The exit status for a run; no results at all means nothing was checked (3). */
export function exitStatusFor(results: readonly ProbeResult[]): ExitStatus {
  const tally = new StatusTally();
  tally.add(results);
  return tally.exitStatus();
}

/** The statuses seen so far, for a run whose results are not kept (streamed output). */
export class StatusTally {
  private readonly seen = new Set<Status>();

  add(results: readonly ProbeResult[]): void {
    for (const r of results) this.seen.add(r.status);
  }

  exitStatus(): ExitStatus {
    if (this.seen.size === 0) return exitStatus.unknown;
    const worst = precedence.find((s) => this.seen.has(s)) ?? 'error';
    return byStatus[worst];
  }
}
