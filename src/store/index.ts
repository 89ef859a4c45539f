// Opens the store: keyv backend, typed access and the repository, with one close().
import type { ChannelSettings } from '../core/services.ts';
import { describeStoreError, StoreOpenError, StoreUnavailableError, withDeadline } from './errors.ts';
import { TypedKv, type InvalidValueReporter } from './kv.ts';
import { describeBackend, openKeyv } from './keyv.ts';
import { KeyvRepository } from './repository.ts';

export { KeyvRepository, channelKey } from './repository.ts';
export { TypedKv } from './kv.ts';
export { StoreOpenError, StoreUnavailableError } from './errors.ts';
export type { AlertState, OutboxEntry } from './schema.ts';

/** An open store. */
export interface Store {
  kv: TypedKv;
  repo: KeyvRepository;
  close(): Promise<void>;
}

/** What opening a store needs (a subset of Config). */
export interface StoreOptions {
  storeUrl: string;
  replicaId: string;
  defaults: ChannelSettings;
  onInvalid: InvalidValueReporter;
  /** The setting named when the store cannot be opened (DATA_DIR when STORE_URL is derived from it). */
  setting?: string;
  /** Deadline of each store operation (default STORE_OP_TIMEOUT_MS). */
  opTimeoutMs?: number;
}

/** How long opening and the start-up write/read check may take in all. */
const OPEN_TIMEOUT_MS = 15_000;
/** How long close() waits for the backend before giving up on it. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * Opens the keyv backend named by `storeUrl` and the repository over it, then proves the store
 * works (one write, read back and delete): a read-only directory, a corrupt SQLite file or an
 * unreachable server fails here, with StoreOpenError naming the setting, instead of at every
 * command later.
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const setting = opts.setting ?? 'STORE_URL';
  const backend = describeBackend(opts.storeUrl);
  const fail = (err: unknown): StoreOpenError =>
    new StoreOpenError(setting, `${setting}: cannot use ${backend}: ${(err instanceof StoreUnavailableError ? err.message : describeStoreError(err)).replace(/^store unavailable: /, '')}`, {
      cause: err,
    });
  let keyv;
  try {
    keyv = await withDeadline('opening the store', OPEN_TIMEOUT_MS, () => openKeyv(opts.storeUrl));
  } catch (err) {
    throw fail(err);
  }
  const kv = new TypedKv(keyv, opts.onInvalid, opts.opTimeoutMs);
  const close = async (): Promise<void> => {
    kv.close();
    await withDeadline('close', CLOSE_TIMEOUT_MS, () => keyv.disconnect());
  };
  try {
    await withDeadline('the start-up check', OPEN_TIMEOUT_MS, () => selfCheck(kv, opts.replicaId));
  } catch (err) {
    await close().catch(() => {});
    throw fail(err);
  }
  return { kv, repo: new KeyvRepository(kv, opts.replicaId, opts.defaults), close };
}

async function selfCheck(kv: TypedKv, replicaId: string): Promise<void> {
  const key = `health:${replicaId}`;
  const token = `${Date.now()}-${Math.random()}`;
  await kv.set(key, token, 60_000);
  const back = await kv.peek(key);
  if (back.value !== token) throw new Error('a value written was not read back');
  await kv.delete(key);
}
