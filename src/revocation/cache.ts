// A bounded cache of fetched revocation data with in-flight de-duplication: while one probe
// fetches a CRL, the other 9,999 probes of a run that need it await the same promise, so each
// URL is fetched once per validity period. Failures are cached briefly too, so a dead
// responder costs one timeout per `failureTtlMs`, not one per target.

/** A loaded value and until when it may be reused. */
export interface Expiring<V> {
  value: V;
  expiresAt: number;
}

/** Cache settings. */
export interface CacheOptions {
  /** Most entries kept; the oldest inserted goes first. */
  maxEntries?: number;
  /** How long a failure is remembered. */
  failureTtlMs?: number;
  now?: () => number;
}

type Entry<V> = { kind: 'value'; value: V; expiresAt: number } | { kind: 'error'; error: unknown; expiresAt: number };

/** Keyed cache of loads that expire; counts loads for tests and benchmarks. */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inFlight = new Map<string, Promise<V>>();
  private readonly maxEntries: number;
  private readonly failureTtlMs: number;
  private readonly now: () => number;
  /** Loads started (cache misses that were not already in flight). */
  loads = 0;

  constructor(o: CacheOptions = {}) {
    this.maxEntries = o.maxEntries ?? 10_000;
    this.failureTtlMs = o.failureTtlMs ?? 5 * 60_000;
    this.now = o.now ?? Date.now;
  }

  /** The cached value for `key`, or the result of `load` (shared by concurrent callers). */
  get(key: string, load: () => Promise<Expiring<V>>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      if (hit.expiresAt > this.now()) return hit.kind === 'value' ? Promise.resolve(hit.value) : Promise.reject(hit.error);
      this.entries.delete(key);
    }
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    this.loads++;
    const p = load().then(
      (r) => {
        this.store(key, { kind: 'value', value: r.value, expiresAt: r.expiresAt });
        return r.value;
      },
      (error: unknown) => {
        this.store(key, { kind: 'error', error, expiresAt: this.now() + this.failureTtlMs });
        throw error;
      },
    );
    const tracked = p.finally(() => this.inFlight.delete(key));
    tracked.catch(() => {});
    this.inFlight.set(key, tracked);
    return tracked;
  }

  /**
   * What is known for `key` without loading: the cached value (or the remembered failure,
   * thrown), or undefined when nothing settled is cached (absent, expired or still in flight).
   */
  settled(key: string): { value: V } | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined || hit.expiresAt <= this.now()) return undefined;
    if (hit.kind === 'error') throw hit.error;
    return { value: hit.value };
  }

  get size(): number {
    return this.entries.size;
  }

  private store(key: string, e: Entry<V>): void {
    if (e.expiresAt <= this.now()) return;
    this.entries.delete(key);
    this.entries.set(key, e);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
