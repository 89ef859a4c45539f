// Start-up failures and retries. A dependency that refuses the configuration (a token the
// platform rejects, a store that cannot be opened) ends the process with exit status 78 and
// one line naming the setting; one that is merely unreachable is retried with backoff, and
// every attempt is logged, so nothing waits silently.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.ts';

/** EX_CONFIG (sysexits.h): the configuration is wrong; restarting will not help. */
export const EXIT_CONFIG = 78;

/** A start-up dependency refused the configuration; `message` starts with the setting's name. */
export class StartupError extends Error {
  readonly code = 'STARTUP_FAILED';
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(message.startsWith(setting) ? message : `${setting}: ${message}`);
    this.name = 'StartupError';
    this.setting = setting;
  }
}

/** Options for retryWhileUnreachable. */
export interface RetryOptions {
  /** Event name logged before each retry, e.g. "slack.unreachable". */
  event: string;
  log: Logger;
  /** Aborted at shutdown: the wait ends and the last error is thrown. */
  signal?: AbortSignal | undefined;
  /** A failure that retrying cannot fix, as the error to throw; undefined: retry. */
  fatal(err: unknown): Error | undefined;
  /** A secret-free description of a failure for the log. */
  describe(err: unknown): string;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/** Runs `attempt` until it succeeds or fails fatally; transient failures back off (1 s doubling to 30 s). */
export async function retryWhileUnreachable<T>(o: RetryOptions, attempt: () => Promise<T>): Promise<T> {
  const first = o.firstDelayMs ?? 1000;
  const max = o.maxDelayMs ?? 30_000;
  for (let n = 1; ; n++) {
    try {
      return await abortable(attempt(), o.signal);
    } catch (err) {
      if (err instanceof StartAborted) throw err;
      const fatal = o.fatal(err);
      if (fatal !== undefined) throw fatal;
      const retryInMs = Math.min(max, first * 2 ** (n - 1));
      const error = o.describe(err);
      if (o.signal?.aborted === true) throw new Error(`start-up aborted (${error})`);
      o.log.warn({ attempt: n, retryInMs, error }, o.event);
      await sleep(retryInMs, undefined, o.signal === undefined ? {} : { signal: o.signal }).catch(() => {});
      if (isAborted(o.signal)) throw new Error(`start-up aborted (${error})`);
    }
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Thrown when shutdown interrupts a start-up attempt. */
class StartAborted extends Error {}

/** `p`, or a rejection as soon as `signal` aborts (the attempt itself is left to its own deadline). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(new StartAborted('start-up aborted'));
  let onAbort: (() => void) | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      onAbort = () => reject(new StartAborted('start-up aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
    }),
  ]).finally(() => signal.removeEventListener('abort', onAbort!));
}
