// The composition root: config → store → prober → monitor → outbox → scheduler → adapters.
// `npm start` runs main() below; tests call startBot() in-process with overrides.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startConsole, type ConsoleHandle } from './chat/console.ts';
import type { ChannelSender, CommandDispatcher } from './chat/types.ts';
import { TrustStore } from './cert/trust.ts';
import { createMailService } from './mail/service.ts';
import { createKeyedLock } from './commands/channel-lock.ts';
import { createMailWatch } from './mail/wire.ts';
import { createDispatcher, probingCommands, telegramCommandMenu, commands } from './commands/index.ts';
import { configFromProcess, type Config } from './config.ts';
import type { Services } from './core/services.ts';
import { Monitor, type ProbeFn } from './monitor/index.ts';
import { startOpsServer, type OpsServer } from './ops/http.ts';
import { readBounded } from './cli/read-bounded.ts';
import { chooseLogDestination } from './ops/log-destination.ts';
import { createLogger, scrub, type Logger } from './ops/logger.ts';
import { Metrics } from './ops/metrics.ts';
import { EXIT_CONFIG } from './ops/startup.ts';
import { OutboxStore, OutboxWorker } from './outbox/index.ts';
import { Prober, type Resolver } from './probe/probe.ts';
import { HttpClient } from './net/http-client.ts';
import { Revocation } from './revocation/index.ts';
import { postDigest, redisRunCoordinator, Scheduler, type ClosableCoordinator } from './scheduler/index.ts';
import { createAddressPolicy, createCheckRateLimiter } from './security/index.ts';
import { openStore, type Store } from './store/index.ts';
import { stableReplicaId } from './store/replica-id.ts';

/** Replacements for tests (fake probe, fake clock, extra senders, no cron...). */
export interface BotOverrides {
  log?: Logger;
  probe?: ProbeFn;
  resolve?: Resolver;
  trust?: TrustStore;
  now?: () => Date;
  /** Extra senders (e.g. a test sink), registered with the outbox worker. */
  senders?: ChannelSender[];
  /** Console streams; false: no console even in console mode. */
  console?: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } | false;
  /** false: no cron tasks and no startup catch-up (tests call scheduler.tick()). */
  schedule?: boolean;
  /** Outbox worker poll interval and retry base (tests shorten them). */
  outbox?: { pollMs?: number; baseDelayMs?: number };
  /** Aborts start-up (a signal while a chat platform is being retried). */
  signal?: AbortSignal;
}

/** A running bot. */
export interface BotHandle {
  config: Config;
  store: Store;
  services: Services;
  monitor: Monitor;
  scheduler: Scheduler;
  worker: OutboxWorker;
  dispatcher: CommandDispatcher;
  metrics: Metrics;
  /** The ops server's port when HTTP_PORT is set. */
  httpPort: number | undefined;
  /** Resolves when the console session ends (EOF) in console-only mode. */
  consoleClosed: Promise<void> | undefined;
  /** Graceful shutdown: stop inputs and cron, abort probes, drain the outbox briefly, close the store. */
  stop(): Promise<void>;
}

/** Largest EXTRA_CA_FILE accepted (the same bound as `certwatch check --ca`). */
const MAX_EXTRA_CA_BYTES = 1024 * 1024;

/** How long shutdown waits for the outbox to flush. */
const DRAIN_MS = 3000;

