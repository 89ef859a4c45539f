// Maps @slack/web-api failures to DeliveryError for the outbox.
import { DeliveryError } from '../types.ts';

// Web API errors that concern the destination (or a message Slack will never accept):
// retrying the same call cannot succeed.
const permanentErrors = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'channel_is_archived',
  'account_inactive',
  'user_not_found',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'ekm_access_denied',
  'msg_too_long',
  'no_text',
  'invalid_blocks',
  'invalid_attachments',
  'too_many_attachments',
  'message_not_found',
  'cant_update_message',
]);

interface WebApiErrorShape {
  code?: unknown;
  retryAfter?: unknown;
  statusCode?: unknown;
  data?: { error?: unknown };
  message?: unknown;
}

/** The Web API error string ("channel_not_found"), if the error carries one. */
export function slackErrorName(err: unknown): string | undefined {
  const e = err as WebApiErrorShape | null;
  return e?.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string' ? e.data.error : undefined;
}

/**
 * Classifies a failed Web API call: rate limited (HTTP 429, the client set to reject rather
 * than wait) → retryAfterMs from Retry-After; channel gone or bot removed → permanent;
 * HTTP 5xx, network errors and timeouts → retried by the outbox.
 */
export function toDeliveryError(err: unknown, what: string): DeliveryError {
  const e = err as WebApiErrorShape | null;
  if (e?.code === 'slack_webapi_rate_limited_error') {
    const seconds = Number(e.retryAfter);
    return new DeliveryError(`slack ${what} rate limited`, { retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : 1000, cause: err });
  }
  const name = slackErrorName(err);
  if (name !== undefined) {
    if (name === 'ratelimited') return new DeliveryError(`slack ${what} failed: ${name}`, { retryAfterMs: 1000, cause: err });
    return new DeliveryError(`slack ${what} failed: ${name}`, { ...(permanentErrors.has(name) ? { permanent: true } : {}), cause: err });
  }
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return new DeliveryError(`slack ${what} failed: ${message}`, { cause: err });
}
