// Typed store failures. Messages never contain the store URL (it may hold a password).

/** The backend failed or did not answer in time: temporary, the operation may be retried. */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The store could not be opened at start (exit 78 names `setting`). */
export class StoreOpenError extends Error {
  readonly code = 'STORE_OPEN_FAILED';
  readonly setting: string;
  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
    this.setting = setting;
  }
}

/** A short, secret-free reason for a backend error (code and message, no URL, no stack). */
export function describeStoreError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeStoreError(err.errors[0]);
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ` : '';
  // Drivers sometimes quote the connection string: cut anything that looks like a URL with credentials.
  return `${code}${message}`.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]*@[^\s'"]*/gi, '<url>').slice(0, 300);
}

/** Runs `op` with a deadline; any failure (except a decode error) becomes StoreUnavailableError. */
export async function withDeadline<T>(what: string, ms: number, op: () => Promise<T>, passThrough: (err: unknown) => boolean = () => false): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`store unavailable: ${what} got no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([op(), deadline]);
  } catch (err) {
    if (err instanceof StoreUnavailableError || passThrough(err)) throw err;
    throw new StoreUnavailableError(`store unavailable: ${what} failed: ${describeStoreError(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
