// Typed access to keyv: every read is zod-parsed; a value that fails is reported and skipped.
import type Keyv from 'keyv';
import type { z } from 'zod';
import { StoreUnavailableError, withDeadline } from './errors.ts';

/** Called for every stored value that cannot be read (the caller logs it). */
export type InvalidValueReporter = (key: string, reason: string) => void;

/** Most keys per getMany: bounds query size and memory per round trip on every backend. */
const CHUNK = 500;

/** Default deadline of one store operation: a backend that does not answer must not hang a command. */
export const STORE_OP_TIMEOUT_MS = 5000;

/**
 * A keyv instance whose reads are validated against zod schemas. Every operation has a
 * deadline; a backend failure or timeout throws StoreUnavailableError (temporary), a value
 * that cannot be read is reported and skipped.
 */
export class TypedKv {
  readonly keyv: Keyv;
  private readonly report: InvalidValueReporter;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(keyv: Keyv, report: InvalidValueReporter, timeoutMs = STORE_OP_TIMEOUT_MS) {
    this.keyv = keyv;
    this.report = report;
    this.timeoutMs = timeoutMs;
  }

  /** One backend call with the deadline; decode errors pass through for the callers below. */
  private call<T>(what: string, op: () => Promise<T>): Promise<T> {
    // keyv's Redis adapter reconnects a closed client on the next command: a late caller (a
    // metrics read, the outbox loop) would reopen it after shutdown, and the reconnect loop
    // then kept the process alive for ever while the server was away.
    if (this.closed) return Promise.reject(new StoreUnavailableError(`store unavailable: ${what} after the store was closed`));
    return withDeadline(what, this.timeoutMs, op, isDecodeError);
  }

  /** Refuses every later operation (before the backend is disconnected). */
  close(): void {
    this.closed = true;
  }

  /** A read that must reach the backend (health checks): throws StoreUnavailableError otherwise. */
  async ping(): Promise<void> {
    await this.peek('ix:replicas');
  }

  async get<S extends z.ZodType>(key: string, schema: S): Promise<z.infer<S> | undefined> {
    let raw: unknown;
    try {
      raw = await this.call('get', () => this.keyv.get(key));
    } catch (err) {
      if (isDecodeError(err)) return this.invalid(key, 'not valid JSON');
      throw err;
    }
    return this.parse(key, raw, schema);
  }

  /** Values in the order of `keys` (undefined when missing or invalid; invalid keys are also pushed to `unreadable`). */
  async getMany<S extends z.ZodType>(keys: readonly string[], schema: S, unreadable?: string[]): Promise<(z.infer<S> | undefined)[]> {
    const out: (z.infer<S> | undefined)[] = [];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      const singles = (): Promise<unknown[]> =>
        Promise.all(chunk.map((k) => this.call('get', () => this.keyv.get(k)).catch((e: unknown) => (isDecodeError(e) ? UNDECODABLE : Promise.reject(e)))));
      let raws: unknown[];
      // keyv emulates getMany for a store without one (memory) with allSettled: a failed or
      // undecodable read would come back as "missing", silently. Read those one by one.
      if (typeof (this.keyv.store as { getMany?: unknown }).getMany !== 'function') raws = await singles();
      else {
        try {
          raws = await this.call('getMany', () => this.keyv.getMany(chunk));
        } catch (err) {
          if (!isDecodeError(err)) throw err;
          // One undecodable row fails the whole batch: fall back to single reads to isolate it,
          // and report each undecodable one like a single get does.
          raws = await singles();
        }
      }
      chunk.forEach((k, j) => {
        const raw = raws[j];
        const value = raw === UNDECODABLE ? this.invalid(k, 'not valid JSON') : this.parse(k, raw, schema);
        if (value === undefined && raw !== undefined && raw !== null) unreadable?.push(k);
        out.push(value);
      });
    }
    return out;
  }

  /**
   * Whether a value is stored under `key`, and its raw (unvalidated) content. A value that is
   * not even JSON (corruption, another app) counts as present with value undefined: keyv's
   * deserializer throws on it, and existence checks must not.
   */
  async peek(key: string): Promise<{ present: boolean; value: unknown }> {
    try {
      const value: unknown = await this.call('get', () => this.keyv.get(key));
      return { present: value !== undefined, value };
    } catch (err) {
      if (isDecodeError(err)) return { present: true, value: undefined };
      throw err;
    }
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    await this.call('set', () => this.keyv.set(key, value, ttlMs));
  }

  async delete(key: string): Promise<boolean> {
    return this.call('delete', () => this.keyv.delete(key));
  }

  private parse<S extends z.ZodType>(key: string, raw: unknown, schema: S): z.infer<S> | undefined {
    if (raw === undefined || raw === null) return undefined;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const first = parsed.error.issues[0];
    return this.invalid(key, first === undefined ? 'invalid' : `${first.path.join('.') || 'value'}: ${first.message}`);
  }

  private invalid(key: string, reason: string): undefined {
    this.report(key, reason);
    return undefined;
  }
}

/** Marks a row of a batch that keyv could not decode. */
const UNDECODABLE = Symbol('undecodable');

function isDecodeError(err: unknown): boolean {
  return err instanceof SyntaxError;
}