/** Builds and starts everything the config asks for. */
export async function startBot(config: Config, overrides: BotOverrides = {}): Promise<BotHandle> {
  const chatConfigured = config.slack.botToken !== undefined || config.telegram.botToken !== undefined;
  const consoleWanted = overrides.console !== false && (config.console === 'on' || (config.console === 'auto' && !chatConfigured));
  const secrets = [config.slack.botToken, config.slack.appToken, config.slack.signingSecret, config.telegram.botToken, config.telegram.webhookSecret, config.storeUrl, config.redisUrl];
  // The console on this process's terminal: logs go to a file there (issue 10, N1).
  const consoleOnStdio = consoleWanted && overrides.console === undefined;
  let logFile: string | undefined;
  let log = overrides.log;
  if (log === undefined) {
    const where = chooseLogDestination({ console: consoleOnStdio, stdoutIsTTY: process.stdout.isTTY === true, stderrIsTTY: process.stderr.isTTY === true, dataDir: config.dataDir });
    try {
      log = createLogger({ level: config.logLevel, secrets, ...where });
      if ('file' in where) logFile = where.file;
    } catch {
      log = createLogger({ level: config.logLevel, secrets, fd: 2 }); // an unwritable DATA_DIR: better mixed than lost
    }
  }
  const now = overrides.now ?? (() => new Date());
  const stopping = new AbortController();
  const cleanups: (() => Promise<void>)[] = [];

  // The default STORE_URL is derived from DATA_DIR: an unusable directory names DATA_DIR.
  const embedded = config.storeUrl === `sqlite://${join(config.dataDir, 'certwatch.sqlite')}`;
  // Without REPLICA_ID the embedded store keeps its first replica id in DATA_DIR, so a
  // container recreated with a new host name still delivers the alerts pending under it.
  const replicaId = embedded && !config.replicaIdSet ? stableReplicaId(config.dataDir, config.replicaId).id : config.replicaId;
  const store = await openStore({
    storeUrl: config.storeUrl,
    setting: embedded ? 'DATA_DIR' : 'STORE_URL',
    replicaId,
    defaults: { thresholds: config.alertThresholds, failAfter: config.failAfter, digest: false },
    onInvalid: (key, reason) => log.warn({ key, reason }, 'store.invalid_value'),
  });
  try {
    let trust = overrides.trust ?? TrustStore.bundled();
    if (config.extraCaFile !== undefined) {
      // Bounded like `check --ca`: EXTRA_CA_FILE=/dev/zero must fail fast, not fill memory.
      const pem = await readBounded('EXTRA_CA_FILE', config.extraCaFile, MAX_EXTRA_CA_BYTES, process.stdin);
      trust = trust.withExtra(pem, config.extraCaFile);
    }
    const revocation = config.revocation
      ? new Revocation({ http: new HttpClient({ addressPolicy: createAddressPolicy({ allowPrivate: config.allowPrivateTargets, allowCidrs: config.allowedTargetCidrs }) }) })
      : undefined;
    const prober = new Prober({ trust, ...(overrides.resolve ? { resolve: overrides.resolve } : {}), ...(revocation === undefined ? {} : { revocation }) });
    const probe: ProbeFn = overrides.probe ?? ((t, o) => prober.probe(t, o));

    const outbox = new OutboxStore(store.kv, store.repo.index);
    const worker = new OutboxWorker({ store: outbox, log: log.child({ component: 'outbox' }), now, ...overrides.outbox });
    const metrics = new Metrics({ outboxPending: () => worker.pendingCount });
    const monitor = new Monitor({
      repo: store.repo,
      outbox,
      probe,
      trust,
      addressPolicy: createAddressPolicy({ allowPrivate: config.allowPrivateTargets, allowCidrs: config.allowedTargetCidrs }),
      timeoutMs: config.probeTimeoutMs,
      ...(config.probeFamily === undefined ? {} : { family: config.probeFamily }),
      warnDays: config.warnDays,
      critDays: config.critDays,
      now,
      log: log.child({ component: 'monitor' }),
      signal: stopping.signal,
      onEnqueued: () => worker.kick(),
      onChecked: (record, latest) => metrics.recordCheck(record, latest),
    });
    const services: Services = {
      mail: createMailService({
        servers: config.dnsServers,
        trust,
        addressPolicy: createAddressPolicy({ allowPrivate: config.allowPrivateTargets, allowCidrs: config.allowedTargetCidrs }),
        timeoutMs: config.probeTimeoutMs,
        warnDays: config.warnDays,
        critDays: config.critDays,
        signal: stopping.signal,
        ...(config.probeFamily === undefined ? {} : { family: config.probeFamily }),
      }),
      repo: store.repo,
      checks: monitor,
      now,
      defaults: { thresholds: config.alertThresholds, failAfter: config.failAfter, digest: false, warnDays: config.warnDays, critDays: config.critDays },
      limits: { maxTargetsPerChannel: config.maxTargetsPerChannel },
      channelLock: createKeyedLock(),
    };
    services.mailWatch = createMailWatch({ store, outbox, services, critDays: config.critDays, log: log.child({ component: 'mail' }), signal: stopping.signal, onEnqueued: () => worker.kick() });
    const dispatcher = createDispatcher({ services, log: log.child({ component: 'commands' }) });

    let coordinator: ClosableCoordinator | undefined;
    if (config.redisUrl !== undefined) {
      const coordLog = log.child({ component: 'coordinator' });
      coordinator = await redisRunCoordinator(config.redisUrl, { onError: (err) => coordLog.warn({ error: err instanceof Error ? err.message : String(err) }, 'run.lease_failed') });
      cleanups.push(() => coordinator!.close());
    }
    const scheduler = new Scheduler({
      repo: store.repo,
      checker: monitor,
      mail: services.mailWatch,
      log: log.child({ component: 'scheduler' }),
      checkSchedule: config.checkSchedule,
      digestSchedule: config.digestSchedule,
      digest: (at) => postDigest({ repo: store.repo, mailDomains: services.mailWatch?.repo, outbox, onEnqueued: () => worker.kick() }, at).then(() => {}),
      concurrency: config.checkConcurrency,
      jitterMs: config.checkJitterMs,
      spreadMs: config.checkSpreadMs,
      now,
      coordinator,
      onRun: (report) => {
        if (report.reason !== 'scheduled') return metrics.recordRun(report.reason, report.durationMs);
        // Ids only: loading every record here would undo the paged run (issue 9).
        void store.repo.targetIds().then(
          (ids) => metrics.recordRun(report.reason, report.durationMs, new Set(ids)),
          () => metrics.recordRun(report.reason, report.durationMs),
        );
      },
    });

    // --- Adapters. Each registers its ChannelSender with the outbox worker. ---
    const limiter = createCheckRateLimiter({ perUser: { capacity: 5, refillMs: 12_000 }, perChannel: { capacity: 20, refillMs: 3_000 } });
    const chatLog = log.child({ component: 'chat' });
    for (const s of overrides.senders ?? []) worker.register(s);
    // Slack (issue 4): Socket Mode with an app token, HTTP mode with a signing secret.
    if (config.slack.botToken !== undefined) {
      const { startSlack } = await import('./chat/slack/app.ts');
      const slack = await startSlack({
        botToken: config.slack.botToken,
        ...(config.slack.appToken !== undefined ? { appToken: config.slack.appToken } : {}),
        ...(config.slack.signingSecret !== undefined ? { signingSecret: config.slack.signingSecret } : {}),
        ...(config.slack.apiUrl !== undefined ? { apiUrl: config.slack.apiUrl } : {}),
        ...(config.slack.port !== undefined ? { port: config.slack.port } : {}),
        dispatcher,
        logger: chatLog,
        allowedChannels: config.slack.allowedChannels,
        allowedUsers: config.slack.allowedUsers,
        limiter,
        limitedCommands: probingCommands,
        ...(overrides.signal === undefined ? {} : { signal: overrides.signal }),
      });
      worker.register(slack.sender);
      cleanups.push(() => slack.stop());
    }
    // Telegram (issue 4): long polling, or webhook mode with TELEGRAM_WEBHOOK_URL.
    if (config.telegram.botToken !== undefined) {
      const { startTelegram } = await import('./chat/telegram/bot.ts');
      const { webhookUrl, webhookSecret, webhookPort } = config.telegram;
      const telegram = await startTelegram({
        token: config.telegram.botToken,
        ...(config.telegram.apiRoot !== undefined ? { apiRoot: config.telegram.apiRoot } : {}),
        dispatcher,
        logger: chatLog,
        commands: telegramCommandMenu(commands).map((c) => ({ name: c.command, summary: c.description })),
        allowedChats: config.telegram.allowedChats,
        limiter,
        limitedCommands: probingCommands,
        ...(overrides.signal === undefined ? {} : { signal: overrides.signal }),
        ...(webhookUrl !== undefined ? { webhook: { url: webhookUrl, port: webhookPort ?? 8443, ...(webhookSecret !== undefined ? { secretToken: webhookSecret } : {}) } } : {}),
      });
      worker.register(telegram.sender);
      cleanups.push(() => telegram.stop());
    }
    let consoleSession: ConsoleHandle | undefined;
    if (consoleWanted && overrides.console !== false) {
      const io = overrides.console ?? { input: process.stdin, output: process.stdout };
      consoleSession = startConsole({
        input: io.input as NodeJS.ReadableStream & import('node:stream').Readable,
        output: io.output as NodeJS.WritableStream & import('node:stream').Writable,
        dispatcher,
        prompt: overrides.console === undefined && process.stdin.isTTY === true,
        ...(consoleOnStdio && process.stdout.isTTY === true ? { banner: consoleBanner(logFile) } : {}),
      });
      worker.register(consoleSession.sender);
      log.info('console.ready');
    }

    let ops: OpsServer | undefined;
    if (config.httpPort !== null) {
      ops = await startOpsServer({
        host: config.httpHost,
        port: config.httpPort,
        metrics,
        log: log.child({ component: 'http' }),
        health: async () => {
          const checks: Record<string, string> = {};
          try {
            await store.kv.ping();
            checks.store = 'ok';
          } catch (err) {
            checks.store = err instanceof Error ? err.message : 'unreachable';
          }
          checks.outboxPending = String(worker.pendingCount);
          return { ok: checks.store === 'ok', checks };
        },
      });
    }

    worker.start();
    if (overrides.schedule !== false) scheduler.start();
    log.info({ schedule: config.checkSchedule, replica: replicaId, console: consoleSession !== undefined, chat: chatConfigured }, 'bot.started');

    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        log.info('bot.stopping');
        // Every step runs even when one before it failed (the store must still close); the
        // failures are logged and stop() rejects with them, so the exit status says so.
        const failures: unknown[] = [];
        const step = async (name: string, fn: () => unknown): Promise<void> => {
          try {
            await fn();
          } catch (err) {
            failures.push(err);
            log.error({ err, step: name }, 'bot.stop_failed');
          }
        };
        await step('console', () => consoleSession?.close());
        stopping.abort();
        await step('scheduler', () => scheduler.stop());
        // Deliver what is due while the adapters are still connected; whatever is left (or a
        // send cut off here) stays pending and is delivered at the next start.
        await Promise.race([worker.drainOnce().catch(() => undefined), new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
        await step('outbox', () => worker.stop(1000));
        for (const c of cleanups.splice(0).reverse()) await step('adapter', c);
        await step('ops', () => ops?.close());
        await step('store', () => store.close());
        if (failures.length > 0) {
          log.error({ failed: failures.length }, 'bot.stopped_with_errors');
          throw failures.length === 1 ? failures[0] : new AggregateError(failures, `${failures.length} shutdown steps failed`);
        }
        log.info('bot.stopped');
      })());

    return {
      config,
      store,
      services,
      monitor,
      scheduler,
      worker,
      dispatcher,
      metrics,
      httpPort: ops?.port,
      consoleClosed: consoleSession?.closed,
      stop,
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}

/** What a person at the terminal sees first: how to start, how to leave, where the logs are. */
export function consoleBanner(logFile: string | undefined): string[] {
  return [
    'certwatch console: type /help for the commands; /quit or Ctrl-D leaves.',
    logFile === undefined ? 'Logs go to stderr.' : `Logs are written to ${logFile}`,
  ];
}

/** `npm start`: reads the environment, starts the bot, stops it on SIGTERM/SIGINT. */
export async function main(): Promise<void> {
  const config = configFromProcess();
  secretValues.push(...[config.slack.botToken, config.slack.appToken, config.slack.signingSecret, config.telegram.botToken, config.telegram.webhookSecret, config.storeUrl, config.redisUrl].filter((x): x is string => x !== undefined && x.length >= 6));
  // Signals are handled from the start: a platform retried with backoff must not make
  // SIGTERM wait for the forced exit.
  const starting = new AbortController();
  let bot: BotHandle | undefined;
  let signals = 0;
  const shutdown = (signal: string): void => {
    if (++signals > 1) process.exit(1); // a second Ctrl-C: stop waiting
    process.stderr.write(`certwatch: ${signal}, shutting down\n`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    if (bot === undefined) starting.abort();
    else
      void bot.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(fatalLine(`shutdown failed: ${messageOf(err)}`));
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    bot = await startBot(config, { signal: starting.signal });
  } catch (err) {
    if (starting.signal.aborted) process.exit(0);
    throw err;
  }
  if (starting.signal.aborted) {
    await bot.stop();
    process.exit(0);
  }
  // Console-only mode behaves like a REPL: end of input (EOF, Ctrl-D) ends the bot.
  const chat = config.slack.botToken !== undefined || config.telegram.botToken !== undefined;
  if (bot.consoleClosed !== undefined && !chat) {
    await bot.consoleClosed;
    await bot.stop();
    process.exit(0);
  }
}

/** Secret values of this process, scrubbed from every line written at exit. */
const secretValues: string[] = [];

/** One line on stderr, secret values scrubbed, newlines flattened. */
function fatalLine(text: string): string {
  return `certwatch: ${scrub(text, secretValues).replace(/\s*\n\s*/g, ' ').slice(0, 2000)}\n`;
}

/** The message of a thrown value (no stack, no properties: an error may carry a request). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The process entry (`certwatch bot`, `npm start`): the one place that turns a failure into an
 * exit. A start-up dependency refusing the configuration (an error naming a setting) exits 78;
 * anything else 1; a rejection or exception nothing handled exits 70 with one scrubbed line
 * instead of Node's dump (which prints every property of the error, request headers included).
 */
export async function runBotProcess(): Promise<void> {
  const crash = (kind: string) => (err: unknown) => {
    process.stderr.write(fatalLine(`${kind}: ${messageOf(err)}`));
    process.exit(70);
  };
  process.on('unhandledRejection', crash('unexpected failure (unhandled rejection)'));
  process.on('uncaughtException', crash('unexpected failure'));
  await main().catch((err: unknown) => {
    const setting = (err as { setting?: unknown } | null)?.setting;
    process.stderr.write(fatalLine(messageOf(err)));
    process.exit(typeof setting === 'string' ? EXIT_CONFIG : 1);
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runBotProcess();
