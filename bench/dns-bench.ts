// DNS client cost: certwatch's dns-packet client against node:dns's Resolver (c-ares), both
// asking a local fake server for A records, sequentially. node:dns cannot return the AD bit
// or TLSA records at all; this shows what the choice costs in speed.
import { Resolver } from 'node:dns/promises';
import { DnsClient } from '../src/dns/client.ts';
import { rr, startFakeDns } from '../test/helpers/fake-dns.ts';

const n = Number(process.argv[2] ?? 2000);
const dns = await startFakeDns((name) => ({ answers: [rr('A', name, '192.0.2.1')] }));
const ours = new DnsClient({ servers: [dns.server] });
const cares = new Resolver({ timeout: 2000, tries: 1 });
cares.setServers([`127.0.0.1:${dns.port}`]);

async function time(label: string, fn: (i: number) => Promise<unknown>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(`${label.padEnd(22)} ${n} queries  ${(ms / n * 1000).toFixed(0)} µs/query  CPU ${((cpu.user + cpu.system) / n).toFixed(0)} µs/query (incl. the fake server)`);
}
await time('node:dns (c-ares)', (i) => cares.resolve4(`h${i}.bench.test`));
await time('dns-packet + dgram', (i) => ours.query(`h${i}.bench.test`, 'A'));
await dns.close();
