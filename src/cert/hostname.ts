// Matching the name a client asked for against the leaf's subjectAltName (RFC 9525, CABF 7.1.2.7.12).
import type { GeneralName } from './general-names.ts';
import { ipBytes } from './general-names.ts';

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
 * A wildcard must stand for one label under a registrable name: "*" and "*.com" (a wildcard
 * over a top-level domain, CABF 3.2.2.6) are refused. Multi-label public suffixes (co.uk)
 * would need the Public Suffix List, which certwatch does not ship.
 */
function wildcardTooBroad(name: string): boolean {
  return name.slice(2).split('.').length < 2;
}

/** Whether `san` names `expected` (a DNS name or an IP address text). */
export function matchesSan(names: readonly GeneralName[], expected: string): boolean {
  if (expected === '') return false;
  const ip = ipBytes(expected);
  if (ip !== null) return names.some((n) => n.type === 'ip' && Buffer.compare(n.value, ip) === 0);
  const want = expected.toLowerCase().replace(/\.$/, '');
  const wantLabels = want.split('.');
  for (const n of names) {
    if (n.type !== 'dns' || !validDnsName(n.value, true)) continue;
    const have = n.value.toLowerCase();
    if (have === want) return true;
    // RFC 9525 section 6.3: "*" is the whole left-most label and stands for exactly one label.
    if (have.startsWith('*.') && !wildcardTooBroad(have)) {
      const rest = have.slice(2);
      if (wantLabels.length >= 2 && wantLabels.slice(1).join('.') === rest && wantLabels[0] !== '') return true;
    }
  }
  return false;
}
