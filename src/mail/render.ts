// A mail report as a small text tree: the domain, then each host with days left and findings.
import { formatHostPort } from '../probe/errors.ts';
import type { Status } from '../probe/result.ts';
import type { MailFinding } from './codes.ts';
import type { MailReport } from './check.ts';

const word: Record<Status, string> = { ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', error: 'UNKNOWN' };

/** Text that quotes servers and DNS: control characters escaped, length capped. */
export type Sanitize = (text: string, max?: number) => string;

function findingLine(f: MailFinding, clean: Sanitize): string {
  return `${f.code} (${f.severity}): ${clean(f.message, 300)}`;
}

/** The domain headline: status, how hosts were found, MTA-STS and TLS-RPT state. */
export function domainHeadline(r: MailReport, clean: Sanitize): string {
  const sts = r.mtaSts.policy !== undefined ? `MTA-STS ${r.mtaSts.policy.mode}` : `MTA-STS ${r.mtaSts.state}`;
  const source = { mx: 'MX', 'null-mx': 'null MX', implicit: 'no MX, A/AAAA', none: 'no hosts' }[r.source];
  return `${word[r.status]}  ${clean(r.domain)}  (${source}; ${sts}; TLS-RPT ${r.tlsRpt.state})`;
}

/** One line per host: label, endpoint, status, days left, DANE state. */
export function hostLine(h: MailReport['hosts'][number], clean: Sanitize): string {
  const days = h.daysLeft === null ? 'no certificate' : `${h.daysLeft} days`;
  const dane = h.dane === null ? '' : `  DANE ${h.dane.state}`;
  return `${clean(h.label)}  ${clean(formatHostPort(h.host, h.port))}  ${word[h.status]}  ${days}${dane}`;
}

/** Problems and errors of a host: each address's probe problems, then the mail findings. */
export function hostDetails(h: MailReport['hosts'][number], clean: Sanitize): string[] {
  const out: string[] = [];
  for (const r of h.results) {
    const at = r.address === null ? '' : `${r.address}: `;
    if (r.error !== null && r.problems.length === 0) out.push(`${at}${r.error.code}: ${clean(r.error.message, 300)}`);
    for (const p of r.problems) out.push(`${at}${p.code} (${p.severity}): ${clean(p.message, 300)}`);
  }
  for (const f of h.findings) out.push(findingLine(f, clean));
  return out;
}

/** The whole tree as plain text lines (CLI table output, console chat). */
export function renderTree(r: MailReport, clean: Sanitize): string[] {
  const lines = [domainHeadline(r, clean)];
  for (const f of r.findings) lines.push(`│  ${findingLine(f, clean)}`);
  r.hosts.forEach((h, i) => {
    const last = i === r.hosts.length - 1;
    lines.push(`${last ? '└─' : '├─'} ${hostLine(h, clean)}`);
    for (const d of hostDetails(h, clean)) lines.push(`${last ? '   ' : '│  '}   ${d}`);
  });
  return lines;
}
