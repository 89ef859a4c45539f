export { DnsCache } from './cache.ts';
export { DnsClient, type DnsClientOptions } from './client.ts';
export { dnsServers, parseServer } from './system.ts';
export * from './types.ts';
