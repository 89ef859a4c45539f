// Turns Telegram messages into command names and arguments. In groups a command may be
// addressed to one bot ("/add@certwatch_bot"); commands for other bots are not ours.
import type { ChannelRef } from '../types.ts';

/** A parsed "/name[@bot] args" message. */
export interface ParsedCommand {
  name: string;
  text: string;
  /** True when the command named this bot explicitly. */
  addressed: boolean;
}

/** Parses a command from message text, or null when the text is not a command for this bot. */
export function parseCommand(text: string, botUsername: string | undefined): ParsedCommand | null {
  // Bot API: commands are "/" plus up to 32 Latin letters, digits and underscores.
  const m = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)/.exec(text);
  if (m === null) return null;
  const target = m[2];
  if (target !== undefined && (botUsername === undefined || target.toLowerCase() !== botUsername.toLowerCase())) return null;
  let name = (m[1] ?? '').toLowerCase();
  // Telegram sends /start when a user opens the bot: answer with help.
  if (name === 'start') name = 'help';
  return { name, text: text.slice(m[0].length).trim(), addressed: target !== undefined };
}

interface ChatLike {
  id: number | string;
}
interface MessageLike {
  chat: ChatLike;
  message_thread_id?: number;
  is_topic_message?: boolean;
}

/**
 * The channel a message belongs to. message_thread_id is a forum topic only when
 * is_topic_message is set; in ordinary groups it marks a reply thread, which sendMessage
 * does not accept as a destination.
 */
export function channelOf(message: MessageLike): ChannelRef {
  const channel: ChannelRef = { platform: 'telegram', channelId: String(message.chat.id) };
  if (message.is_topic_message === true && message.message_thread_id !== undefined) channel.threadId = String(message.message_thread_id);
  return channel;
}
