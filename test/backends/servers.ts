// The real servers started by test/backends/run.sh, and a fresh, empty store on each per test.
// run.sh passes the URLs in the environment; without them every backend test fails loudly
// (these files are only run by run.sh, never by `npm test`).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createClient } from '@keyv/redis';

/** One shared keyv backend under test. */
export interface Backend {
  name: 'redis' | 'postgres';
  /** A STORE_URL naming an empty store no other test uses. */
  fresh(): Promise<string>;
  /** Writes `raw` as the stored text of certwatch key `key`, bypassing keyv's serializer. */
  writeRaw(storeUrl: string, key: string, raw: string): Promise<void>;
}

function required(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is not set: run the backend suite with bash test/backends/run.sh`);
  return v;
}

/** The Redis server's URL (database 0 is left to the run coordinator tests). */
export function redisUrl(): string {
  return required('CERTWATCH_TEST_REDIS_URL');
}

/** The PostgreSQL server's URL (its maintenance database `postgres`). */
export function postgresUrl(): string {
  return required('CERTWATCH_TEST_POSTGRES_URL');
}

/** run.sh starts redis-server with 64 databases; tests take 1..63 in turn and empty it first. */
const REDIS_DATABASES = 64;

function redisBackend(): Backend {
  let next = 1;
  return {
    name: 'redis',
    async fresh() {
      if (next >= REDIS_DATABASES) throw new Error('out of Redis databases: raise --databases in run.sh');
      const url = `${redisUrl()}/${next++}`;
      const client = createClient({ url });
      await client.connect();
      try {
        await client.flushDb();
      } finally {
        await client.quit();
      }
      return url;
    },
    async writeRaw(storeUrl, key, raw) {
      const client = createClient({ url: storeUrl });
      await client.connect();
      try {
        // @keyv/redis stores keyv's own "certwatch:<key>" under its namespace prefix "certwatch::".
        await client.set(`certwatch::certwatch:${key}`, raw);
      } finally {
        await client.quit();
      }
    },
  };
}

/** Runs SQL with psql (the test side needs no pg driver typings and no shared pool). */
async function psql(url: string, sql: string): Promise<void> {
  await promisify(execFile)('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { timeout: 20_000 });
}

/** A dollar-quoted SQL literal (the text comes from the tests, never from a peer). */
function literal(text: string): string {
  if (text.includes('$cw$')) throw new Error('literal must not contain $cw$');
  return `$cw$${text}$cw$`;
}

function postgresBackend(): Backend {
  return {
    name: 'postgres',
    async fresh() {
      const db = `certwatch_${randomBytes(6).toString('hex')}`;
      await psql(postgresUrl(), `CREATE DATABASE ${db}`);
      const url = new URL(postgresUrl());
      url.pathname = `/${db}`;
      return url.toString();
    },
    async writeRaw(storeUrl, key, raw) {
      // @keyv/postgres's table: keyv(key varchar(255) primary key, value text), keys "certwatch:<key>".
      await psql(storeUrl, `INSERT INTO keyv (key, value) VALUES (${literal(`certwatch:${key}`)}, ${literal(raw)}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
    },
  };
}

/** Both shared backends; every store test runs against each. */
export function backends(): Backend[] {
  return [redisBackend(), postgresBackend()];
}
