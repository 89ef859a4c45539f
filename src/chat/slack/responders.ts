// The two ways a command's answer reaches Slack. Slash commands answer through their
// response_url (works in channels the bot has not joined); mentions and button presses
// post with the Web API and update that message for progress.
import type { RespondFn, webApi } from '@slack/bolt';
import { DeliveryError, type ChannelRef, type Reply } from '../types.ts';
import { renderMessage } from './blocks.ts';
import { slackErrorName } from './errors.ts';
import type { Responder } from '../progress.ts';
import { postEphemeral, postMessage, updateMessage, type PostedMessage } from './sender.ts';

/** A response_url allows five uses within 30 minutes (Slack interactivity docs). */
export const RESPONSE_URL_USES = 5;

/** Bounds a call that has no deadline of its own (Bolt's respond() uses bare fetch). */
async function within<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeliveryError(`slack ${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Answers through the request's response_url: first a new message, then replacements. */
export function responseUrlResponder(respond: RespondFn, timeoutMs = 15_000): Responder {
  let ephemeral = false;
  return {
    async post(reply) {
      ephemeral = reply.ephemeral === true;
      await within(timeoutMs, respond({ response_type: ephemeral ? 'ephemeral' : 'in_channel', replace_original: false, ...renderMessage(reply) }), 'response_url');
    },
    async update(reply) {
      await within(timeoutMs, respond({ response_type: ephemeral ? 'ephemeral' : 'in_channel', replace_original: true, ...renderMessage(reply) }), 'response_url');
    },
  };
}

const notPostable = new Set(['not_in_channel', 'channel_not_found']);

/**
 * Answers with chat.postMessage and chat.update in `channel` (ephemeral replies with
 * chat.postEphemeral to `userId`). When the bot cannot post there (not a member, a DM it is
 * not part of) and a fallback exists, answers through the fallback instead.
 */
export function webApiResponder(client: webApi.WebClient, channel: ChannelRef, userId: string, fallback?: Responder): Responder {
  let posted: PostedMessage | undefined;
  let useFallback = false;
  return {
    async post(reply) {
      try {
        if (reply.ephemeral === true) await postEphemeral(client, channel, userId, reply);
        else posted = await postMessage(client, channel, reply);
      } catch (err) {
        const cause = err instanceof DeliveryError ? err.cause : undefined;
        const name = slackErrorName(cause);
        if (fallback === undefined || name === undefined || !notPostable.has(name)) throw err;
        useFallback = true;
        await fallback.post(reply);
      }
    },
    async update(reply) {
      if (useFallback && fallback !== undefined) return fallback.update(reply);
      if (posted === undefined) return postEphemeral(client, channel, userId, reply);
      await updateMessage(client, posted, reply);
    },
  };
}
