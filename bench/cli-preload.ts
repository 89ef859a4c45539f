// Preloaded (--import) into the `certwatch check` child of bench/scale-bench.ts --cli:
// - names under .bench.test resolve to 127.0.0.1, so a list of 100,000 DISTINCT targets (which
//   duplicate elimination keeps) reaches the local fake endpoints without a DNS server;
// - at exit, the process's peak RSS (maxRSS, KiB) is written to stderr as "maxrss N".
import { createRequire, syncBuiltinESMExports } from 'node:module';

const dns = createRequire(import.meta.url)('node:dns/promises') as typeof import('node:dns/promises');
const real = dns.lookup;
const fake = (async (host: string, opts?: { all?: boolean }) => {
  if (!host.endsWith('.bench.test')) return real(host, opts as never);
  const a = { address: '127.0.0.1', family: 4 };
  return opts?.all === true ? [a] : a;
}) as typeof dns.lookup;
dns.lookup = fake;
// The probe imports `lookup` by name: make the ESM binding follow the patched property.
syncBuiltinESMExports();

process.on('exit', () => process.stderr.write(`maxrss ${process.resourceUsage().maxRSS}\n`));
