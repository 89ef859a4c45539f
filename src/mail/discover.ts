// Which hosts serve a mail domain: MX in preference order (RFC 5321 section 5.1), null MX
// (RFC 7505), the A/AAAA fallback, and client services from SRV (RFC 6186, RFC 8314).
import type { DnsFailure, DnsResolver, DnsResult } from '../dns/types.ts';
import { isNegative } from '../dns/types.ts';
import type { MailFinding } from './codes.ts';

/** A client service found through SRV. */
export interface SrvService {
  service: string;
  /** The probe protocol and mode the service speaks. */
  scheme: 'submissions' | 'submission' | 'imaps' | 'imap' | 'pop3s' | 'pop3';
  host: string;
  port: number;
  priority: number;
}

/** What DNS says about a domain's mail hosts. */
export interface Discovery {
  domain: string;
  /** MX hosts in preference order (the A/AAAA fallback gives the domain itself). */
  mx: { host: string; preference: number }[];
  /** How the MX list was obtained. */
  source: 'mx' | 'null-mx' | 'implicit' | 'none';
  services: SrvService[];
  findings: MailFinding[];
  /** Lookups that failed (not NXDOMAIN/NODATA): `MX` or an SRV label. Their hosts are unknown, not gone. */
  failed: string[];
}

/** RFC 6186 and RFC 8314 service labels, in the order they are listed. */
export const srvServices = [
  ['_submissions._tcp', 'submissions'],
  ['_submission._tcp', 'submission'],
  ['_imaps._tcp', 'imaps'],
  ['_imap._tcp', 'imap'],
  ['_pop3s._tcp', 'pop3s'],
  ['_pop3._tcp', 'pop3'],
] as const;

/** Most MX hosts and services probed per domain: a hostile zone must not fan out without end. */
export const maxMxHosts = 10;
const maxPerService = 4;

/** The DNS failure as a finding (DNS_FAILED names the cause). */
export function dnsFinding(r: DnsFailure, what: string): MailFinding {
  return { code: 'DNS_FAILED', severity: 'critical', message: `${what}: ${r.code} (${r.message})` };
}

/** Resolves MX (with null MX and the A/AAAA fallback) and SRV services of `domain`. */
export async function discover(domain: string, dns: DnsResolver, signal?: AbortSignal): Promise<Discovery> {
  const mxP = dns.query(domain, 'MX', signal);
  const srvP = Promise.all(srvServices.map(([label]) => dns.query(`${label}.${domain}`, 'SRV', signal)));
  const [mx, srvs] = await Promise.all([mxP, srvP]);
  const findings: MailFinding[] = [];
  const out: Discovery = { domain, mx: [], source: 'none', services: [], findings, failed: [] };

  if (mx.ok) {
    // RFC 7505 section 3: a single MX with preference 0 and exchange "." means "no mail".
    const isNull = mx.records.length === 1 && mx.records[0]!.exchange === '';
    if (isNull) {
      out.source = 'null-mx';
      findings.push({ code: 'NULL_MX', severity: 'note', message: `${domain} publishes a null MX (RFC 7505): it accepts no mail` });
    } else {
      out.source = 'mx';
      // RFC 7505 section 3: a domain with a null MX MUST NOT publish other MX records. Senders
      // skip the "." and deliver to the others, so it is a misconfiguration, not lost mail.
      if (mx.records.some((r) => r.exchange === '')) {
        // Sorted, so a resolver rotating the RRset does not change the message run after run.
        const listed = [...mx.records].sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange)).map((r) => `MX ${r.preference} ${r.exchange === '' ? '.' : r.exchange}`).join(', ');
        findings.push({ code: 'NULL_MX_MIXED', severity: 'warning', message: `${domain} publishes a null MX beside other MX records (${listed}); RFC 7505 section 3 forbids it, and senders use the others` });
      }
      const hosts = mx.records.filter((r) => r.exchange !== '').sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange));
      const seen = new Set<string>();
      for (const r of hosts) {
        if (seen.has(r.exchange) || out.mx.length >= maxMxHosts) continue;
        seen.add(r.exchange);
        out.mx.push({ host: r.exchange, preference: r.preference });
      }
    }
  } else if (mx.code === 'NODATA') {
    // RFC 5321 section 5.1: no MX, so the domain itself is the implicit MX if it has an address.
    const [a, aaaa] = await Promise.all([dns.query(domain, 'A', signal), dns.query(domain, 'AAAA', signal)]);
    if (a.ok || aaaa.ok) {
      out.source = 'implicit';
      out.mx.push({ host: domain, preference: 0 });
      findings.push({ code: 'NO_MX', severity: 'note', message: `${domain} has no MX record; mail goes to its own address (RFC 5321 section 5.1)` });
    } else {
      const failed = [a, aaaa].find((r) => !isNegative(r)) as DnsFailure | undefined;
      if (failed !== undefined) out.failed.push('MX');
      findings.push(failed !== undefined ? dnsFinding(failed, `address of ${domain}`) : { code: 'NO_MX', severity: 'critical', message: `${domain} has neither MX nor A/AAAA records: it cannot receive mail` });
    }
  } else {
    out.failed.push('MX');
    findings.push(dnsFinding(mx, `MX of ${domain}`));
  }

  // An NXDOMAIN domain (a lapsed registration, a broken zone push) is a failed MX lookup:
  // its SRV names are NXDOMAIN only because of it, so their hosts are unknown too, not gone.
  const domainMissing = !mx.ok && mx.code === 'NXDOMAIN';
  srvs.forEach((r: DnsResult<'SRV'>, i) => {
    const [label, scheme] = srvServices[i]!;
    if (!r.ok) {
      if (!isNegative(r)) {
        out.failed.push(label);
        findings.push(dnsFinding(r, `SRV ${label}.${domain}`));
      } else if (domainMissing) {
        out.failed.push(label);
      }
      return;
    }
    // RFC 6186 section 4: target "." means the service is decidedly not available.
    // Ties broken by target and port: resolvers rotate an RRset's order (round robin), and
    // the cap below must keep the same hosts every run, or a watch announces them coming and going.
    const usable = r.records
      .filter((s) => s.target !== '' && s.port > 0)
      .sort((a, b) => a.priority - b.priority || b.weight - a.weight || a.target.localeCompare(b.target) || a.port - b.port);
    for (const s of usable.slice(0, maxPerService)) {
      out.services.push({ service: label, scheme, host: s.target, port: s.port, priority: s.priority });
    }
  });
  return out;
}
