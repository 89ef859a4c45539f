// `certwatch check --mail <domain>`: one report tree per domain (README "Mail domains").
import { rootCertificates } from 'node:tls';
import { TrustStore, TrustStoreError } from '../cert/trust.ts';
import { DnsCache } from '../dns/cache.ts';
import { DnsClient } from '../dns/client.ts';
import { dnsServers } from '../dns/system.ts';
import { checkMailDomain, type MailReport } from '../mail/check.ts';
import { parseMailDomain } from '../mail/domain.ts';
import { renderTree } from '../mail/render.ts';
import type { Status } from '../probe/result.ts';
import { createAddressPolicy } from '../security/address-policy.ts';
import { UsageError, type CheckArgs } from './args.ts';
import { exitStatus, type ExitStatus } from './exit-status.ts';
import { cell } from './format.ts';

/** What the mail runner needs from main. */
export interface MailRun {
  args: CheckArgs;
  /** PEM text of the --ca files: trusted for the hosts and for MTA-STS policy hosts. */
  caPems: readonly string[];
  write(text: string): void;
}

/** Checks every --mail domain (in parallel), prints JSON or the trees, returns the Nagios status. */
export async function runMailCheck(run: MailRun): Promise<ExitStatus> {
  const { args } = run;
  let domains: string[];
  let servers;
  let trust = TrustStore.bundled();
  try {
    run.caPems.forEach((pem, i) => (trust = trust.withExtra(pem, `--ca ${args.caFiles[i] ?? ''}`)));
    domains = [...new Set((args.mail ?? []).map(parseMailDomain))];
    servers = dnsServers(args.dnsServers);
  } catch (err) {
    if (err instanceof TrustStoreError || err instanceof Error) throw new UsageError(err.message);
    throw err;
  }
  const dns = new DnsCache(new DnsClient({ servers, timeoutMs: Math.min(args.timeoutMs, 5000) })).run();
  // The hosts come from the domain's DNS, not from the user: private ones are allowed (internal
  // mail), cloud metadata is not, as for the certificate URLs of a target check (main.ts).
  const addressPolicy = createAddressPolicy({ allowPrivate: true });
  const reports = await Promise.all(
    domains.map((domain) =>
      checkMailDomain(domain, {
        dns,
        trust,
        policyCa: [...rootCertificates, ...run.caPems],
        timeoutMs: args.timeoutMs,
        addressPolicy,
        warnDays: args.warnDays,
        critDays: args.critDays,
        ...(args.family === undefined ? {} : { family: args.family }),
      }),
    ),
  );
  run.write(args.json ? `${JSON.stringify(reports, null, 2)}\n` : `${reports.map((r) => renderTree(r, cell).join('\n')).join('\n\n')}\n`);
  return mailExitStatus(reports);
}

/** Same precedence as for targets: critical 2 > could not check 3 > warning 1 > ok 0. */
export function mailExitStatus(reports: readonly MailReport[]): ExitStatus {
  const seen = new Set<Status>(reports.flatMap((r) => [r.status, ...r.hosts.map((h) => h.status)]));
  if (reports.length === 0) return exitStatus.unknown;
  if (seen.has('critical')) return exitStatus.critical;
  if (seen.has('error')) return exitStatus.unknown;
  if (seen.has('warning')) return exitStatus.warning;
  return exitStatus.ok;
}
