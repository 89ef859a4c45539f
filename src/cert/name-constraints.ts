// Name constraints (RFC 5280 sections 4.2.1.10 and 6.1.3 (b)-(c)), per name type, with a bound
// on the comparisons so a hostile certificate cannot burn CPU (Go's crypto/x509 caps them too).
import { children, encoding, readTlv } from './der.ts';
import type { NameConstraints } from './extensions.ts';
import { ipText, showName, type GeneralName } from './general-names.ts';
import { validDnsName } from './hostname.ts';

/** Most name-versus-constraint comparisons for one path (Go: maxConstraintComparisons). */
export const MAX_COMPARISONS = 250_000;

/** Why a constraint set is unusable, or null: a CA with a malformed constraint constrains nothing safely. */
export function invalidConstraint(nc: NameConstraints): string | null {
  for (const c of [...nc.permitted, ...nc.excluded]) {
    if (c.type === 'dns' && c.value !== '' && !validDnsName(c.value, false)) {
      return `the DNS name constraint "${c.value}" is not a DNS name (no wildcard or leading dot, RFC 5280 section 4.2.1.10)`;
    }
    if (c.type === 'ip' && !validMask(c.value)) {
      return `the IP address constraint ${ipText(c.value)} is not an address and a contiguous mask`;
    }
  }
  return null;
}

function validMask(b: Uint8Array): boolean {
  if (b.length !== 8 && b.length !== 32) return false;
  let zero = false;
  for (const byte of b.subarray(b.length / 2)) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = ((byte >> bit) & 1) === 1;
      if (one && zero) return false;
      if (!one) zero = true;
    }
  }
  return true;
}

/** Counts comparisons across one path; exceeding the budget fails the path. */
export class Budget {
  used = 0;
  spend(n: number): boolean {
    this.used += n;
    return this.used <= MAX_COMPARISONS;
  }
}

/** The first name violating `nc`, as a sentence fragment, or null. `names` are one certificate's names. */
export function violation(nc: NameConstraints, names: readonly GeneralName[], budget: Budget): string | null {
  if (!budget.spend(names.length * (nc.permitted.length + nc.excluded.length))) {
    return `checking ${names.length} names against ${nc.permitted.length + nc.excluded.length} constraints exceeds the work limit`;
  }
  for (const name of names) {
    // A malformed dNSName (".example.com", "a_b.example") lies in no subtree: it cannot be vouched for.
    if (name.type === 'dns' && (nc.permitted.length > 0 || nc.excluded.length > 0) && !validDnsName(name.value, true)) {
      return `${showName(name)} is not a valid DNS name, so the constraints cannot be checked`;
    }
    for (const c of nc.excluded) {
      const m = matches(name, c, 'excluded');
      if (m === 'unsupported') return `${showName(name)} cannot be checked against an excluded ${showName(c)} constraint`;
      if (m) return `${showName(name)} is in the excluded subtree ${showName(c)}`;
    }
    const sameType = nc.permitted.filter((c) => sameKind(name, c));
    if (sameType.length === 0) continue;
    let ok = false;
    for (const c of sameType) {
      const m = matches(name, c, 'permitted');
      if (m === 'unsupported') return `${showName(name)} cannot be checked against a permitted ${showName(c)} constraint`;
      if (m) {
        ok = true;
        break;
      }
    }
    if (!ok) return `${showName(name)} is outside the permitted subtrees (${sameType.map(showName).slice(0, 3).join(', ')}${sameType.length > 3 ? ', ...' : ''})`;
  }
  return null;
}

function sameKind(a: GeneralName, b: GeneralName): boolean {
  if (a.type !== b.type) return false;
  return a.type !== 'other' || (b.type === 'other' && a.tag === b.tag);
}

/** Whether `name` falls in subtree `c`; for an excluded wildcard, whether any name it covers does. */
function matches(name: GeneralName, c: GeneralName, mode: 'permitted' | 'excluded'): boolean | 'unsupported' {
  if (!sameKind(name, c)) return false;
  switch (name.type) {
    case 'dns':
      return dnsMatches(name.value, (c as { value: string }).value, mode);
    case 'ip':
      return ipMatches(name.value, (c as { value: Uint8Array }).value);
    case 'email':
      return emailMatches(name.value, (c as { value: string }).value);
    case 'dn':
      return dnMatches(name.value, (c as { value: Uint8Array }).value);
    case 'uri':
    case 'other':
      // RFC 5280 section 6.1.3: a validator must process every constraint on the names it sees or reject.
      return 'unsupported';
  }
}

/** `name` is `base` or below it: DNS subtrees add labels on the left (RFC 5280 section 4.2.1.10). */
function within(name: string, base: string): boolean {
  if (base === '') return true;
  return name === base || name.endsWith(`.${base}`);
}

/**
 * A wildcard SAN "*.x" stands for every one-label name under x (CVE-2025-61727): it is
 * permitted when x is within the subtree, and excluded when any name it covers is.
 */
function dnsMatches(rawName: string, rawBase: string, mode: 'permitted' | 'excluded'): boolean {
  const name = rawName.toLowerCase();
  const base = rawBase.toLowerCase();
  if (!name.startsWith('*.')) return within(name, base);
  const parent = name.slice(2);
  if (within(parent, base)) return true;
  if (mode === 'permitted') return false;
  const dot = base.indexOf('.');
  return dot > 0 && base.slice(dot + 1) === parent;
}

function ipMatches(addr: Uint8Array, c: Uint8Array): boolean {
  const n = c.length / 2;
  if (addr.length !== n) return false;
  for (let i = 0; i < n; i++) if ((addr[i]! & c[n + i]!) !== (c[i]! & c[n + i]!)) return false;
  return true;
}

/** RFC 5280 section 4.2.1.10: a mailbox, all mailboxes at a host, or ".domain" for hosts below it. */
function emailMatches(rawAddr: string, rawC: string): boolean {
  const at = rawAddr.lastIndexOf('@');
  if (at < 0) return false;
  const host = rawAddr.slice(at + 1).toLowerCase();
  const c = rawC.toLowerCase();
  if (c.includes('@')) return rawAddr.slice(0, at) + '@' + host === rawC.slice(0, rawC.lastIndexOf('@')) + c.slice(c.lastIndexOf('@'));
  if (c.startsWith('.')) return host.endsWith(c);
  return host === c;
}

/** A Name is within a directoryName subtree when its RDNs start with the subtree's RDNs. */
function dnMatches(nameDer: Uint8Array, baseDer: Uint8Array): boolean {
  const a = rdnsOf(nameDer);
  const b = rdnsOf(baseDer);
  if (a === null || b === null || b.length > a.length) return false;
  return b.every((rdn, i) => rdn === a[i]);
}

function rdnsOf(der: Uint8Array): string[] | null {
  // Both arrive as a whole Name SEQUENCE; compare RDN SETs byte for byte (webpki and Go do likewise).
  try {
    return children(der, readTlv(der, 0)).map((t) => Buffer.from(encoding(der, t)).toString('latin1'));
  } catch {
    return null;
  }
}
