// The Slack front end: Bolt receives `/cert` slash commands, app mentions and button presses
// (Socket Mode by default, or signed HTTP requests), acknowledges at once, and runs the
// command in the background through the shared dispatcher. Only src/chat/slack imports Bolt.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, SocketModeReceiver, webApi, type Receiver } from '@slack/bolt';
import type { Logger } from 'pino';
import { createAccessControl } from '../../security/access.ts';
import { createCommandGuard, type CommandGuard } from '../../security/guard.ts';
import { InFlight } from '../../security/in-flight.ts';
import type { CheckRateLimiter } from '../../security/rate-limit.ts';
import type { ChannelSender, CommandDispatcher, IncomingCommand } from '../types.ts';
import { ACTION_PREFIX } from './blocks.ts';
import { boltLogger } from './logger.ts';
import { splitCommandLine, stripMention } from './parse.ts';
import { Progress, type Responder } from '../progress.ts';
import { runInBackground } from '../run-command.ts';
import { RESPONSE_URL_USES, responseUrlResponder, webApiResponder } from './responders.ts';
import { createSlackSender } from './sender.ts';
import { slackErrorName } from './errors.ts';
import { retryWhileUnreachable, StartupError } from '../../ops/startup.ts';

/** Retry policy of a Web API client (@slack/web-api RetryOptions). */
export interface SlackRetry {
  retries: number;
  factor?: number;
  minTimeout?: number;
  maxTimeout?: number;
}

/** Everything startSlack needs; main.ts builds it from Config. */
export interface SlackOptions {
  botToken: string;
  /** App-level token: Socket Mode (the default deployment). */
  appToken?: string;
  /** Signing secret: HTTP mode, used when no app token is given. */
  signingSecret?: string;
  /** Web API base URL ending in "/api/" (GovSlack, tests); default https://slack.com/api/. */
  apiUrl?: string;
  /** HTTP mode listen port (0: any) and host. */
  port?: number;
  host?: string;
  dispatcher: CommandDispatcher;
  logger: Logger;
  /** The slash command as configured in the app manifest. */
  slashCommand?: string;
  /** Allow-lists; empty or absent allows everyone. */
  allowedChannels?: readonly string[];
  allowedUsers?: readonly string[];
  limiter?: CheckRateLimiter;
  /** Commands that spend rate-limit tokens (default: the guard's, check and add). */
  limitedCommands?: readonly string[];
  maxArgLength?: number;
  /**
   * Retries of the client used for interactive replies. Short by default (2 retries within a
   * few seconds): the user is waiting, and alerts have the outbox's own retries.
   */
  interactiveRetry?: SlackRetry;
  /** Timeout of each Web API request in ms (default 10 s). */
  requestTimeoutMs?: number;
  /** Least time between progress updates of one reply (default 1.5 s). */
  progressIntervalMs?: number;
  maxInFlight?: number;
  /** Aborts the start-up retries (shutdown while Slack is unreachable). */
  signal?: AbortSignal;
}

/** Web API errors that mean the token itself is refused: retrying cannot help. */
const refusedToken = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type', 'invalid_token']);

/**
 * A failed Web API call in words, without anything from the response body or request: an
 * endpoint that echoes the request would otherwise put the Authorization header in the log.
 */
function describeSlackError(err: unknown): string {
  const name = slackErrorName(err);
  if (name !== undefined) return `Slack answered ${name}`;
  const e = err as { code?: unknown; statusCode?: unknown; original?: { code?: unknown; message?: unknown } } | null;
  if (e?.code === 'slack_webapi_http_error') return `HTTP ${String(e.statusCode)}`;
  if (e?.code === 'slack_webapi_rate_limited_error') return 'rate limited';
  const original = e?.original;
  if (typeof original?.code === 'string') return original.code === 'ECONNABORTED' ? 'no answer in time' : original.code;
  if (typeof original?.message === 'string') return original.message.slice(0, 200);
  return typeof e?.code === 'string' ? e.code : 'request failed';
}

/** A running Slack adapter. */
export interface SlackAdapter {
  sender: ChannelSender;
  botUserId: string | undefined;
  /** HTTP mode: the port the receiver listens on. */
  port?: number;
  stop(): Promise<void>;
}

