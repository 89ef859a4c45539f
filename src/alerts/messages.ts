// The alert texts, as neutral Reply objects (adapters render and escape them).
import type { CertificateInfo } from '../cert/types.ts';
import type { Reply, ReplyButton, ReplyStatus } from '../chat/types.ts';
import type { TargetRecord } from '../core/services.ts';

/** `host:port`, with IPv6 literals bracketed. */
export function endpointOf(record: TargetRecord): string {
  const { host, port } = record.target;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** How a target is named in a message: its label when it has one. */
export function displayName(record: TargetRecord): string {
  return record.label === undefined ? endpointOf(record) : `${record.label} (${endpointOf(record)})`;
}

/** The buttons every alert carries. */
export function alertButtons(id: string): ReplyButton[] {
  return [
    { label: 'Check now', command: `check ${id}`, style: 'primary' },
    { label: 'Mute 7 days', command: `mute ${id} 7d` },
    { label: 'Remove', command: `remove ${id}`, style: 'danger' },
  ];
}

function baseFields(record: TargetRecord): { label: string; value: string }[] {
  const { protocol, mode } = record.target;
  return [
    { label: 'Endpoint', value: endpointOf(record) },
    { label: 'Protocol', value: mode === 'starttls' ? `${protocol} (STARTTLS)` : `${protocol} (implicit TLS)` },
  ];
}

function certFields(cert: CertificateInfo, daysLeft: number, addresses: string[]): { label: string; value: string }[] {
  return [
    { label: 'Expires', value: cert.notAfter },
    { label: 'Days left', value: String(daysLeft) },
    { label: 'Subject', value: cert.subject },
    { label: 'Issuer', value: cert.issuer },
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
    buttons: alertButtons(record.id),
  };
}

/** A new certificate replaced a known one. */
export function renewedReply(record: TargetRecord, cert: CertificateInfo, daysLeft: number, addresses: string[]): Reply {
  return {
    title: `Certificate for ${displayName(record)} was renewed`,
    status: 'ok',
    text: [`The new certificate is valid until ${cert.notAfter} (${days(daysLeft)} left). Expiry alerts start over for it.`],
    fields: [...baseFields(record), ...certFields(cert, daysLeft, addresses)],
    buttons: alertButtons(record.id),
  };
}

/** A problem code (or UNREACHABLE) persisted for the failure threshold. */
export function problemReply(record: TargetRecord, key: string, detail: string, severity: 'warning' | 'critical' | 'error', streak: number): Reply {
  const what = key === 'UNREACHABLE' ? 'cannot be checked' : `has a problem: ${key}`;
  return {
    title: `${displayName(record)} ${what}`,
    status: severity,
    text: [detail, `Seen in ${streak} consecutive checks.`],
    fields: baseFields(record),
    buttons: alertButtons(record.id),
  };
}

/** A previously announced problem cleared. */
export function recoveredReply(record: TargetRecord, key: string, detail: string): Reply {
  const what = key === 'UNREACHABLE' ? 'is reachable again' : `no longer has ${key}`;
  return {
    title: `${displayName(record)} ${what}`,
    status: 'ok',
    text: [`Resolved: ${detail}`],
    fields: baseFields(record),
    buttons: [{ label: 'Check now', command: `check ${record.id}`, style: 'primary' }],
  };
}
