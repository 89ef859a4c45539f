// The Telegram front end: telegraf receives updates (long polling or webhook), turns commands
// and button presses into IncomingCommand, and answers through the shared dispatcher.
// Handlers return at once and the command runs in the background: telegraf handles one
// batch of updates at a time, so awaiting a probe here would stall every other chat.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { Telegraf, type Telegram } from 'telegraf';
import type { Update } from 'telegraf/types';
import { createAccessControl } from '../../security/access.ts';
import { createCommandGuard, type CommandGuard } from '../../security/guard.ts';
import { InFlight } from '../../security/in-flight.ts';
import type { CheckRateLimiter } from '../../security/rate-limit.ts';
// Progress is platform-neutral (no Bolt inside); Telegram also rate-limits edits (~1/s per chat).
import { Progress } from '../progress.ts';
import { runInBackground } from '../run-command.ts';
import { DeliveryError, type ChannelSender, type CommandDispatcher, type IncomingCommand } from '../types.ts';
import { decodeCallback } from './callback.ts';
import { sanitizeError, telegramErrorCode } from './errors.ts';
import { channelOf, parseCommand } from './parse.ts';
import { pollUpdates } from './polling.ts';
import { createTelegramSender, postReply, REPLY_TIMEOUT_MS, updateReply, type Posted } from './sender.ts';
import { retryWhileUnreachable, StartupError } from '../../ops/startup.ts';
import { startWebhookServer } from './webhook.ts';

/** A command as listed in Telegram's command menu. */
export interface MenuCommand {
  name: string;
  summary: string;
}

/** Everything startTelegram needs; main.ts builds it from Config. */
export interface TelegramOptions {
  token: string;
  /** Bot API base URL (self-hosted Bot API server, tests); default https://api.telegram.org. */
  apiRoot?: string;
  dispatcher: CommandDispatcher;
  logger: Logger;
  /** Commands for setMyCommands (from the command registry). */
  commands?: readonly MenuCommand[];
  /** Chat ids served; "*" serves every chat; empty or absent serves none. */
  allowedChats?: readonly string[];
  /** Shared limiter for on-demand checks. */
  limiter?: CheckRateLimiter;
  /** Commands that spend rate-limit tokens (default: the guard's, check and add). */
  limitedCommands?: readonly string[];
  maxArgLength?: number;
  /** Webhook mode instead of long polling. */
  webhook?: { url: string; secretToken?: string; port: number; host?: string };
  /** getUpdates long-poll timeout in seconds (default 50; tests use 1). */
  pollTimeoutSec?: number;
  /** Most commands running at once (default 100). */
  maxInFlight?: number;
  /** Least time between progress edits of one reply (default 1 s). */
  progressIntervalMs?: number;
  /** Deadline of each start-up API call (default 10 s). */
  requestTimeoutMs?: number;
  /** Deadline of each reply call: sendMessage, editMessageText, answerCallbackQuery (default 10 s). */
  replyTimeoutMs?: number;
  /** Aborts the start-up retries (shutdown while the API is unreachable). */
  signal?: AbortSignal;
}

/** A running Telegram adapter. */
export interface TelegramAdapter {
  sender: ChannelSender;
  /** The bot's @username, from getMe. */
  username: string;
  /** The port the webhook server listens on (webhook mode only; useful with port 0). */
  webhookPort?: number;
  stop(): Promise<void>;
}

const staleButton = 'This button no longer works.';

/** The guard of a command whose guard already ran and passed. */
const alreadyGuarded: CommandGuard = () => null;

