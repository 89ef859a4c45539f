// The one module that reads process.env. Everything else receives a parsed Config.
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';

/** Raw environment as a plain record (tests pass their own). */
export type Env = Record<string, string | undefined>;

const blankToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const opt = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);
const cronExpr = z.string().refine((v) => cron.validate(v), { message: 'not a valid cron expression (node-cron syntax)' });
const days = list.pipe(
  z.array(z.string().regex(/^\d{1,4}$/, 'expected whole days').transform(Number).pipe(z.number().max(3650))).min(1),
);
const cidr = z.string().refine(
  (v) => {
    const [addr, bits, extra] = v.split('/');
    const fam = isIP(addr ?? '');
    if (fam === 0 || extra !== undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
    return Number(bits) <= (fam === 4 ? 32 : 128);
  },
  { message: 'expected address/prefix, e.g. 10.0.0.0/8 or fd00::/8' },
);
const url = z.url();

/**
 * Every environment variable certwatch reads. `.env.example` documents each key
 * (test/config/env-example.test.ts keeps the two in agreement).
 */
export const envSchema = z.object({
  DATA_DIR: opt(z.string()),
  STORE_URL: opt(z.string().regex(/^(sqlite|postgres|postgresql|redis|rediss|memory):/, 'use sqlite://, postgres://, redis:// or memory://')),
  REPLICA_ID: opt(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-" only')),
  CHECK_SCHEDULE: opt(cronExpr),
  DIGEST_SCHEDULE: opt(cronExpr),
  CHECK_CONCURRENCY: opt(int(1, 1000)),
  CHECK_JITTER_MS: opt(int(0, 3_600_000)),
  CHECK_SPREAD_MS: opt(int(0, 86_400_000)),
  PROBE_TIMEOUT_MS: opt(int(100, 300_000)),
  PROBE_IP_FAMILY: opt(z.enum(['any', '4', '6'])),
  WARN_DAYS: opt(int(0, 3650)),
  CRIT_DAYS: opt(int(0, 3650)),
  ALERT_THRESHOLDS: opt(days),
  FAIL_AFTER: opt(int(1, 100)),
  HTTP_PORT: opt(int(0, 65535)),
  HTTP_HOST: opt(z.string()),
  LOG_LEVEL: opt(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  EXTRA_CA_FILE: opt(z.string()),
  ALLOW_PRIVATE_TARGETS: opt(bool),
  ALLOWED_TARGET_CIDRS: opt(list.pipe(z.array(cidr))),
  MAX_TARGETS_PER_CHANNEL: opt(int(1, 100_000)),
  CONSOLE: opt(z.enum(['auto', 'on', 'off'])),
  REDIS_URL: opt(url),
  SLACK_BOT_TOKEN: opt(z.string().startsWith('xoxb-', 'Slack bot tokens start with xoxb-')),
  SLACK_APP_TOKEN: opt(z.string().startsWith('xapp-', 'Slack app-level tokens start with xapp-')),
  SLACK_SIGNING_SECRET: opt(z.string().min(8)),
  SLACK_API_URL: opt(url),
  SLACK_PORT: opt(int(0, 65535)),
  SLACK_ALLOWED_CHANNELS: opt(list),
  SLACK_ALLOWED_USERS: opt(list),
  TELEGRAM_BOT_TOKEN: opt(z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'expected <bot id>:<secret> as issued by @BotFather')),
  TELEGRAM_API_ROOT: opt(url),
  TELEGRAM_WEBHOOK_URL: opt(url),
  TELEGRAM_WEBHOOK_SECRET: opt(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, '1-256 of A-Z, a-z, 0-9, "_" and "-" (Bot API secret_token)')),
  TELEGRAM_WEBHOOK_PORT: opt(int(0, 65535)),
  TELEGRAM_ALLOWED_CHATS: opt(list),
});

/** Names of every variable in the schema. */
export const envKeys = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

/** Variables whose values must never appear in logs or error messages. */
export const secretKeys = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET', 'STORE_URL', 'REDIS_URL'] as const;

/** Parsed, defaulted configuration handed to the composition root. */
export interface Config {
  dataDir: string;
  /** keyv backend: sqlite://path, postgres://..., redis://... or memory:// (tests). */
  storeUrl: string;
  /** Names this process's index segments in a shared store (see src/store/repository.ts). */
  replicaId: string;
  checkSchedule: string;
  digestSchedule: string | undefined;
  checkConcurrency: number;
  /** Most random delay before each probe of a scheduled run, spreading load. */
  checkJitterMs: number;
  /** Spread a scheduled run's starts evenly over this window (0: as fast as concurrency allows). */
  checkSpreadMs: number;
  probeTimeoutMs: number;
  /** Probe only IPv4 or IPv6 addresses of host names; undefined probes both. */
  probeFamily: 4 | 6 | undefined;
  warnDays: number;
  critDays: number;
  alertThresholds: number[];
  failAfter: number;
  /** null: no HTTP server; 0: an ephemeral port (tests). */
  httpPort: number | null;
  httpHost: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  extraCaFile: string | undefined;
  allowPrivateTargets: boolean;
  allowedTargetCidrs: string[];
  maxTargetsPerChannel: number;
  /** auto: the console adapter runs when no chat platform is configured. */
  console: 'auto' | 'on' | 'off';
  redisUrl: string | undefined;
  slack: {
    botToken: string | undefined;
    appToken: string | undefined;
    signingSecret: string | undefined;
    apiUrl: string | undefined;
    /** HTTP receiver port when no app token is set (HTTP mode). */
    port: number | undefined;
    allowedChannels: string[];
    allowedUsers: string[];
  };
  telegram: {
    botToken: string | undefined;
    apiRoot: string | undefined;
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
    webhookPort: number | undefined;
    allowedChats: string[];
  };
}

/** Invalid environment: `problems` lists every bad variable (never its value). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Parses an environment into a Config; throws ConfigError listing every problem. */
export function parseConfig(env: Env, cwd = '.'): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // Issue messages name the variable and the rule; zod does not echo the input value.
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const warnDays = e.WARN_DAYS ?? 30;
  const critDays = e.CRIT_DAYS ?? 7;
  if (critDays > warnDays) problems.push(`CRIT_DAYS: must not exceed WARN_DAYS (${warnDays})`);
  if (e.SLACK_BOT_TOKEN !== undefined && e.SLACK_APP_TOKEN === undefined && e.SLACK_SIGNING_SECRET === undefined) {
    problems.push('SLACK_BOT_TOKEN: needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)');
  }
  if ((e.SLACK_APP_TOKEN !== undefined || e.SLACK_SIGNING_SECRET !== undefined) && e.SLACK_BOT_TOKEN === undefined) {
    problems.push('SLACK_BOT_TOKEN: required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set');
  }
  if (e.TELEGRAM_WEBHOOK_URL !== undefined && e.TELEGRAM_WEBHOOK_SECRET === undefined) {
    problems.push('TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL (requests are checked against it)');
  }
  if (e.TELEGRAM_WEBHOOK_URL !== undefined && e.TELEGRAM_BOT_TOKEN === undefined) {
    problems.push('TELEGRAM_BOT_TOKEN: required with TELEGRAM_WEBHOOK_URL');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = resolve(cwd, e.DATA_DIR ?? './data');
  const thresholds = [...new Set(e.ALERT_THRESHOLDS ?? [30, 14, 7, 3, 1])].sort((a, b) => b - a);
  return {
    dataDir,
    storeUrl: e.STORE_URL ?? `sqlite://${join(dataDir, 'certwatch.sqlite')}`,
    replicaId: e.REPLICA_ID ?? sanitizeReplica(hostname()),
    checkSchedule: e.CHECK_SCHEDULE ?? '0 */6 * * *',
    digestSchedule: e.DIGEST_SCHEDULE,
    checkConcurrency: e.CHECK_CONCURRENCY ?? 20,
    checkJitterMs: e.CHECK_JITTER_MS ?? 30_000,
    checkSpreadMs: e.CHECK_SPREAD_MS ?? 0,
    probeTimeoutMs: e.PROBE_TIMEOUT_MS ?? 10_000,
    probeFamily: e.PROBE_IP_FAMILY === '4' ? 4 : e.PROBE_IP_FAMILY === '6' ? 6 : undefined,
    warnDays,
    critDays,
    alertThresholds: thresholds,
    failAfter: e.FAIL_AFTER ?? 2,
    httpPort: e.HTTP_PORT ?? null,
    httpHost: e.HTTP_HOST ?? '0.0.0.0',
    logLevel: e.LOG_LEVEL ?? 'info',
    extraCaFile: e.EXTRA_CA_FILE,
    allowPrivateTargets: e.ALLOW_PRIVATE_TARGETS ?? false,
    allowedTargetCidrs: e.ALLOWED_TARGET_CIDRS ?? [],
    maxTargetsPerChannel: e.MAX_TARGETS_PER_CHANNEL ?? 200,
    console: e.CONSOLE ?? 'auto',
    redisUrl: e.REDIS_URL,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      apiUrl: e.SLACK_API_URL,
      port: e.SLACK_PORT,
      allowedChannels: e.SLACK_ALLOWED_CHANNELS ?? [],
      allowedUsers: e.SLACK_ALLOWED_USERS ?? [],
    },
    telegram: {
      botToken: e.TELEGRAM_BOT_TOKEN,
      apiRoot: e.TELEGRAM_API_ROOT,
      webhookUrl: e.TELEGRAM_WEBHOOK_URL,
      webhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
      webhookPort: e.TELEGRAM_WEBHOOK_PORT,
      allowedChats: e.TELEGRAM_ALLOWED_CHATS ?? [],
    },
  };
}

function sanitizeReplica(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  return clean === '' ? 'default' : clean;
}

/** Reads process.env once; on error prints every problem to stderr and exits 78 (EX_CONFIG). */
export function configFromProcess(): Config {
  try {
    return parseConfig(process.env, process.cwd());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`certwatch: ${err.message}\n`);
    process.exit(78);
  }
}
