// Posts neutral replies with the Web API; the ChannelSender the outbox uses.
import type { webApi } from '@slack/bolt';
import type { ChannelRef, ChannelSender, Reply } from '../types.ts';
import { renderMessage } from './blocks.ts';
import { toDeliveryError } from './errors.ts';

/** Where a posted message lives, for chat.update. */
export interface PostedMessage {
  channel: string;
  ts: string;
}

/** chat.postMessage of a Reply (in the thread when the channel names one); throws DeliveryError. */
export async function postMessage(client: webApi.WebClient, channel: ChannelRef, reply: Reply): Promise<PostedMessage> {
  try {
    const res = await client.chat.postMessage({
      channel: channel.channelId,
      ...renderMessage(reply),
      ...(channel.threadId === undefined ? {} : { thread_ts: channel.threadId }),
      unfurl_links: false,
      unfurl_media: false,
    });
    return { channel: res.channel ?? channel.channelId, ts: res.ts ?? '' };
  } catch (err) {
    throw toDeliveryError(err, 'chat.postMessage');
  }
}

/** chat.update of a posted message with a new Reply (progress); throws DeliveryError. */
export async function updateMessage(client: webApi.WebClient, posted: PostedMessage, reply: Reply): Promise<void> {
  try {
    await client.chat.update({ channel: posted.channel, ts: posted.ts, ...renderMessage(reply) });
  } catch (err) {
    throw toDeliveryError(err, 'chat.update');
  }
}

/** chat.postEphemeral: seen only by `user`. */
export async function postEphemeral(client: webApi.WebClient, channel: ChannelRef, user: string, reply: Reply): Promise<void> {
  try {
    await client.chat.postEphemeral({
      channel: channel.channelId,
      user,
      ...renderMessage(reply),
      ...(channel.threadId === undefined ? {} : { thread_ts: channel.threadId }),
    });
  } catch (err) {
    throw toDeliveryError(err, 'chat.postEphemeral');
  }
}

/** The outbox's delivery path to Slack. */
export function createSlackSender(client: webApi.WebClient): ChannelSender {
  return {
    platform: 'slack',
    async send(channel, message) {
      await postMessage(client, channel, message);
    },
  };
}
