// Token buckets for on-demand checks: each probe costs the bot outbound connections, so one
// user (or one busy channel) must not be able to turn it into a port scanner or a flood.

/** Size and refill speed of one bucket. */
export interface BucketSpec {
  /** Most requests allowed in a burst. */
  capacity: number;
  /** Milliseconds to regain one token. */
  refillMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A set of token buckets keyed by string (user id, channel id). */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  private readonly spec: BucketSpec;
  private readonly now: () => number;
  /** Bound on remembered keys; full buckets are forgotten first. */
  private readonly maxKeys: number;

  constructor(spec: BucketSpec, now: () => number = Date.now, maxKeys = 10_000) {
    this.spec = spec;
    this.now = now;
    this.maxKeys = maxKeys;
    if (!(spec.capacity >= 1) || !(spec.refillMs > 0)) throw new Error('rate limit needs capacity >= 1 and refillMs > 0');
  }

  /** Milliseconds until `key` has a token (0 when one is available now). */
  waitMs(key: string): number {
    const b = this.current(key);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) * this.spec.refillMs);
  }

  /** Spends one token for `key`; call only after waitMs returned 0. */
  take(key: string): void {
    const b = this.current(key);
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.prune();
  }

  private current(key: string): Bucket {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.spec.capacity, at: t };
    const gained = Math.max(0, t - b.at) / this.spec.refillMs;
    return { tokens: Math.min(this.spec.capacity, b.tokens + gained), at: t };
  }

  private prune(): void {
    for (const key of [...this.buckets.keys()]) {
      if (this.current(key).tokens >= this.spec.capacity) this.buckets.delete(key);
    }
    // Still too many (a flood of distinct keys): drop the oldest entries.
    const excess = this.buckets.size - this.maxKeys;
    if (excess > 0) for (const key of [...this.buckets.keys()].slice(0, excess)) this.buckets.delete(key);
  }
}

/** Outcome of asking for an on-demand check. */
export type LimitDecision = { ok: true } | { ok: false; scope: 'user' | 'channel'; retryAfterMs: number };

/** Per-user and per-channel limits on on-demand checks. */
export interface CheckRateLimiter {
  /** Spends a token from both buckets, or spends nothing and says which one is empty. */
  take(userKey: string, channelKey: string): LimitDecision;
}

/** Settings for createCheckRateLimiter. */
export interface CheckRateLimitOptions {
  perUser: BucketSpec;
  perChannel: BucketSpec;
  now?: () => number;
}

/** Builds the limiter; a request passes only when both the user and the channel have a token. */
export function createCheckRateLimiter(options: CheckRateLimitOptions): CheckRateLimiter {
  const users = new TokenBuckets(options.perUser, options.now);
  const channels = new TokenBuckets(options.perChannel, options.now);
  return {
    take(userKey, channelKey) {
      const userWait = users.waitMs(userKey);
      if (userWait > 0) return { ok: false, scope: 'user', retryAfterMs: userWait };
      const channelWait = channels.waitMs(channelKey);
      if (channelWait > 0) return { ok: false, scope: 'channel', retryAfterMs: channelWait };
      users.take(userKey);
      channels.take(channelKey);
      return { ok: true };
    },
  };
}
