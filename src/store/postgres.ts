// @keyv/postgres (2.2.x) keeps ONE module-wide pg pool: a second store in the same process with
// the same URL shares it, one with another URL silently replaces it, and disconnect() ends
// whichever pool is current. Closing one store therefore broke every other store open in the
// process ("Cannot use a pool after calling end on the pool"), and closing the second threw
// "Called end on pool more than once" (found by test/backends). Each store here owns its pool.
import { createRequire } from 'node:module';
import type { KeyvStoreAdapter } from 'keyv';

/** The part of pg.Pool used here (pg ships no typings and @types/pg is not installed). */
interface PgPool {
  query(sql: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}
type PgPoolClass = new (config: { connectionString: string }) => PgPool;

/** A @keyv/postgres store whose pg pool belongs to it alone. */
export async function ownPoolPostgres(uri: string): Promise<KeyvStoreAdapter> {
  const { default: KeyvPostgres } = await import('@keyv/postgres');
  const { Pool } = createRequire(import.meta.url)('pg') as { Pool: PgPoolClass };

  class OwnPoolPostgres extends KeyvPostgres {
    // `declare`: KeyvPostgres's constructor calls connect() before subclass fields would be
    // initialized; a real field would then reset the pool to undefined.
    declare private ownPool: PgPool | undefined;

    override async connect(): Promise<(sql: string, values?: unknown) => Promise<unknown[]>> {
      const pool = new Pool({ connectionString: this.opts.uri ?? uri });
      // An idle client losing its connection (server restart) must not crash the process;
      // the next query fails and the caller handles that.
      pool.on('error', () => {});
      this.ownPool = pool;
      return async (sql, values) => (await pool.query(sql, values as unknown[] | undefined)).rows;
    }

    override async disconnect(): Promise<void> {
      const pool = this.ownPool;
      this.ownPool = undefined;
      await pool?.end();
    }
  }
  return new OwnPoolPostgres({ uri });
}
