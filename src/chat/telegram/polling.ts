// Long polling of getUpdates (Bot API). Our own loop rather than bot.launch(): telegraf's
// fixes the poll timeout at 50 s, never resolves launch() while polling, and gives stop()
// nothing to await. Here the deadline is configurable, stop() aborts the pending request, and
// the loop ends only after confirming the last offset so handled updates are not redelivered.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Telegram } from 'telegraf';
import type { Update } from 'telegraf/types';
import { telegramErrorCode } from './errors.ts';

// telegraf types its signal with the abort-controller polyfill; node-fetch accepts Node's own.
type ApiSignal = NonNullable<Parameters<Telegram['callApi']>[2]>['signal'];
const apiSignal = (s: AbortSignal): ApiSignal => s as unknown as ApiSignal;

/** Settings for pollUpdates. */
export interface PollOptions {
  telegram: Telegram;
  /** Seconds the API may hold a getUpdates request open (Bot API `timeout`). */
  timeoutSec: number;
  signal: AbortSignal;
  allowedUpdates: readonly ('message' | 'callback_query')[];
  handle(update: Update): Promise<void>;
  /** Called for every failed poll with the pause before the next one. */
  onError(err: unknown, retryInMs: number): void;
}

/** Polls until `signal` aborts; rejects only on 401 (the token is wrong: polling cannot work). */
export async function pollUpdates(o: PollOptions): Promise<void> {
  let offset = 0;
  let failures = 0;
  while (!o.signal.aborted) {
    let updates: Update[];
    try {
      updates = await o.telegram.callApi(
        'getUpdates',
        { offset, timeout: o.timeoutSec, allowed_updates: [...o.allowedUpdates] },
        { signal: apiSignal(o.signal) },
      );
      failures = 0;
    } catch (err) {
      if (o.signal.aborted) break;
      const code = telegramErrorCode(err);
      if (code === 401) throw err;
      failures++;
      const retryAfter = Number((err as { parameters?: { retry_after?: unknown } }).parameters?.retry_after);
      // 409: another process polls with this token (or a webhook is set); back off and retry.
      const waitMs = code === 429 && Number.isFinite(retryAfter) ? retryAfter * 1000 : Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
      o.onError(err, waitMs);
      await sleep(waitMs, undefined, { signal: o.signal }).catch(() => {});
      continue;
    }
    for (const u of updates) offset = Math.max(offset, u.update_id + 1);
    await Promise.all(updates.map((u) => o.handle(u)));
  }
  if (offset > 0) {
    // Confirms the handled updates (Bot API: an offset marks earlier updates as seen).
    await o.telegram.callApi('getUpdates', { offset, timeout: 0, limit: 1 }, { signal: apiSignal(AbortSignal.timeout(3000)) }).catch(() => {});
  }
}
