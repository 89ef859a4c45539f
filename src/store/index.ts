// Opens the store: keyv backend, typed access and the repository, with one close().
import type { ChannelSettings } from '../core/services.ts';
import { TypedKv, type InvalidValueReporter } from './kv.ts';
import { openKeyv } from './keyv.ts';
import { KeyvRepository } from './repository.ts';

export { KeyvRepository, channelKey } from './repository.ts';
export { TypedKv } from './kv.ts';
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
}

/** Opens the keyv backend named by `storeUrl` and the repository over it. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const keyv = await openKeyv(opts.storeUrl);
  const kv = new TypedKv(keyv, opts.onInvalid);
  return {
    kv,
    repo: new KeyvRepository(kv, opts.replicaId, opts.defaults),
    close: () => keyv.disconnect(),
  };
}