/** Starts the Slack adapter (Socket Mode when appToken is set, HTTP mode otherwise). */
export async function startSlack(options: SlackOptions): Promise<SlackAdapter> {
  const log = options.logger.child({ platform: 'slack' });
  const bolt = boltLogger(log);
  const slackApiUrl = options.apiUrl;
  const timeout = options.requestTimeoutMs ?? 10_000;
  const interactiveRetry = options.interactiveRetry ?? { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 3000 };
  const clientOptions = { ...(slackApiUrl === undefined ? {} : { slackApiUrl }), retryConfig: interactiveRetry, timeout, logger: bolt };

  // Credentials first, with our own client: Bolt's token verification runs auth.test from its
  // constructor with nothing awaiting it, so a refusal became an unhandled rejection whose dump
  // held the request's Authorization header. A refused token ends the start (exit 78); an
  // unreachable Slack is retried with backoff and logged.
  const startClient = (token: string) => new webApi.WebClient(token, { ...(slackApiUrl === undefined ? {} : { slackApiUrl }), retryConfig: { retries: 0 }, timeout, logger: bolt });
  const checkToken = <T>(setting: string, call: () => Promise<T>): Promise<T> =>
    retryWhileUnreachable(
      {
        event: 'slack.unreachable',
        log: log.child({ setting }),
        signal: options.signal,
        describe: describeSlackError,
        fatal: (err) => {
          const name = slackErrorName(err);
          return name !== undefined && refusedToken.has(name) ? new StartupError(setting, `${setting}: Slack refused the token (${name})`) : undefined;
        },
      },
      call,
    );
  const auth = await checkToken('SLACK_BOT_TOKEN', () => startClient(options.botToken).auth.test());
  if (options.appToken !== undefined) {
    const appToken = options.appToken;
    await checkToken('SLACK_APP_TOKEN', () => startClient(appToken).apps.connections.open());
  }

  let receiver: Receiver;
  if (options.appToken !== undefined) {
    receiver = new SocketModeReceiver({ appToken: options.appToken, logger: bolt, installerOptions: { clientOptions: { ...(slackApiUrl === undefined ? {} : { slackApiUrl }), timeout } } });
  } else if (options.signingSecret !== undefined) {
    // Bolt verifies the v0 HMAC signature and timestamp of every request and answers 401.
    receiver = new HTTPReceiver({ signingSecret: options.signingSecret, logger: bolt, bodyLimit: 512 * 1024, unhandledRequestTimeoutMillis: 3001 });
  } else {
    throw new Error('slack: set an app token (Socket Mode) or a signing secret (HTTP mode)');
  }
  const app = new App({
    token: options.botToken,
    receiver,
    logger: bolt,
    clientOptions,
    tokenVerificationEnabled: false,
    ...(auth.bot_id === undefined ? {} : { botId: auth.bot_id }),
    ...(auth.user_id === undefined ? {} : { botUserId: auth.user_id }),
    ...(options.appToken === undefined ? {} : { socketMode: true }),
  });

  // Alerts go through the outbox, which retries with backoff: this client does not retry and
  // reports 429 at once (rejectRateLimitedCalls) so the outbox can honour Retry-After.
  const outboxClient = new webApi.WebClient(options.botToken, { ...(slackApiUrl === undefined ? {} : { slackApiUrl }), retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout, logger: bolt });

  const guard = createCommandGuard({
    access: createAccessControl({ channels: options.allowedChannels ?? [], users: options.allowedUsers ?? [] }),
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    ...(options.limitedCommands === undefined ? {} : { limitedCommands: options.limitedCommands }),
    ...(options.maxArgLength === undefined ? {} : { maxArgLength: options.maxArgLength }),
  });
  const inFlight = new InFlight(options.maxInFlight ?? 100);
  const run = (cmd: IncomingCommand, responder: Responder, maxUses?: number): void =>
    runCommand({ cmd, responder, guard, dispatcher: options.dispatcher, inFlight, log, progress: { minIntervalMs: options.progressIntervalMs ?? 1500, ...(maxUses === undefined ? {} : { maxUses }) } });

  const botUserId: string | undefined = auth.user_id;
  const slash = options.slashCommand ?? '/cert';

  app.command(slash, async ({ command, ack, respond }) => {
    // Slack gives three seconds for the acknowledgement: nothing runs before it.
    await ack();
    const { name, text } = splitCommandLine(command.text);
    const cmd: IncomingCommand = { channel: { platform: 'slack', channelId: command.channel_id }, user: { id: command.user_id, name: command.user_name }, name, text };
    run(cmd, responseUrlResponder(respond), RESPONSE_URL_USES);
  });

  app.event('app_mention', async ({ event, client }) => {
    if (event.bot_id !== undefined || event.user === undefined) return;
    const { name, text } = splitCommandLine(stripMention(event.text, botUserId));
    const channel = { platform: 'slack' as const, channelId: event.channel, ...(event.thread_ts === undefined ? {} : { threadId: event.thread_ts }) };
    run({ channel, user: { id: event.user }, name, text }, webApiResponder(client, channel, event.user));
  });

  app.action({ type: 'block_actions', action_id: new RegExp(`^${ACTION_PREFIX}_`) }, async ({ ack, body, action, respond, client }) => {
    await ack();
    const channelId = body.channel?.id;
    if (action.type !== 'button' || typeof action.value !== 'string' || channelId === undefined) return;
    const threadTs = body.message?.thread_ts as string | undefined;
    const channel = { platform: 'slack' as const, channelId, ...(threadTs === undefined ? {} : { threadId: threadTs }) };
    const { name, text } = splitCommandLine(action.value);
    run({ channel, user: { id: body.user.id, name: body.user.name }, name, text }, webApiResponder(client, channel, body.user.id, responseUrlResponder(respond)));
  });

  app.error(async (err) => {
    log.error({ err }, 'slack.handler_failed');
  });

  let server: Server | undefined;
  const startDeadline = 30_000;
  const started = async <T>(what: string, p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`slack: ${what} did not finish within ${startDeadline} ms`)), startDeadline)))]);
    } catch (err) {
      await app.stop().catch(() => {});
      if (err instanceof StartupError || (err instanceof Error && err.message.startsWith('slack:'))) throw err;
      throw new Error(`slack: ${what} failed: ${describeSlackError(err)}`);
    } finally {
      clearTimeout(timer);
    }
  };
  if (options.appToken !== undefined) {
    await started('connecting Socket Mode', app.start());
  } else {
    const port = options.port ?? 3000;
    server = (await started(`listening on port ${port}`, app.start({ port, host: options.host ?? '0.0.0.0' }).catch((err: unknown) => {
      const code = (err as { code?: unknown } | null)?.code;
      throw typeof code === 'string' && /^E(ADDRINUSE|ACCES|ADDRNOTAVAIL)$/.test(code) ? new StartupError('SLACK_PORT', `SLACK_PORT: cannot listen on port ${port} (${code})`) : err;
    }))) as Server;
  }
  const address = server?.address() as AddressInfo | null | undefined;
  log.info({ mode: options.appToken === undefined ? 'http' : 'socket', botUserId }, 'slack.started');

  return {
    sender: createSlackSender(outboxClient),
    botUserId,
    ...(address ? { port: address.port } : {}),
    async stop() {
      await app.stop();
      const left = await inFlight.drain(10_000);
      if (left > 0) log.warn({ left }, 'slack.stop_with_commands_running');
    },
  };
}

interface RunContext {
  cmd: IncomingCommand;
  responder: Responder;
  guard: CommandGuard;
  dispatcher: CommandDispatcher;
  inFlight: InFlight;
  log: Logger;
  progress: { minIntervalMs: number; maxUses?: number };
}

/** Runs one command in the background; every outcome ends in a reply. */
function runCommand(c: RunContext): void {
  const { cmd, log } = c;
  runInBackground({
    cmd,
    progress: new Progress(c.responder, c.progress),
    guard: c.guard,
    dispatcher: c.dispatcher,
    inFlight: c.inFlight,
    log: (event, err) => {
      const fields = { channel: cmd.channel.channelId, thread: cmd.channel.threadId, user: cmd.user.id, command: cmd.name };
      if (event === 'command_failed') log.error({ err, ...fields }, 'slack.command_failed');
      else if (event === 'reply_failed') log.warn({ err, ...fields }, 'slack.reply_failed');
      else log.info(fields, `slack.${event}`);
    },
  });
}
