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
      return withErrors(new Keyv({ store: new KeyvRedis(url), namespace: NAMESPACE }));
    }
    default:
      // The URL may hold a password: name only the scheme.
      throw new Error(`STORE_URL: unsupported scheme "${scheme ?? ''}"`);
  }
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
