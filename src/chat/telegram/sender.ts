// Sends neutral replies to Telegram chats and topics, and the ChannelSender the outbox uses.
import type { Telegram } from 'telegraf';
import type { ChannelRef, ChannelSender, Reply } from '../types.ts';
import { inlineKeyboard } from './callback.ts';
import { DeliveryError } from '../types.ts';
import { telegramErrorCode, toDeliveryError } from './errors.ts';
import { renderHtmlMessages } from './html.ts';

/** Where and how a message was posted, so a later progress update can edit it. */
export interface Posted {
  chatId: string;
  messageIds: number[];
}

/** A Reply rendered for Telegram: HTML parts and the keyboard for the last one. */
function render(reply: Reply): { parts: string[]; keyboard: ReturnType<typeof inlineKeyboard> } {
  return { parts: renderHtmlMessages(reply), keyboard: inlineKeyboard(reply.buttons ?? []) };
}

function extra(channel: ChannelRef, keyboard: ReturnType<typeof inlineKeyboard> | undefined) {
  return {
    parse_mode: 'HTML' as const,
    // A forum topic: without it the message lands in "General" (Bot API sendMessage).
    ...(channel.threadId === undefined ? {} : { message_thread_id: Number(channel.threadId) }),
    ...(keyboard === undefined || keyboard.length === 0 ? {} : { reply_markup: { inline_keyboard: keyboard } }),
    // Host names in replies would otherwise fetch link previews of monitored servers.
    link_preview_options: { is_disabled: true },
  };
}

/** Deadline of one reply call: telegraf's own is 500 s, and a silent API must not hold a command that long. */
export const REPLY_TIMEOUT_MS = 10_000;

/** One Bot API call with a deadline; a timeout is a transient DeliveryError naming the method. */
async function callWithDeadline<T>(telegram: Telegram, token: string, method: 'sendMessage' | 'editMessageText', payload: Record<string, unknown>, timeoutMs: number): Promise<T> {
  try {
    // telegraf types its signal with the abort-controller polyfill; Node's AbortSignal is what it uses.
    return (await telegram.callApi(method, payload as never, { signal: AbortSignal.timeout(timeoutMs) as never })) as T;
  } catch (err) {
    const name = (err as { name?: unknown } | null)?.name;
    if (name === 'AbortError' || name === 'TimeoutError') throw new DeliveryError(`telegram ${method} failed: no answer within ${timeoutMs} ms`, { cause: err });
    throw err;
  }
}

/** Where a multi-part post resumes: parts already posted are skipped; `posted(n)` after each. */
export interface PostProgress {
  skip: number;
  posted(count: number): void;
}

/** Posts a reply (split under 4096 characters, buttons on the last part); throws DeliveryError. */
export async function postReply(telegram: Telegram, token: string, channel: ChannelRef, reply: Reply, timeoutMs = REPLY_TIMEOUT_MS, progress?: PostProgress): Promise<Posted> {
  const { parts, keyboard } = render(reply);
  const messageIds: number[] = [];
  for (const [i, html] of parts.entries()) {
    if (i < (progress?.skip ?? 0)) continue;
    try {
      const payload = { chat_id: channel.channelId, text: html, ...extra(channel, i === parts.length - 1 ? keyboard : undefined) };
      const sent = await callWithDeadline<{ message_id: number }>(telegram, token, 'sendMessage', payload, timeoutMs);
      messageIds.push(sent.message_id);
      progress?.posted(i + 1);
    } catch (err) {
      throw err instanceof DeliveryError ? err : toDeliveryError(err, token, 'sendMessage');
    }
  }
  return { chatId: channel.channelId, messageIds };
}

/**
 * Replaces a posted reply (progress of a long command). Edits in place when both old and new
 * fit in one message; otherwise posts the new reply. Returns where the reply now lives.
 */
export async function updateReply(telegram: Telegram, token: string, channel: ChannelRef, posted: Posted, reply: Reply, timeoutMs = REPLY_TIMEOUT_MS): Promise<Posted> {
  const { parts, keyboard } = render(reply);
  const [only] = parts;
  const [messageId] = posted.messageIds;
  if (parts.length !== 1 || posted.messageIds.length !== 1 || only === undefined || messageId === undefined) {
    return postReply(telegram, token, channel, reply, timeoutMs);
  }
  try {
    const { message_thread_id: _thread, ...edit } = extra(channel, keyboard);
    await callWithDeadline(telegram, token, 'editMessageText', { chat_id: posted.chatId, message_id: messageId, text: only, ...edit }, timeoutMs);
  } catch (err) {
    if (err instanceof DeliveryError) throw err;
    // Same text twice is "message is not modified": the update is already shown.
    if (telegramErrorCode(err) === 400 && /not modified/i.test(String((err as { description?: unknown }).description))) return posted;
    throw toDeliveryError(err, token, 'editMessageText');
  }
  return posted;
}

/** Most outbox entries whose posted parts are remembered (each a key and a number). */
const MAX_TRACKED = 1000;

/**
 * The outbox's delivery path to Telegram. A message over 4096 characters goes out in parts;
 * when a later part fails, the retry posts only the parts not yet posted (by the outbox key),
 * so the chat does not see the first parts twice. Kept in memory: after a restart the whole
 * message is posted again, the one-message repeat the outbox allows at a crash.
 */
export function createTelegramSender(telegram: Telegram, token: string, timeoutMs = REPLY_TIMEOUT_MS): ChannelSender {
  const postedParts = new Map<string, number>();
  return {
    platform: 'telegram',
    async send(channel, message, key) {
      if (key === undefined) {
        await postReply(telegram, token, channel, message, timeoutMs);
        return;
      }
      await postReply(telegram, token, channel, message, timeoutMs, {
        skip: postedParts.get(key) ?? 0,
        posted: (count) => {
          postedParts.delete(key);
          postedParts.set(key, count);
          const oldest = postedParts.size > MAX_TRACKED ? postedParts.keys().next().value : undefined;
          if (oldest !== undefined) postedParts.delete(oldest);
        },
      });
      postedParts.delete(key);
    },
  };
}
