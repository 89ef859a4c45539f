// Opens the keyv backend named by STORE_URL. Only SQLite is loaded eagerly; the shared
// backends are imported on demand so a console install never touches their drivers.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import Keyv from 'keyv';

/** Namespace for every certwatch key (other apps may share the database). */
export const NAMESPACE = 'certwatch';

/** Opens keyv for `sqlite://<path>`, `postgres://...`, `redis://...` or `memory://`. */
export async function openKeyv(url: string): Promise<Keyv> {
  const scheme = /^([a-z]+):/.exec(url)?.[1];
  switch (scheme) {
    case 'memory':
      return withErrors(new Keyv({ namespace: NAMESPACE }));
    case 'sqlite': {
      const path = url.slice('sqlite://'.length);
      if (path === '') throw new Error('STORE_URL: sqlite:// needs a file path');
      if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
      const { SqliteStore } = await import('./sqlite.ts');
      // busyTimeout: a second process (crash restart, CLI) may hold the write lock briefly.
      // WAL, synchronous=FULL and group commit: see sqlite.ts.
      const store = new SqliteStore({ path, busyTimeout: 5000 });
      return withErrors(new Keyv({ store, namespace: NAMESPACE }));
    }
    case 'postgres':
    case 'postgresql': {
      const { ownPoolPostgres } = await import('./postgres.ts');
      return withErrors(new Keyv({ store: await ownPoolPostgres(url), namespace: NAMESPACE }));
    }
    case 'redis':
    case 'rediss': {
      const { default: KeyvRedis } = await import('@keyv/redis');
      // node-redis queues commands while disconnected and reconnects forever: a stopped server
      // would hang every command. Without the offline queue a command fails at once while the
      // client reconnects (capped backoff) in the background, and the bot recovers by itself.
      const store = new KeyvRedis(
        { url, disableOfflineQueue: true, socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) } },
        { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 5000 },
      );
      return withErrors(new Keyv({ store, namespace: NAMESPACE }));
    }
    default:
      // The URL may hold a password: name only the scheme.
      throw new Error(`STORE_URL: unsupported scheme "${scheme ?? ''}"`);
  }
}

/** The backend in words for messages: never the URL itself (it may hold a password). */
export function describeBackend(url: string): string {
  const scheme = /^([a-z]+):/.exec(url)?.[1];
  if (scheme === 'sqlite') return `the SQLite file ${url.slice('sqlite://'.length)}`;
  if (scheme === 'postgres' || scheme === 'postgresql') return 'the PostgreSQL store';
  if (scheme === 'redis' || scheme === 'rediss') return 'the Redis store';
  return 'the store';
}

/**
 * By default keyv swallows a failed write (set resolves false): the outbox must know its
 * message was persisted, so failures throw. keyv also emits them as 'error' events, which
 * would crash the process without a listener; the thrown error is what callers handle.
 */
function withErrors(kv: Keyv): Keyv {
  kv.throwOnErrors = true;
  kv.on('error', () => {});
  return kv;
}
