import type { CertificateInfo, Problem } from '../cert/types.ts';
import type { ProbeErrorCode } from './errors.ts';
import type { Target } from './target.ts';

export type Status = 'ok' | 'warning' | 'critical' | 'error';

/** Durations of each probe phase, in milliseconds. */
export interface Timings {
  totalMs: number;
  dnsMs?: number;
  connectMs?: number;
  starttlsMs?: number;
  tlsMs?: number;
}

/** One probed address: the JSON object `certwatch check --json` prints (README "JSON output"). */
export interface ProbeResult {
  target: Target;
  address: string | null;
  status: Status;
  problems: Problem[];
  error: { code: ProbeErrorCode; message: string } | null;
  tls: { version: string; cipher: string } | null;
  certificate: CertificateInfo | null;
  chain: CertificateInfo[];
  trusted: boolean | null;
  hostnameMatch: boolean | null;
  checkedAt: string;
  timings: Timings;
}

const rank: Record<Status, number> = { ok: 0, warning: 1, critical: 2, error: 3 };

/** The worse of two statuses (error counts as worst: nothing could be checked). */
export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 'ok';
  for (const s of statuses) if (rank[s] > rank[worst]) worst = s;
  return worst;
}

/** Status implied by a list of problems. */
export function statusOf(problems: readonly Problem[]): Status {
  if (problems.some((p) => p.severity === 'critical')) return 'critical';
  if (problems.length > 0) return 'warning';
  return 'ok';
}
