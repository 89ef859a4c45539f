// The bot's mail checker: one long-lived DNS cache (TTLs respected across runs), a fresh
// per-run view of it for each domain check (one query per name and type per run).
import type { TrustStore } from '../cert/trust.ts';
import type { MailService } from '../core/services.ts';
import { DnsCache } from '../dns/cache.ts';
import { DnsClient } from '../dns/client.ts';
import { dnsServers } from '../dns/system.ts';
import type { AddressPolicy } from '../security/address-policy.ts';
import { checkMailDomain, type MailCheckDeps } from './check.ts';
import { parseMailDomain } from './domain.ts';

/** Settings of the bot's mail service. */
export interface MailServiceOptions extends Omit<MailCheckDeps, 'dns' | 'trust'> {
  trust: TrustStore;
  /** DNS_SERVERS; empty for the system's resolvers. */
  servers: readonly string[];
}

export function createMailService(opts: MailServiceOptions): MailService {
  const { servers, ...deps } = opts;
  const cache = new DnsCache(new DnsClient({ servers: dnsServers(servers), timeoutMs: Math.min(opts.timeoutMs, 5000) }));
  return {
    checkDomain: (domain) => checkMailDomain(parseMailDomain(domain), { ...deps, dns: cache.run() }),
  };
}
