// DNS answers cached across runs for their TTL, and at most one query per name and type
// within a run (the budget), whatever the TTL says mid-run.
import type { DnsResolver, DnsResult, RecordType } from './types.ts';
import { normalizeName } from './wire.ts';

interface Entry {
  result: DnsResult;
  expiresAt: number;
}

/** Settings of a DnsCache. */
export interface DnsCacheOptions {
  /** Most entries kept across runs; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

/** The long-lived cache; `run()` gives each run its own coalescing view of it. */
export class DnsCache {
  private readonly upstream: DnsResolver;
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(upstream: DnsResolver, opts: DnsCacheOptions = {}) {
    this.upstream = upstream;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** A resolver for one run: each name and type is asked at most once, concurrent asks share it. */
  run(): DnsResolver {
    const inRun = new Map<string, Promise<DnsResult>>();
    return {
      query: <T extends RecordType>(name: string, type: T, signal?: AbortSignal): Promise<DnsResult<T>> => {
        const key = `${type} ${normalizeName(name)}`;
        let p = inRun.get(key);
        if (p === undefined) {
          p = this.lookup(key, name, type, signal);
          inRun.set(key, p);
        }
        return p as Promise<DnsResult<T>>;
      },
    };
  }

  private async lookup(key: string, name: string, type: RecordType, signal?: AbortSignal): Promise<DnsResult> {
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.expiresAt > this.now()) return hit.result;
    if (hit !== undefined) this.entries.delete(key);
    const result = await this.upstream.query(name, type, signal);
    // Errors (timeouts, SERVFAIL) have ttl 0 and are not kept: the next run asks again.
    if (result.ttl > 0) {
      this.entries.set(key, { result, expiresAt: this.now() + result.ttl * 1000 });
      while (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest === undefined) break;
        this.entries.delete(oldest);
      }
    }
    return result;
  }
}
