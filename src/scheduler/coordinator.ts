// Distributed mode: several replicas share one store; node-cron's `distributed` option asks a
// RunCoordinator before each fire, and only the replica that wins a Redis lease runs it.
// `SET key value NX PX ttl` is the lease (one round trip, expires if the winner dies).
// Tested against a real redis-server by test/backends (bash test/backends/run.sh).
import { randomUUID } from 'node:crypto';
import type { RunCoordinator } from 'node-cron';

/** A coordinator backed by Redis, plus close(). */
export interface ClosableCoordinator extends RunCoordinator {
  close(): Promise<void>;
}

/** Connects to Redis (client from @keyv/redis, loaded lazily) and returns a lease coordinator. */
export async function redisRunCoordinator(url: string): Promise<ClosableCoordinator> {
  const { createClient } = await import('@keyv/redis');
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  const me = randomUUID();
  return {
    async shouldRun(key, ttlMs) {
      const ok = await client.set(`certwatch:lease:${key}`, me, { NX: true, PX: Math.max(1000, ttlMs) });
      return ok === 'OK';
    },
    async close() {
      await client.quit();
    },
  };
}
