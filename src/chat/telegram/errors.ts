// Maps telegraf failures to DeliveryError for the outbox, with the bot token scrubbed:
// telegraf's network errors carry the request URL, and that URL contains the token.
import { DeliveryError } from '../types.ts';

/** Replaces every occurrence of the token (and its secret half) with a marker. */
export function redact(text: string, token: string): string {
  let out = text;
  const secret = token.split(':')[1];
  for (const t of [token, secret]) {
    if (t !== undefined && t.length >= 8) out = out.split(t).join('[REDACTED]');
  }
  // Any other "bot<id>:<secret>" URL segment (another token in a proxied error).
  return out.replace(/\/bot\d+:[A-Za-z0-9_-]+/g, '/bot[REDACTED]');
}

interface TelegramErrorShape {
  code?: unknown;
  description?: unknown;
  parameters?: { retry_after?: unknown; migrate_to_chat_id?: unknown };
  on?: { method?: unknown };
  message?: unknown;
  name?: unknown;
}

/** The API error code of a telegraf TelegramError (HTTP status for 5xx), if any. */
export function telegramErrorCode(err: unknown): number | undefined {
  const code = (err as TelegramErrorShape | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A plain error with a redacted message, safe to log or keep as `cause`. */
export function sanitizeError(err: unknown, token: string): Error {
  const e = err as TelegramErrorShape | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const clean = new Error(redact(message, token));
  clean.name = typeof e?.name === 'string' ? e.name : 'Error';
  const code = telegramErrorCode(err);
  if (code !== undefined) Object.assign(clean, { code });
  return clean;
}

/**
 * Classifies a failed Bot API call: 429 → retry after `retry_after` seconds; 403 (blocked,
 * kicked) and a vanished chat or topic → permanent; any other 400 is a malformed request that
 * a retry would repeat → permanent; 5xx, 401 and network failures → retried by the outbox.
 */
export function toDeliveryError(err: unknown, token: string, what: string): DeliveryError {
  const e = err as TelegramErrorShape | null;
  const code = telegramErrorCode(err);
  const description = redact(typeof e?.description === 'string' ? e.description : sanitizeError(err, token).message, token);
  const cause = sanitizeError(err, token);
  const message = `telegram ${what} failed: ${code === undefined ? '' : `${code} `}${description}`;
  if (code === 429) {
    const after = Number(e?.parameters?.retry_after);
    return new DeliveryError(message, { retryAfterMs: Number.isFinite(after) && after >= 0 ? after * 1000 : 1000, cause });
  }
  // 400 covers "chat not found", "message thread not found", "group chat was upgraded".
  if (code === 403 || code === 400) return new DeliveryError(message, { permanent: true, cause });
  return new DeliveryError(message, { cause });
}