/** Starts the Telegram adapter: getMe, command menu, then polling or the webhook server. */
export async function startTelegram(options: TelegramOptions): Promise<TelegramAdapter> {
  const { token, logger: baseLogger, dispatcher } = options;
  const log = baseLogger.child({ platform: 'telegram' });
  const errFields = (err: unknown) => ({ err: sanitizeError(err, token) });
  const bot = new Telegraf(token, {
    // webhookReply off: every call is a real request whose result (or error) we see.
    telegram: { ...(options.apiRoot === undefined ? {} : { apiRoot: options.apiRoot }), webhookReply: false },
    handlerTimeout: 10_000,
  });
  const telegram = bot.telegram;
  const guard = createCommandGuard({
    // Anyone can find a Telegram bot and add it to a group: with no allow-list it serves no
    // chat, and the refusal names the chat id to put in TELEGRAM_ALLOWED_CHATS ("*" = all).
    access: createAccessControl({ channels: options.allowedChats ?? [], denyWhenEmpty: true }),
    refusal: (cmd) =>
      `This bot is not enabled for this chat (id ${cmd.channel.channelId}). Its operator can allow it by adding that id to TELEGRAM_ALLOWED_CHATS.`,
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    ...(options.limitedCommands === undefined ? {} : { limitedCommands: options.limitedCommands }),
    ...(options.maxArgLength === undefined ? {} : { maxArgLength: options.maxArgLength }),
  });
  const inFlight = new InFlight(options.maxInFlight ?? 100);
  const known = new Set((options.commands ?? []).map((c) => c.name));
  known.add('help');

  // Start-up calls: each with a deadline (telegraf's own is 500 s). A refused token ends the
  // start (exit 78); an API that is down or silent is retried with backoff and logged.
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const call = <T>(method: string, payload: Record<string, unknown>, refused?: (code: number | undefined) => StartupError | undefined): Promise<T> =>
    retryWhileUnreachable(
      {
        event: 'telegram.unreachable',
        log: log.child({ method }),
        signal: options.signal,
        describe: (err) => describeCall(method, err, token, timeoutMs),
        fatal: (err) => {
          const code = telegramErrorCode(err);
          // 401 Unauthorized (revoked or wrong token), 404 (a token the API does not know).
          if (code === 401 || code === 404) return new StartupError('TELEGRAM_BOT_TOKEN', `TELEGRAM_BOT_TOKEN: Telegram refused the token on ${method} (${code} ${describeCall(method, err, token, timeoutMs)})`);
          return refused?.(code);
        },
      },
      () => telegram.callApi(method as 'getMe', payload as never, { signal: AbortSignal.timeout(timeoutMs) as never }) as Promise<T>,
    );
  const me = await call<Awaited<ReturnType<Telegram['getMe']>>>('getMe', {});
  bot.botInfo = me;
  const username = me.username;

  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  const replyTimeoutMs = options.replyTimeoutMs ?? REPLY_TIMEOUT_MS;
  // `checked`: the caller already ran the guard (a button press, whose refusal is the press's
  // answer); guarding again would spend a second rate-limit token for one press.
  const run = (cmd: IncomingCommand, checked = false): void =>
    runCommand({ cmd, telegram, token, guard: checked ? alreadyGuarded : guard, dispatcher, inFlight, log, progressIntervalMs, replyTimeoutMs });

  bot.on('message', (ctx) => {
    const msg = ctx.message;
    if (!('text' in msg) || msg.from === undefined) return;
    const parsed = parseCommand(msg.text, username);
    if (parsed === null) return;
    // In groups every bot sees "/help"; answer bare commands only when they are ours.
    if (msg.chat.type !== 'private' && !parsed.addressed && !known.has(parsed.name)) return;
    const name = msg.from.username ?? msg.from.first_name;
    run({ channel: channelOf(msg), user: { id: String(msg.from.id), name }, name: parsed.name, text: parsed.text });
  });

  bot.on('callback_query', async (ctx) => {
    const q = ctx.callbackQuery;
    const line = 'data' in q ? decodeCallback(q.data) : null;
    const msg = q.message;
    // Bounded like every reply (telegraf's own deadline is 500 s).
    const answer = (text?: string) =>
      telegram
        .callApi('answerCallbackQuery', { callback_query_id: q.id, ...(text === undefined ? {} : { text }) }, { signal: AbortSignal.timeout(replyTimeoutMs) as never })
        .catch((err: unknown) => log.warn(errFields(err), 'telegram.answer_callback_failed'));
    if (line === null || msg === undefined) {
      await answer(staleButton);
      return;
    }
    const [name = '', ...args] = line.split(' ');
    const cmd: IncomingCommand = {
      channel: channelOf(msg),
      user: { id: String(q.from.id), name: q.from.username ?? q.from.first_name },
      name,
      text: args.join(' '),
    };
    const refusal = guard(cmd);
    if (refusal !== null) {
      await answer(refusal.title.slice(0, 200));
      return;
    }
    // Telegram shows a spinner on the button until answered; answer before the work.
    await answer();
    run(cmd, true);
  });

  bot.catch((err, ctx) => log.error({ ...errFields(err), updateId: ctx.update.update_id }, 'telegram.handler_failed'));

  await setMenu(telegram, options.commands ?? [], log, token, timeoutMs);

  const handle = (update: Update): Promise<void> => bot.handleUpdate(update);
  const allowedUpdates = ['message', 'callback_query'] as const;
  let server: Server | undefined;
  let polling: Promise<void> | undefined;
  const abort = new AbortController();

  if (options.webhook !== undefined) {
    const secretToken = options.webhook.secretToken ?? randomBytes(32).toString('hex');
    if (options.webhook.secretToken === undefined) log.warn('telegram.webhook_secret_generated');
    server = await startWebhookServer({
      path: new URL(options.webhook.url).pathname,
      secretToken,
      port: options.webhook.port,
      ...(options.webhook.host === undefined ? {} : { host: options.webhook.host }),
      handle,
      onError: (err) => log.error(errFields(err), 'telegram.webhook_failed'),
    });
    try {
      await call('setWebhook', { url: options.webhook.url, secret_token: secretToken, allowed_updates: [...allowedUpdates] }, (code) =>
        code === 400 ? new StartupError('TELEGRAM_WEBHOOK_URL', 'TELEGRAM_WEBHOOK_URL: Telegram refused the webhook (400)') : undefined,
      );
    } catch (err) {
      server.close();
      throw err;
    }
    log.info({ username }, 'telegram.webhook_started');
  } else {
    // A webhook left set by an earlier deployment makes getUpdates fail with 409.
    await call('deleteWebhook', {});
    polling = pollUpdates({
      telegram,
      timeoutSec: options.pollTimeoutSec ?? 50,
      signal: abort.signal,
      allowedUpdates,
      handle,
      onError: (err, retryInMs) => log.warn({ ...errFields(err), retryInMs }, 'telegram.poll_failed'),
    }).catch((err: unknown) => log.error(errFields(err), 'telegram.polling_stopped'));
    log.info({ username }, 'telegram.polling_started');
  }

  const address = server?.address();
  return {
    sender: createTelegramSender(telegram, token, replyTimeoutMs),
    username,
    ...(address !== undefined && address !== null && typeof address === 'object' ? { webhookPort: address.port } : {}),
    async stop() {
      abort.abort();
      if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
      await polling;
      const left = await inFlight.drain(10_000);
      if (left > 0) log.warn({ left }, 'telegram.stop_with_commands_running');
    },
  };
}

