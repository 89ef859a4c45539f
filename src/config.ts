// The one module that reads process.env. Everything else receives a parsed Config.
import { closeSync, openSync, readSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import cron from 'node-cron';
import { z } from 'zod';
import { parseServer } from './dns/system.ts';
import { MAX_FAIL_AFTER } from './store/schema.ts';

/** Raw environment as a plain record (tests pass their own). */
export type Env = Record<string, string | undefined>;

const blankToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const opt = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());
// Messages are written for people: zod's own ("expected number, received NaN") name its types.
const int = (min: number, max: number) => {
  const rule = `expected a whole number from ${min} to ${max}`;
  return z
    .string({ error: rule })
    .trim()
    .regex(/^\d{1,9}$/, rule)
    .transform(Number)
    .pipe(z.number().min(min, rule).max(max, rule));
};
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `expected one of: ${values.join(', ')}` });
const bool = oneOf(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);
const cronExpr = z.string().refine((v) => cron.validate(v), { message: 'not a valid cron expression (node-cron syntax)' });
const dayRule = 'expected whole days from 0 to 3650';
const days = list.pipe(
  z
    .array(z.string().regex(/^\d{1,4}$/, dayRule).transform(Number).pipe(z.number().max(3650, dayRule)))
    .min(1, 'expected a comma-separated list of days, e.g. 30,14,7'),
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
// Node's listen() takes an IP literal or a name to resolve; anything else failed at start-up
// as "getaddrinfo ENOTFOUND", naming no variable.
const listenHost = z.string().trim().refine((v) => isIP(v) !== 0 || /^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(v), {
  message: 'expected an IP address or a host name, e.g. 0.0.0.0, :: or localhost',
});
// Slack's and Telegram's clients speak HTTP only: another scheme failed on every retry, unnamed.
const url = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL, e.g. https://host/path' });
// What the Redis client (@redis/client parseURL) accepts: any other scheme, a database that
// is not a number or a user or password it cannot percent-decode throws there at start-up,
// naming no variable. The value is never quoted.
const redisUrl = z.string().refine(
  (v) => {
    const u = URL.parse(v);
    if (u === null || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !/^\/?(\d{1,9})?$/.test(u.pathname)) return false;
    try {
      decodeURIComponent(u.username);
      decodeURIComponent(u.password);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an absolute URL, redis://[user:password@]host[:port][/db] or rediss://... (db a number, user and password percent-encoded)' },
);
// The resolver's own parser, so a bad entry stops here by name rather than at start-up.
const dnsServer = z.string().refine(
  (v) => {
    try {
      parseServer(v);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a.b.c.d[:port], v6 or [v6]:port (port 1-65535)' },
);

/**
 * Every environment variable certwatch reads. `.env.example` documents each key
 * (test/config/config.test.ts keeps the two in agreement).
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
  PROBE_IP_FAMILY: opt(oneOf(['any', '4', '6'])),
  REVOCATION: opt(oneOf(['on', 'off'])),
  WARN_DAYS: opt(int(0, 3650)),
  CRIT_DAYS: opt(int(0, 3650)),
  ALERT_THRESHOLDS: opt(days),
  FAIL_AFTER: opt(int(1, MAX_FAIL_AFTER)),
  HTTP_PORT: opt(int(0, 65535)),
  HTTP_HOST: opt(listenHost),
  LOG_LEVEL: opt(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  EXTRA_CA_FILE: opt(z.string()),
  ALLOW_PRIVATE_TARGETS: opt(bool),
  ALLOWED_TARGET_CIDRS: opt(list.pipe(z.array(cidr))),
  DNS_SERVERS: opt(list.pipe(z.array(dnsServer))),
  MAX_TARGETS_PER_CHANNEL: opt(int(1, 100_000)),
  CONSOLE: opt(oneOf(['auto', 'on', 'off'])),
  REDIS_URL: opt(redisUrl),
  SLACK_BOT_TOKEN: opt(z.string().startsWith('xoxb-', 'Slack bot tokens start with xoxb-')),
  SLACK_APP_TOKEN: opt(z.string().startsWith('xapp-', 'Slack app-level tokens start with xapp-')),
  SLACK_SIGNING_SECRET: opt(z.string().min(8, 'too short for a Slack signing secret')),
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
  /** REPLICA_ID was given; otherwise replicaId is the host name (the embedded store keeps its first one, src/store/replica-id.ts). */
  replicaIdSet: boolean;
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
  /** Resolvers for mail checks (DANE needs a validating one); empty: /etc/resolv.conf. */
  dnsServers: string[];
  maxTargetsPerChannel: number;
  /** Revocation (OCSP staple, CRL, OCSP) and AIA checks on every probe (src/revocation). */
  revocation: boolean;
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
  // Issue messages name the variable and the rule; zod does not echo the input value.
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // The cross-field rules run on the raw values too, so every problem is listed in one go.
  problems.push(...crossFieldProblems(env, parsed.success ? parsed.data : undefined));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const warnDays = e.WARN_DAYS ?? 30;
  const critDays = e.CRIT_DAYS ?? 7;
  const dataDir = resolve(cwd, e.DATA_DIR ?? './data');
  const thresholds = [...new Set(e.ALERT_THRESHOLDS ?? [30, 14, 7, 3, 1])].sort((a, b) => b - a);
  return {
    dataDir,
    storeUrl: e.STORE_URL ?? `sqlite://${join(dataDir, 'certwatch.sqlite')}`,
    replicaId: e.REPLICA_ID ?? sanitizeReplica(hostname()),
    replicaIdSet: e.REPLICA_ID !== undefined,
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
    dnsServers: e.DNS_SERVERS ?? [],
    maxTargetsPerChannel: e.MAX_TARGETS_PER_CHANNEL ?? 200,
    revocation: (e.REVOCATION ?? 'on') === 'on',
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

/** Rules between variables; `parsed` is absent when some variable did not parse. */
function crossFieldProblems(env: Env, parsed: z.infer<typeof envSchema> | undefined): string[] {
  const set = (key: string): boolean => blankToUndefined(env[key]) !== undefined;
  const problems: string[] = [];
  if (parsed !== undefined && (parsed.CRIT_DAYS ?? 7) > (parsed.WARN_DAYS ?? 30)) {
    problems.push(`CRIT_DAYS: must not exceed WARN_DAYS (${parsed.WARN_DAYS ?? 30})`);
  }
  if (set('SLACK_BOT_TOKEN') && !set('SLACK_APP_TOKEN') && !set('SLACK_SIGNING_SECRET')) {
    problems.push('SLACK_BOT_TOKEN: needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)');
  }
  if ((set('SLACK_APP_TOKEN') || set('SLACK_SIGNING_SECRET')) && !set('SLACK_BOT_TOKEN')) {
    problems.push('SLACK_BOT_TOKEN: required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set');
  }
  if (set('TELEGRAM_WEBHOOK_URL') && !set('TELEGRAM_WEBHOOK_SECRET')) {
    problems.push('TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL (requests are checked against it)');
  }
  if (set('TELEGRAM_WEBHOOK_URL') && !set('TELEGRAM_BOT_TOKEN')) problems.push('TELEGRAM_BOT_TOKEN: required with TELEGRAM_WEBHOOK_URL');
  return problems;
}

/** Largest .env file read; a bigger one is a mistake (or /dev/zero), not a configuration. */
export const MAX_ENV_FILE_BYTES = 64 * 1024;

/**
 * Reads a .env file with Node's own parser (util.parseEnv: KEY=value, quotes, comments).
 * A missing file is an empty environment; an unreadable or oversized one is a ConfigError.
 * The read is bounded before anything is buffered.
 */
export function readEnvFile(path: string): Env {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError([`${path}: cannot read (${code ?? 'error'})`]);
  }
  try {
    const buf = Buffer.alloc(MAX_ENV_FILE_BYTES + 1);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buf, size, buf.length - size, null);
      if (n === 0) break;
      size += n;
      if (size > MAX_ENV_FILE_BYTES) throw new ConfigError([`${path}: larger than ${MAX_ENV_FILE_BYTES / 1024} KiB; not a configuration file`]);
    }
    return parseEnv(buf.subarray(0, size).toString('utf8'));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  } finally {
    closeSync(fd);
  }
}

/** The environment with `.env` (in cwd) underneath: a variable set in the real environment wins. */
export function environmentWithDotEnv(env: Env, cwd: string): Env {
  return { ...readEnvFile(join(cwd, '.env')), ...env };
}

function sanitizeReplica(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  return clean === '' ? 'default' : clean;
}

/**
 * Reads process.env once, over `.env` in the working directory when there is one; on error
 * prints every problem to stderr and exits 78 (EX_CONFIG).
 */
export function configFromProcess(): Config {
  try {
    return parseConfig(environmentWithDotEnv(process.env, process.cwd()), process.cwd());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`certwatch: ${err.message}\n`);
    process.exit(78);
  }
}
