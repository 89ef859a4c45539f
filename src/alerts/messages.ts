// The alert texts, as neutral Reply objects (adapters render and escape them).
import type { CertificateInfo } from '../cert/types.ts';
import { clean, endpoint, protocolText, targetButtons } from '../chat/format.ts';
import type { Reply, ReplyStatus } from '../chat/types.ts';
import type { TargetRecord } from '../core/services.ts';

/** How a target is named in a message: its label when it has one. */
export function displayName(record: TargetRecord): string {
  const at = endpoint(record.target);
  return record.label === undefined ? at : `${clean(record.label)} (${at})`;
}

function baseFields(record: TargetRecord): { label: string; value: string }[] {
  return [
    { label: 'Endpoint', value: endpoint(record.target) },
    { label: 'Protocol', value: protocolText(record.target) },
  ];
}

function certFields(cert: CertificateInfo, daysLeft: number, addresses: string[]): { label: string; value: string }[] {
  return [
    { label: 'Expires', value: cert.notAfter },
    { label: 'Days left', value: String(daysLeft) },
    { label: 'Subject', value: clean(cert.subject) },
    { label: 'Issuer', value: clean(cert.issuer) },
    { label: 'Fingerprint (SHA-256)', value: cert.fingerprint256 },
    ...(addresses.length > 0 ? [{ label: 'Addresses', value: addresses.join(', ') }] : []),
  ];
}

function days(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

/** A certificate crossed an alert threshold. */
export function thresholdReply(record: TargetRecord, cert: CertificateInfo, daysLeft: number, threshold: number, critical: boolean, addresses: string[]): Reply {
  const status: ReplyStatus = critical ? 'critical' : 'warning';
  const when = daysLeft <= 0 ? 'today' : `in ${days(daysLeft)}`;
  return {
    title: `Certificate for ${displayName(record)} expires ${when}`,
    status,
    text: [`It crossed the ${days(threshold)} alert threshold. Renew it before ${cert.notAfter.slice(0, 10)}.`],
    fields: [...baseFields(record), ...certFields(cert, daysLeft, addresses)],
    buttons: targetButtons(record.id),
  };
}

/** A new certificate replaced a known one. */
export function renewedReply(record: TargetRecord, cert: CertificateInfo, daysLeft: number, addresses: string[]): Reply {
  return {
    title: `Certificate for ${displayName(record)} was renewed`,
    status: 'ok',
    text: [`The new certificate is valid until ${cert.notAfter} (${days(daysLeft)} left). Expiry alerts start over for it.`],
    fields: [...baseFields(record), ...certFields(cert, daysLeft, addresses)],
    buttons: targetButtons(record.id),
  };
}

/** A problem code (or UNREACHABLE) persisted for the failure threshold. */
export function problemReply(record: TargetRecord, key: string, detail: string, severity: 'warning' | 'critical' | 'error', streak: number): Reply {
  const what = key === 'UNREACHABLE' ? 'cannot be checked' : `has a problem: ${key}`;
  return {
    title: `${displayName(record)} ${what}`,
    status: severity,
    text: [clean(detail, 500), `Seen in ${streak} consecutive checks.`],
    fields: baseFields(record),
    buttons: targetButtons(record.id),
  };
}

/** A previously announced problem cleared. */
export function recoveredReply(record: TargetRecord, key: string, detail: string): Reply {
  const what = key === 'UNREACHABLE' ? 'is reachable again' : `no longer has ${key}`;
  return {
    title: `${displayName(record)} ${what}`,
    status: 'ok',
    text: [`Resolved: ${clean(detail, 500)}`],
    fields: baseFields(record),
    buttons: [{ label: 'Check now', command: `check ${record.id}`, style: 'primary' }],
  };
}
