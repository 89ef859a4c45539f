// Distributed mode: several replicas share one store; node-cron's `distributed` option asks a
// RunCoordinator before each fire, and only the replica that wins a Redis lease runs it.
// `SET key value NX PX ttl` is the lease (one round trip, expires if the winner dies).
// Tested against a real redis-server by test/backends (bash test/backends/run.sh).
import { randomUUID } from 'node:crypto';
import type { RunCoordinator } from 'node-cron';
import { describeStoreError } from '../store/errors.ts';
import { StartupError } from '../ops/startup.ts';

/** A coordinator backed by Redis, plus close(). */
export interface ClosableCoordinator extends RunCoordinator {
  close(): Promise<void>;
}

/** Options of redisRunCoordinator. */
export interface CoordinatorOptions {
  /** Deadline of the first connection and of each lease request (default 5 s). */
  timeoutMs?: number;
  /** Told when a lease request fails: the fire is skipped on this replica. */
  onError?: (err: unknown) => void;
}

/**
 * Connects to Redis (client from @keyv/redis, loaded lazily) and returns a lease coordinator.
 * An unreachable Redis at start is a StartupError naming REDIS_URL (no silent wait: node-redis
 * would retry forever); later outages skip fires (shouldRun answers false) until it is back.
 */
export async function redisRunCoordinator(url: string, opts: CoordinatorOptions = {}): Promise<ClosableCoordinator> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const { createClient } = await import('@keyv/redis');
  let lastError: unknown;
  const client = createClient({
    url,
    // Commands fail at once while disconnected instead of queueing without limit.
    disableOfflineQueue: true,
    socket: { connectTimeout: timeoutMs, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) },
  });
  client.on('error', (err: unknown) => (lastError = err));
  try {
    await deadline(client.connect(), timeoutMs, 'connect');
  } catch (err) {
    client.destroy();
    throw new StartupError('REDIS_URL', `REDIS_URL: cannot connect to Redis: ${describeStoreError(lastError ?? err)}`);
  }
  const me = randomUUID();
  return {
    async shouldRun(key, ttlMs) {
      try {
        const ok = await deadline(client.set(`certwatch:lease:${key}`, me, { NX: true, PX: Math.max(1000, ttlMs) }), timeoutMs, 'lease');
        return ok === 'OK';
      } catch (err) {
        opts.onError?.(err);
        return false;
      }
    },
    async close() {
      await deadline(client.quit(), timeoutMs, 'quit').catch(() => client.destroy());
    },
  };
}

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Redis ${what}: no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
