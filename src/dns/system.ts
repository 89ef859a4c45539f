// Which servers to ask: DNS_SERVERS when set, else the system's (nameserver lines of
// /etc/resolv.conf), else loopback (a local validating resolver is the usual DANE setup).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { DnsServer } from './types.ts';

/** Most servers used; resolv.conf itself honours three (MAXNS). */
const maxServers = 3;

/** Parses `a.b.c.d`, `a.b.c.d:port`, `v6` or `[v6]:port`; throws on anything else. */
export function parseServer(text: string): DnsServer {
  const t = text.trim();
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(t);
  if (bracket !== null && isIP(bracket[1]!) === 6) return { host: bracket[1]!, port: port(bracket[2], t) };
  if (isIP(t) !== 0) return { host: t, port: 53 };
  const v4 = /^([\d.]+):(\d{1,5})$/.exec(t);
  if (v4 !== null && isIP(v4[1]!) === 4) return { host: v4[1]!, port: port(v4[2], t) };
  throw new Error(`"${t.slice(0, 80)}" is not a DNS server address (a.b.c.d[:port] or [v6]:port)`);
}

function port(text: string | undefined, all: string): number {
  if (text === undefined) return 53;
  const n = Number(text);
  if (n < 1 || n > 65535) throw new Error(`"${all}": port outside 1-65535`);
  return n;
}

/** The `nameserver` entries of a resolv.conf text (scoped IPv6 addresses are skipped). */
export function parseResolvConf(text: string): DnsServer[] {
  const out: DnsServer[] = [];
  for (const line of text.split('\n').slice(0, 1000)) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m === null || m[1]!.includes('%') || isIP(m[1]!) === 0) continue;
    out.push({ host: m[1]!, port: 53 });
  }
  return out.slice(0, maxServers);
}

/** The servers to use: the configured list, else the system's, else 127.0.0.1. */
export function dnsServers(configured: readonly string[] | undefined, resolvConfPath = '/etc/resolv.conf'): DnsServer[] {
  if (configured !== undefined && configured.length > 0) return configured.map(parseServer);
  let text = '';
  try {
    text = readFileSync(resolvConfPath, 'utf8').slice(0, 64 * 1024);
  } catch {
    // No resolv.conf (some containers): fall through to loopback.
  }
  const found = parseResolvConf(text);
  return found.length > 0 ? found : [{ host: '127.0.0.1', port: 53 }];
}
