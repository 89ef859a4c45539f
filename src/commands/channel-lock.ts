// Serializes read-then-write sequences per key (a channel) inside one process. `add` counts a
// channel's targets, looks for a duplicate and stores the new one; without this, concurrent
// adds all see the same count and all store (issue 10, B1). It does not span processes:
// replicas sharing a store can still overshoot the limit by up to one add each at a time.
import type { KeyedLock } from '../core/services.ts';

/** A KeyedLock backed by one promise chain per key; idle keys hold no memory. */
export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>();
  return {
    async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => done);
      tails.set(key, tail);
      await previous;
      try {
        return await fn();
      } finally {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
