// Serializes read-then-write sequences per key (a channel) inside one process. `add` counts a
// channel's targets, looks for a duplicate and stores the new one; without this, concurrent
// adds all see the same count and all store (issue 10, B1). It does not span processes:
// replicas sharing a store can still overshoot the limit by up to one add each at a time.
// mute, unmute and remove take the same lock (lockedChange): each reads a record and writes it
// back or deletes it, and overlapping they lost a mute or brought a removed target back.
// settings takes it too: every setting of a channel lives in one record.
import type { ChannelRef, Reply, Respond } from '../chat/types.ts';
import type { KeyedLock, Services } from '../core/services.ts';

/** The lock key of a channel, shared by add (targets and mail domains), mute, unmute, remove and settings. */
export function channelLockKey(channel: ChannelRef): string {
  return `${channel.platform}:${channel.channelId}`;
}

/**
 * Runs a command's lookup-and-change of this channel's entries under the channel's lock. Its
 * replies are held back until the lock is released, so a slow platform never stalls the
 * channel's other commands.
 */
export async function lockedChange<C extends { services: Services; channel: ChannelRef; respond: Respond }>(ctx: C, change: (ctx: C) => Promise<void>): Promise<void> {
  const held: Reply[] = [];
  await ctx.services.channelLock.run(channelLockKey(ctx.channel), () => change({ ...ctx, respond: async (reply: Reply) => void held.push(reply) }));
  for (const reply of held) await ctx.respond(reply);
}

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
