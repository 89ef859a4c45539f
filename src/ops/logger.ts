// pino logger factory. Secrets are kept out twice: known field paths are redacted, and every
// configured secret VALUE is scrubbed from each serialized line (a Telegram API URL inside an
// error message carries the bot token; no field path catches that). Writes are synchronous so
// nothing is lost when shutdown ends in process.exit.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Field paths redacted wherever they appear (one level deep, plus common nestings). */
export const redactPaths = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'webhookSecret',
  '*.webhookSecret',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'storeUrl',
  'redisUrl',
  'config.slack',
  'config.telegram',
  'config.storeUrl',
  'config.redisUrl',
];

/** Options for createLogger. */
export interface LoggerOptions {
  level: string;
  /** Secret values to scrub from every line (empty/short values are ignored). */
  secrets?: readonly (string | undefined)[];
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
  /** File descriptor when no destination is given: 1 stdout (default), 2 stderr. */
  fd?: 1 | 2;
  /** Append to this file instead (created with its directory); wins over `fd`. */
  file?: string;
}

/** A structured logger: one event name (`msg`) plus key/value fields per line. */
export function createLogger(opts: LoggerOptions): Logger {
  const secrets = [...new Set((opts.secrets ?? []).filter((s): s is string => s !== undefined && s.length >= 6))];
  const out = opts.destination ?? (opts.file !== undefined ? pino.destination({ dest: opts.file, sync: true, mkdir: true, append: true }) : pino.destination({ dest: opts.fd ?? 1, sync: true }));
  const dest: DestinationStream = secrets.length === 0 ? out : { write: (line: string) => out.write(scrub(line, secrets)) };
  return pino({ level: opts.level, base: { app: 'certwatch' }, redact: { paths: redactPaths, censor: '[REDACTED]' } }, dest);
}

/** Replaces each secret (and its JSON-escaped and URL-encoded forms) with [REDACTED]. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    for (const form of new Set([s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)])) {
      if (out.includes(form)) out = out.split(form).join('[REDACTED]');
    }
  }
  return out;
}
