// Matching the name a client asked for against the leaf's subjectAltName (RFC 9525, CABF 7.1.2.7.12).
import { isIP } from 'node:net';
import type { GeneralName } from './general-names.ts';
import { ipBytes } from './general-names.ts';
import { isPublicSuffix } from './public-suffix.ts';

const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A DNS name as CABF allows it in a dNSName: letters, digits and hyphens (no "_", no trailing
 * or leading dot), 1 to 63 octets per label, 253 in all; with `wildcard`, "*." may lead.
 */
export function validDnsName(name: string, wildcard: boolean): boolean {
  const n = wildcard && name.startsWith('*.') ? name.slice(2) : name;
  if (n.length === 0 || n.length > 253) return false;
  return n.toLowerCase().split('.').every((l) => label.test(l));
}

/**
 * A wildcard must stand for one label under a registrable name (CABF 3.2.2.6): "*.com",
 * "*.co.uk" and "*.s3.amazonaws.com" cover names of unrelated owners, and Chrome and webpki's
 * strict profile refuse them. Exported for the mismatch message.
 */
export function wildcardTooBroad(name: string): boolean {
  const rest = name.slice(2).toLowerCase();
  return rest.split('.').length < 2 || isPublicSuffix(rest);
}

/** Whether the wildcard `*.rest` stands for the name of `labels` (one whole left-most label). */
function wildcardCovers(wildcard: string, labels: readonly string[]): boolean {
  return labels.length >= 2 && labels[0] !== '' && labels.slice(1).join('.') === wildcard.slice(2);
}

/** A wildcard SAN that would name `expected` but covers a public suffix, or null: to explain a mismatch. */
export function publicSuffixWildcard(names: readonly GeneralName[], expected: string): string | null {
  const labels = expected.toLowerCase().replace(/\.$/, '').split('.');
  for (const n of names) {
    if (n.type !== 'dns' || !validDnsName(n.value, true)) continue;
    const have = n.value.toLowerCase();
    if (have.startsWith('*.') && wildcardCovers(have, labels) && wildcardTooBroad(have)) return n.value;
  }
  return null;
}

/** Whether an IPv6 address text carries a zone index ("fe80::1%eth0"). */
export function hasZoneIndex(expected: string): boolean {
  return isIP(expected) === 6 && expected.includes('%');
}

/**
 * Whether `san` names `expected` (a DNS name or an IP address text). An IPv6 address with a
 * zone index matches nothing: Go's VerifyHostname cannot parse it as an address and OpenSSL's
 * X509_VERIFY_PARAM_set1_ip_asc refuses it, so clients that check the name refuse the server.
 */
export function matchesSan(names: readonly GeneralName[], expected: string): boolean {
  if (expected === '' || hasZoneIndex(expected)) return false;
  const ip = ipBytes(expected);
  if (ip !== null) return names.some((n) => n.type === 'ip' && Buffer.compare(n.value, ip) === 0);
  const want = expected.toLowerCase().replace(/\.$/, '');
  const wantLabels = want.split('.');
  for (const n of names) {
    if (n.type !== 'dns' || !validDnsName(n.value, true)) continue;
    const have = n.value.toLowerCase();
    if (have === want) return true;
    // RFC 9525 section 6.3: "*" is the whole left-most label and stands for exactly one label.
    if (have.startsWith('*.') && wildcardCovers(have, wantLabels) && !wildcardTooBroad(have)) return true;
  }
  return false;
}