/** A failed start-up call in words, without the token (telegraf's network errors carry the URL). */
function describeCall(method: string, err: unknown, token: string, timeoutMs: number): string {
  const e = err as { name?: unknown; description?: unknown } | null;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return `${method}: no answer within ${timeoutMs} ms`;
  const text = typeof e?.description === 'string' ? e.description : sanitizeError(err, token).message;
  return `${method}: ${sanitizeError(new Error(text), token).message}`.slice(0, 300);
}

async function setMenu(telegram: Telegram, commands: readonly MenuCommand[], log: Logger, token: string, timeoutMs: number): Promise<void> {
  // Bot API BotCommand: 1-32 lower-case letters, digits, underscores; description 1-256.
  const menu = commands
    .filter((c) => /^[a-z0-9_]{1,32}$/.test(c.name))
    .map((c) => ({ command: c.name, description: (c.summary.trim() || c.name).slice(0, 256) }));
  if (menu.length === 0) return;
  try {
    await telegram.callApi('setMyCommands', { commands: menu }, { signal: AbortSignal.timeout(timeoutMs) as never });
  } catch (err) {
    // Not fatal: commands still work when typed.
    log.warn({ err: sanitizeError(err, token) }, 'telegram.set_commands_failed');
  }
}

interface RunContext {
  cmd: IncomingCommand;
  telegram: Telegram;
  token: string;
  guard: CommandGuard;
  dispatcher: CommandDispatcher;
  inFlight: InFlight;
  log: Logger;
  progressIntervalMs: number;
  replyTimeoutMs: number;
}

/** Runs one command in the background; every outcome ends in a reply. */
function runCommand(c: RunContext): void {
  const { cmd, telegram, token, log } = c;
  let posted: Posted | undefined;
  const progress = new Progress(
    {
      post: async (reply) => {
        posted = await withOneRetry(() => postReply(telegram, token, cmd.channel, reply, c.replyTimeoutMs));
      },
      update: async (reply) => {
        const before = posted;
        posted = await withOneRetry(() => (before === undefined ? postReply(telegram, token, cmd.channel, reply, c.replyTimeoutMs) : updateReply(telegram, token, cmd.channel, before, reply, c.replyTimeoutMs)));
      },
    },
    { minIntervalMs: c.progressIntervalMs },
  );
  runInBackground({
    cmd,
    progress,
    guard: c.guard,
    dispatcher: c.dispatcher,
    inFlight: c.inFlight,
    log: (event, err) => {
      // Ids are logged so an operator can find a chat's id for TELEGRAM_ALLOWED_CHATS.
      const fields = { chat: cmd.channel.channelId, thread: cmd.channel.threadId, user: cmd.user.id, command: cmd.name };
      if (event === 'command_failed') log.error({ err: sanitizeError(err, token), ...fields }, 'telegram.command_failed');
      else if (event === 'reply_failed') log.warn({ err: sanitizeError(err, token), ...fields }, 'telegram.reply_failed');
      else log.info(fields, `telegram.${event}`);
    },
  });
}

/** Interactive replies do not go through the outbox: retry once on a short 429. */
async function withOneRetry<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    const wait = err instanceof DeliveryError ? err.options.retryAfterMs : undefined;
    if (wait === undefined || wait > 10_000) throw err;
    await new Promise((resolve) => setTimeout(resolve, wait));
    return send();
  }
}
