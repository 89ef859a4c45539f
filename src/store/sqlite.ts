// The embedded SQLite store: @keyv/sqlite with durable pragmas and group commit.
//
// Durability: WAL with synchronous=FULL. In WAL mode a commit appends to the -wal file, and
// FULL fsyncs it before the commit returns, so a write that was acknowledged survives a power
// loss; NORMAL syncs only at checkpoints and may lose the last commits
// (https://www.sqlite.org/pragma.html#pragma_synchronous, https://www.sqlite.org/wal.html).
// WAL also lets a reader (the CLI, a second process) read while the bot writes.
//
// Throughput: @keyv/sqlite runs every set as its own autocommit transaction, so each write
// paid one fsync (on the 2-core development machine about 10 ms: a scheduled run over 1,000
// targets managed 51 probes/s, seeding 1,000 targets took 32 s). Here every write goes
// through one queue; whatever is queued while the previous statement commits is written by
// the next single statement (one transaction, one fsync), and each caller is answered only
// after that statement committed. Consecutive sets become one INSERT ... ON CONFLICT over
// json_each(?), consecutive deletes one DELETE ... RETURNING; the queue keeps the order in
// which operations reach the store, so a delete after a set of the same key wins, and vice
// versa. (keyv serializes a value before calling set(), so keyv.set() and keyv.delete()
// issued in the same tick without awaiting reach the store in no promised order, as before.)
import KeyvSqlite from '@keyv/sqlite';

/** Most operations per statement (bounds statement size and the latency of one commit). */
const MAX_BATCH = 1000;
/** Most bytes of values per statement. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

type WriteOp =
  | { kind: 'set'; entries: { key: string; value: string }[]; resolve: (ok: boolean) => void; reject: (err: unknown) => void }
  | { kind: 'delete'; keys: string[]; resolve: (existed: boolean) => void; reject: (err: unknown) => void };

/** Runs `op` again while it fails with SQLITE_BUSY, for at most `budgetMs` (backoff 5 ms doubling to 200 ms). */
async function whileBusy<T>(op: () => Promise<T>, budgetMs: number): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    try {
      return await op();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Options for the embedded store. */
export interface SqliteStoreOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** Milliseconds to wait for another process's write lock. */
  busyTimeout: number;
}

/** @keyv/sqlite with WAL, synchronous=FULL and group-committed writes. */
export class SqliteStore extends KeyvSqlite {
  private queue: WriteOp[] = [];
  private flushing = false;
  /** Statements that wrote (for tests and the benchmark: writes per commit). */
  commits = 0;

  constructor(opts: SqliteStoreOptions) {
    super({ uri: `sqlite://${opts.path}`, busyTimeout: opts.busyTimeout });
    const base = this.query;
    // Every statement, reads included, waits for the pragmas; synchronous is per connection
    // and @keyv/sqlite uses one connection for the life of the store.
    // Switching a new file to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY at once,
    // without its busy handler, when another connection opens the same new file at that moment
    // (seen with a second replica or the CLI starting beside the bot). `ready` is awaited by
    // every statement, so a failure here would break the store for good: retry within the
    // busy timeout.
    const retry = (sql: string): Promise<unknown> => whileBusy(() => base(sql), opts.busyTimeout);
    const ready = retry('PRAGMA journal_mode=WAL').then(() => retry('PRAGMA synchronous=FULL'));
    ready.catch(() => {}); // reported by the first statement that awaits it
    this.query = async (sql, ...params) => {
      await ready;
      return base(sql, ...params);
    };
  }

  override set(key: string, value: unknown): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'set', entries: [{ key, value: String(value) }], resolve, reject }));
  }

  /** keyv calls this for setMany: one statement for the lot. */
  setMany(entries: { key: string; value: unknown }[]): Promise<boolean[]> {
    return new Promise<boolean>((resolve, reject) =>
      this.enqueue({ kind: 'set', entries: entries.map((e) => ({ key: e.key, value: String(e.value) })), resolve, reject }),
    ).then((ok) => entries.map(() => ok));
  }

  override delete(key: string): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'delete', keys: [key], resolve, reject }));
  }

  override deleteMany(keys: string[]): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'delete', keys: [...keys], resolve, reject }));
  }

  override async disconnect(): Promise<void> {
    // Writes already issued were promised to their callers: commit them before closing. keyv
    // serializes a value (microtasks) before it reaches set(): one turn lets those arrive.
    await new Promise((r) => setImmediate(r));
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setImmediate(r));
    await super.disconnect();
  }

  private enqueue(op: WriteOp): void {
    this.queue.push(op);
    if (!this.flushing) {
      this.flushing = true;
      // Let the writes issued in the same tick join the first statement.
      setImmediate(() => void this.flush());
    }
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          const result = await this.write(batch);
          this.commits++;
          for (const op of batch) {
            if (op.kind === 'set') op.resolve(true);
            else op.resolve(op.keys.some((k) => result.has(k)));
          }
        } catch (err) {
          // The statement is one transaction: none of its writes happened.
          for (const op of batch) op.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The longest run of same-kind operations at the head of the queue, within the bounds. */
  private takeBatch(): WriteOp[] {
    const kind = this.queue[0]!.kind;
    let n = 0;
    let count = 0;
    let bytes = 0;
    for (const op of this.queue) {
      if (op.kind !== kind) break;
      const size = op.kind === 'set' ? op.entries.reduce((a, e) => a + e.key.length + e.value.length, 0) : op.keys.length * 64;
      const items = op.kind === 'set' ? op.entries.length : op.keys.length;
      if (n > 0 && (count + items > MAX_BATCH || bytes + size > MAX_BATCH_BYTES)) break;
      n++;
      count += items;
      bytes += size;
    }
    return this.queue.splice(0, n);
  }

  /** Runs one batch as one statement; for deletes, returns the keys that existed. */
  private async write(batch: readonly WriteOp[]): Promise<Set<string>> {
    const table = this.opts.table ?? 'keyv';
    if (batch[0]!.kind === 'set') {
      const rows = batch.flatMap((op) => (op.kind === 'set' ? op.entries.map((e) => [e.key, e.value]) : []));
      // `WHERE true`: SQLite's parser needs it between INSERT ... SELECT and ON CONFLICT.
      // Rows are applied in array order, so a key set twice in one batch keeps the later value.
      await this.query(
        `INSERT INTO ${table} (key, value) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) WHERE true ` +
          'ON CONFLICT(key) DO UPDATE SET value=excluded.value',
        JSON.stringify(rows),
      );
      return new Set();
    }
    const keys = batch.flatMap((op) => (op.kind === 'delete' ? op.keys : []));
    const deleted = (await this.query(`DELETE FROM ${table} WHERE key IN (SELECT value FROM json_each(?)) RETURNING key`, JSON.stringify(keys))) as { key: string }[];
    return new Set(deleted.map((r) => r.key));
  }
}
