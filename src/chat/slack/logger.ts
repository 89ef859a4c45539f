// Bolt and the Web API client log through this adapter into pino, so their lines share the
// process's format, level and secret scrubbing.
import { inspect } from 'node:util';
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';

/** A Bolt Logger writing to a pino child logger. */
export function boltLogger(log: Logger): BoltLogger {
  let level: LogLevel = LogLevel.WARN;
  const text = (msg: unknown[]): string => msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : inspect(m, { depth: 2, breakLength: Infinity }))).join(' ');
  return {
    debug: (...msg) => log.debug({ component: 'bolt' }, text(msg)),
    info: (...msg) => log.info({ component: 'bolt' }, text(msg)),
    warn: (...msg) => log.warn({ component: 'bolt' }, text(msg)),
    error: (...msg) => log.error({ component: 'bolt' }, text(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
