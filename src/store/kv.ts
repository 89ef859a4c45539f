// Typed access to keyv: every read is zod-parsed; a value that fails is reported and skipped.
import type Keyv from 'keyv';
import type { z } from 'zod';

/** Called for every stored value that cannot be read (the caller logs it). */
export type InvalidValueReporter = (key: string, reason: string) => void;

/** Most keys per getMany: bounds query size and memory per round trip on every backend. */
const CHUNK = 500;

/** A keyv instance whose reads are validated against zod schemas. */
export class TypedKv {
  readonly keyv: Keyv;
  private readonly report: InvalidValueReporter;

  constructor(
    keyv: Keyv,
    report: InvalidValueReporter,
  ) {
    this.keyv = keyv;
    this.report = report;
  }

  async get<S extends z.ZodType>(key: string, schema: S): Promise<z.infer<S> | undefined> {
    let raw: unknown;
    try {
      raw = await this.keyv.get(key);
    } catch (err) {
      if (isDecodeError(err)) return this.invalid(key, 'not valid JSON');
      throw err;
    }
    return this.parse(key, raw, schema);
  }

  /** Values in the order of `keys` (undefined when missing or invalid). */
  async getMany<S extends z.ZodType>(keys: readonly string[], schema: S): Promise<(z.infer<S> | undefined)[]> {
    const out: (z.infer<S> | undefined)[] = [];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      let raws: unknown[];
      try {
        raws = await this.keyv.getMany(chunk);
      } catch (err) {
        if (!isDecodeError(err)) throw err;
        // One undecodable row fails the whole batch: fall back to single reads to isolate it.
        raws = await Promise.all(chunk.map((k) => this.keyv.get(k).catch((e: unknown) => (isDecodeError(e) ? null : Promise.reject(e)))));
      }
      chunk.forEach((k, j) => out.push(this.parse(k, raws[j], schema)));
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
      const value: unknown = await this.keyv.get(key);
      return { present: value !== undefined, value };
    } catch (err) {
      if (isDecodeError(err)) return { present: true, value: undefined };
      throw err;
    }
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    await this.keyv.set(key, value, ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    return this.keyv.delete(key);
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

function isDecodeError(err: unknown): boolean {
  return err instanceof SyntaxError;
}
