// The neutral chat model shared by commands, the notifier and every adapter (Slack,
// Telegram, console). Adapters translate platform events into these and render Reply.

/** Where a message goes: a platform and a channel (and a thread or forum topic in it). */
export interface ChannelRef {
  platform: 'slack' | 'telegram' | 'console';
  /** Slack channel id, Telegram chat id (as a string), or "console". */
  channelId: string;
  /** Telegram forum topic (message_thread_id) or Slack thread ts, when the target lives there. */
  threadId?: string;
}

/** Who issued a command. */
export interface UserRef {
  id: string;
  name?: string;
}

/** Overall tone of a reply; adapters map it to emoji and colour. */
export type ReplyStatus = 'ok' | 'warning' | 'critical' | 'error' | 'info';

/** A button that runs a command line in the same channel when pressed. */
export interface ReplyButton {
  label: string;
  /** Command line without the leading slash, e.g. "check a1b2c3" or "mute a1b2c3 7d". */
  command: string;
  style?: 'primary' | 'danger';
}

/**
 * A platform-neutral message. Adapters render it as Block Kit, Telegram HTML or plain text,
 * escaping every string (all of them may contain text from servers or users).
 */
export interface Reply {
  title: string;
  status?: ReplyStatus;
  /** Paragraphs of plain text. */
  text?: string[];
  /** Label/value pairs (endpoint, days left, issuer...). */
  fields?: { label: string; value: string }[];
  /** One line per item, for lists. */
  items?: string[];
  buttons?: ReplyButton[];
  /** Seen only by the requesting user where the platform allows it. */
  ephemeral?: boolean;
}

/** What an adapter hands to the command layer for one incoming command. */
export interface IncomingCommand {
  channel: ChannelRef;
  user: UserRef;
  /** Command name without slash or @botname, lower case: "add", "list"... */
  name: string;
  /** Raw argument text after the command name. */
  text: string;
}

/** Sends a reply to the user who issued a command; may be called more than once (progress). */
export type Respond = (reply: Reply) => Promise<void>;

/**
 * Delivers a message to a channel; implemented by each adapter, used by the outbox. `key` is
 * the outbox entry's idempotency key: a sender that posts one message in several parts uses it
 * to post, on a retry, only the parts not yet posted.
 */
export interface ChannelSender {
  readonly platform: ChannelRef['platform'];
  send(channel: ChannelRef, message: Reply, key?: string): Promise<void>;
}

/**
 * A delivery failure an adapter reports to the outbox. `retryAfterMs` comes from the platform
 * (HTTP 429 Retry-After, Telegram parameters.retry_after); `permanent` stops retries
 * (channel gone, bot removed).
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly options: { retryAfterMs?: number; permanent?: boolean; cause?: unknown };

  constructor(
    message: string,
    options: { retryAfterMs?: number; permanent?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.options = options;
  }
}

/** The entry point adapters call: runs one command and answers through `respond`. */
export type CommandDispatcher = (cmd: IncomingCommand, respond: Respond) => Promise<void>;
