import { judgeNoteCodes } from '../cert/types.ts';
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

/** Codes of notes: facts worth saying that are not problems (README "Codes"). */
export const noteCodes = ['CLIENT_CERT_REQUIRED', ...judgeNoteCodes] as const;

export type NoteCode = (typeof noteCodes)[number];

/**
 * A note never changes the status, the exit status or the bot's alerts: requiring a client
 * certificate is an access policy, not a certificate problem (issue 8 item 4); a private CA's
 * commonName outside the SAN binds no rule clients apply (docs/judge.md).
 */
export interface Note {
  code: NoteCode;
  message: string;
}

/** One probed address: the JSON object `certwatch check --json` prints (docs/cli.md "JSON (`--json`)"). */
export interface ProbeResult {
  target: Target;
  address: string | null;
  status: Status;
  problems: Problem[];
  /** Non-alarming findings; present in every result the prober makes (optional for stored ones). */
  notes?: Note[];
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
