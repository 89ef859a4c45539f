// Builds the mail watcher for the composition root, so main.ts only wires it in.
import type { Services } from '../core/services.ts';
import type { Logger } from '../ops/logger.ts';
import type { OutboxStore } from '../outbox/store.ts';
import { MailDomainRepository } from '../store/mail-domains.ts';
import type { Store } from '../store/index.ts';
import { MailWatch } from './watch.ts';

/** Domains checked at once by a scheduled run; each already probes all its hosts in parallel. */
export const MAIL_RUN_CONCURRENCY = 4;

/** The watcher over the store, the outbox and the bot's mail service (`services.mail`). */
export function createMailWatch(o: { store: Store; outbox: OutboxStore; services: Services; critDays: number; log: Logger; signal: AbortSignal; onEnqueued: () => void }): MailWatch {
  const { services } = o;
  return new MailWatch({
    repo: new MailDomainRepository(o.store.kv, o.store.repo.index),
    outbox: o.outbox,
    check: (domain) => {
      if (services.mail === undefined) return Promise.reject(new Error('mail domain checks are not enabled'));
      return services.mail.checkDomain(domain);
    },
    settings: (channel) => services.repo.getChannelSettings(channel),
    countTargets: async (channel) => (await services.repo.listTargets(channel)).length,
    channelLock: services.channelLock,
    critDays: o.critDays,
    concurrency: MAIL_RUN_CONCURRENCY,
    now: services.now,
    log: o.log,
    signal: o.signal,
    onEnqueued: o.onEnqueued,
  });
}
