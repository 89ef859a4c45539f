// The rules a strict TLS client (RFC 5280 section 6 with the CA/Browser Forum profile that
// webpki enforces) applies to a certificate path. Each rule is a small check that returns
// findings naming the certificate and the rule; the path search keeps a path only when none fire.
import { keyRejection } from './algorithms.ts';
import { hasKeyUsage, KU, OID } from './extensions.ts';
import type { GeneralName } from './general-names.ts';
import type { Cert } from './info.ts';
import { Budget, invalidConstraint, violation } from './name-constraints.ts';
import type { Finding } from './path-builder.ts';

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** How a certificate is named in messages, by its place on the path. */
export function who(c: Cert, role: 'leaf' | 'intermediate' | 'root'): string {
  if (role === 'leaf') return `server certificate "${c.label}"`;
  return `${role === 'root' ? 'trusted root' : 'intermediate certificate'} "${c.label}"`;
}

/** Rules on the leaf alone: the same for every path, so they do not steer the search. Computed once per certificate. */
export function leafRules(leaf: Cert): readonly Finding[] {
  return leaf.derive('leafRules', () => Object.freeze(leafFindings(leaf)));
}

function leafFindings(leaf: Cert): Finding[] {
  const out: Finding[] = [];
  const p = leaf.parsed;
  const name = who(leaf, 'leaf');
  out.push(...ownRules(leaf, name));
  if (p.san !== null) {
    // RFC 5280 section 4.2.1.6: critical exactly when the subject is empty.
    if (p.subjectEmpty && !p.san.critical) out.push(malformed(`${name} has an empty subject and a non-critical subjectAltName (RFC 5280 section 4.2.1.6)`));
    if (!p.subjectEmpty && p.san.critical) out.push(malformed(`${name} marks its subjectAltName critical although its subject is not empty (CABF 7.1.2.7.12)`));
  } else if (p.subjectEmpty) {
    out.push(malformed(`${name} has neither a subject nor a subjectAltName (RFC 5280 section 4.2.1.6)`));
  }
  const ca = p.basicConstraints?.ca === true;
  if (p.nameConstraints !== null && !ca) out.push(malformed(`${name} carries nameConstraints, which only CA certificates may (RFC 5280 section 4.2.1.10)`));
  if (p.serialDefect !== null) out.push(malformed(`${name}: ${p.serialDefect}`));
  for (const d of p.timeDefects) out.push(malformed(`${name}: ${d}`));
  if (!leaf.selfSigned && p.authorityKeyId?.keyId == null) {
    out.push(malformed(`${name} has no authorityKeyIdentifier key identifier (RFC 5280 section 4.2.1.1)`));
  }
  const eku = p.extKeyUsage;
  if (eku !== null && eku.oids.length > 0 && !eku.oids.includes(OID.serverAuth)) {
    out.push({ code: 'WRONG_PURPOSE', message: `${name} is not for TLS servers: its extendedKeyUsage lacks serverAuth (RFC 5280 section 4.2.1.12)` });
  }
  if (eku?.critical === true) out.push(malformed(`${name} marks extendedKeyUsage critical (CABF 7.1.2.7.6)`));
  if (eku?.oids.includes(OID.anyExtendedKeyUsage) === true) out.push({ code: 'WRONG_PURPOSE', message: `${name} allows anyExtendedKeyUsage, which server certificates must not (CABF 7.1.2.7.10)` });
  const key = keyVerdict(leaf);
  if (key !== null) out.push({ code: 'WEAK_KEY', message: `${name} has ${key}` });
  return out;
}

/** keyRejection, once per certificate (reading the key's details from node:crypto allocates each time). */
function keyVerdict(c: Cert): string | null {
  return c.derive('keyRejection', () => keyRejection(c));
}

/** A CN_NOT_IN_SAN finding, and the SAN entry the commonName spells differently, if it names one. */
export interface CommonNameFinding extends Finding {
  /** The subjectAltName entry (as written there) that the commonName names in another spelling; null when it names something else. */
  spells: string | null;
}

/**
 * CABF 7.1.4.3: a commonName must be a character-for-character copy of a subjectAltName entry
 * (IPv4 in dotted decimal per RFC 3986, IPv6 per RFC 5952, DNS names as the SAN writes them).
 * No client matches names against the CN when a SAN is present (Chrome, webpki, Go, OpenSSL and
 * pyca cryptography read SANs only), so it never fails the path; the judge decides how loud it
 * is by the anchor and by `spells` (docs/judge.md). Free-text CNs ("My server") are left alone;
 * a CN of digits, hex or colons is read as an attempted address.
 */
export function commonNameFindings(leaf: Cert): readonly CommonNameFinding[] {
  return leaf.derive('commonName', () => Object.freeze(cnFindings(leaf)));
}

function cnFindings(leaf: Cert): CommonNameFinding[] {
  const p = leaf.parsed;
  if (p.san === null) return [];
  const out: CommonNameFinding[] = [];
  const sans = leaf.sanList;
  for (const a of p.subjectAttributes) {
    if (a.oid !== OID.commonName || !hostLike(a.value) || sans.includes(a.value)) continue;
    const spells = sameIdentity(a.value, sans);
    const what = spells === null ? 'which is not a copy of one of its subjectAltName entries' : `another spelling of its subjectAltName entry "${spells}" (CABF 7.1.4.3 wants a character-for-character copy)`;
    out.push({ code: 'CN_NOT_IN_SAN', message: `server certificate "${leaf.label}" has the commonName "${a.value}", ${what}`, spells });
  }
  return out;
}

/**
 * The SAN entry that `cn` names when read as a host the way a URL parser reads one (WHATWG
 * host parsing, what browsers and most HTTP stacks do with a host string): case folded, Unicode
 * labels to A-labels, IPv4 in any inet_aton notation (hex, octal, leading zeros), IPv6
 * compressed. Null when it names none of them, or cannot be read as a host.
 */
function sameIdentity(cn: string, sans: readonly string[]): string | null {
  const host = urlHost(cn.includes(':') ? `[${cn}]` : cn);
  if (host === null) return null;
  for (const san of sans) {
    const other = urlHost(san.includes(':') ? `[${san}]` : san);
    if (other !== null && other === host) return san;
  }
  return null;
}

function urlHost(text: string): string | null {
  if (text.length > 253 || /[\s/?#@\\]/.test(text)) return null;
  try {
    return new URL(`http://${text}/`).hostname;
  } catch {
    return null;
  }
}

/** A commonName that reads as a host name or an address: no spaces, and a dot, a colon, or a 0x number. */
function hostLike(cn: string): boolean {
  return !/\s/.test(cn) && (/[.:]/.test(cn) || /^0x[0-9a-f]+$/i.test(cn));
}

/** Rules every certificate obeys on its own, whatever its place: encoding, critical extensions, CA consistency. */
function ownRules(c: Cert, name: string): Finding[] {
  const out: Finding[] = [];
  const p = c.parsed;
  for (const d of p.defects) out.push(malformed(`${name}: ${d}`));
  if (p.unknownCritical.length > 0) {
    out.push({ code: 'UNKNOWN_CRITICAL_EXTENSION', message: `${name} has a critical extension clients do not know (${p.unknownCritical.join(', ')}), so it must be refused (RFC 5280 section 4.2)` });
  }
  const ca = p.basicConstraints?.ca === true;
  // RFC 5280 sections 4.2.1.3 and 4.2.1.9: keyCertSign and cA go together when keyUsage is present.
  if (p.keyUsage !== null && hasKeyUsage(p, KU.keyCertSign) !== ca) {
    out.push(malformed(ca ? `${name} is a CA (cA=true) whose keyUsage lacks keyCertSign (RFC 5280 section 4.2.1.9)` : `${name} asserts keyCertSign without basicConstraints cA=true (RFC 5280 section 4.2.1.3)`));
  }
  if (p.basicConstraints?.pathLen != null && !ca) out.push(malformed(`${name} has a pathLenConstraint without cA=true (RFC 5280 section 4.2.1.9)`));
  // Signature-only algorithms cannot encipher or agree keys: RFC 9881 section 5 (ML-DSA), RFC
  // 9909 section 6 (SLH-DSA) and RFC 8410 section 5 (Ed25519, Ed448) keep their keyUsage to
  // digitalSignature, nonRepudiation, keyCertSign and cRLSign.
  if (p.keyUsage !== null && (p.keyUsage & ~signatureUsages) !== 0 && isSignatureOnly(c.key.keyType)) {
    out.push(malformed(`${name} has a ${c.key.keyType} key, which only signs, but its keyUsage allows enciphering or key agreement`));
  }
  return out;
}

/** digitalSignature, nonRepudiation, keyCertSign and cRLSign, as bits of `Parsed.keyUsage`. */
const signatureUsages = (1 << 0) | (1 << 1) | (1 << 5) | (1 << 6);

function isSignatureOnly(keyType: string): boolean {
  return /^(ml-dsa|slh-dsa)/i.test(keyType) || keyType === 'Ed25519' || keyType === 'Ed448';
}

function malformed(message: string): Finding {
  return { code: 'MALFORMED_CERTIFICATE', message };
}

/** Options of a path check. */
export interface PathOptions {
  now: Date;
  /** Most intermediates allowed (not counting self-issued ones), when the caller limits it. */
  maxIntermediates: number | null;
}

/** Rules on a complete path: the CA certificates, the anchor, and the constraints they put on the certificates below. */
export function pathRules(certs: readonly Cert[], anchor: Cert, o: PathOptions): Finding[] {
  if (certs.length === 0) return []; // the leaf is the anchor itself: nothing above it to check
  const out: Finding[] = [];
  const issuers = [...certs.slice(1), anchor];
  let below = 0; // non-self-issued intermediates under the CA being checked (RFC 5280 section 6.1.4 (l))
  issuers.forEach((ca, k) => {
    const role = ca === anchor ? 'root' : 'intermediate';
    out.push(...caRules(ca, role, below, o.now));
    if (role === 'intermediate' && !ca.selfIssued) below++;
  });
  if (o.maxIntermediates !== null && below > o.maxIntermediates) {
    out.push({ code: 'UNTRUSTED', message: `the path has ${below} intermediate certificates, more than the ${o.maxIntermediates} allowed` });
  }
  nameConstraintRules(certs, issuers, out);
  return out;
}

/** What caRules finds that depends on the certificate and its role alone, in caRules' order around the two checks that depend on the path. */
interface CaStatic {
  /** Before the validity check. */
  head: readonly Finding[];
  /** The basicConstraints findings, before the pathLen check. */
  constraints: readonly Finding[];
  /** After it. */
  tail: readonly Finding[];
}

function caRules(ca: Cert, role: 'intermediate' | 'root', below: number, now: Date): Finding[] {
  const fixed = ca.derive(`caRules:${role}`, () => caStatic(ca, role));
  const expired = !ca.validAt(now);
  const bc = ca.parsed.basicConstraints;
  const pathLen = bc !== null && bc.ca ? bc.pathLen : null;
  const tooDeep = pathLen !== null && below > pathLen;
  if (!expired && !tooDeep && fixed.head.length + fixed.constraints.length + fixed.tail.length === 0) return [];
  const name = who(ca, role);
  const out = [...fixed.head];
  if (expired) {
    const when = now < ca.notBefore ? `is not valid before ${ca.notBefore.toISOString()}` : `expired on ${day(ca.notAfter)}`;
    out.push({ code: 'CHAIN_EXPIRED', message: `${name} ${when}` });
  }
  out.push(...fixed.constraints);
  if (pathLen !== null && below > pathLen) {
    out.push({ code: 'INVALID_CA', message: `${name} allows ${pathLen} intermediate${pathLen === 1 ? '' : 's'} below it (pathLenConstraint) but the path has ${below} (RFC 5280 section 4.2.1.9)` });
  }
  out.push(...fixed.tail);
  return out;
}

function caStatic(ca: Cert, role: 'intermediate' | 'root'): CaStatic {
  const name = who(ca, role);
  const head = ownRules(ca, name);
  const p = ca.parsed;
  const constraints: Finding[] = [];
  const bc = p.basicConstraints;
  if (bc === null || !bc.ca) {
    constraints.push({ code: 'INVALID_CA', message: `${name} signs certificates but is not a CA (${bc === null ? 'no basicConstraints' : 'basicConstraints cA=false'}, RFC 5280 section 4.2.1.9)` });
  } else if (!bc.critical) {
    constraints.push({ code: 'INVALID_CA', message: `${name} has a non-critical basicConstraints (RFC 5280 section 4.2.1.9)` });
  }
  const tail: Finding[] = [];
  if (p.keyUsage !== null && !hasKeyUsage(p, KU.keyCertSign)) {
    tail.push({ code: 'INVALID_CA', message: `${name} signs certificates but its keyUsage lacks keyCertSign (RFC 5280 section 4.2.1.3)` });
  }
  if (p.subjectEmpty) tail.push(malformed(`${name} is a CA with an empty subject (RFC 5280 section 4.1.2.6)`));
  if (p.subjectKeyId === null) tail.push(malformed(`${name} has no subjectKeyIdentifier (RFC 5280 section 4.2.1.2)`));
  if (role !== 'root' && p.serialDefect !== null) tail.push(malformed(`${name}: ${p.serialDefect}`));
  // An anchor is a name and a key (RFC 5280 section 6.1.1 (d)): webpki never reads its validity.
  if (role !== 'root') for (const d of p.timeDefects) tail.push(malformed(`${name}: ${d}`));
  const aki = p.authorityKeyId;
  // An anchor is a name and a key (RFC 5280 section 6.1.1 (d)): how it names its own issuer does not matter.
  if (role !== 'root' && !ca.selfSigned && aki?.keyId == null) tail.push(malformed(`${name} has no authorityKeyIdentifier key identifier (RFC 5280 section 4.2.1.1)`));
  if (ca.selfSigned && aki !== null) {
    const same = aki.keyId !== null && p.subjectKeyId !== null && Buffer.compare(aki.keyId, p.subjectKeyId) === 0;
    if (!same || aki.hasIssuer || aki.hasSerial) tail.push(malformed(`${name}'s authorityKeyIdentifier must hold only its own key identifier (CABF 7.1.2.1.3)`));
  }
  const eku = p.extKeyUsage;
  if (role === 'root' && ca.selfSigned && eku !== null) tail.push(malformed(`${name} is a root with an extendedKeyUsage extension, which roots must not carry (CABF 7.1.2.1.2)`));
  if (eku !== null && !eku.oids.includes(OID.serverAuth) && !eku.oids.includes(OID.anyExtendedKeyUsage)) {
    tail.push({ code: 'WRONG_PURPOSE', message: `${name} restricts its extendedKeyUsage to purposes other than serverAuth (RFC 5280 section 4.2.1.12)` });
  }
  if (p.nameConstraints !== null) {
    const bad = invalidConstraint(p.nameConstraints);
    if (bad !== null) tail.push({ code: 'NAME_CONSTRAINTS', message: `${name}: ${bad}` });
  }
  const key = keyVerdict(ca);
  if (key !== null) tail.push({ code: 'WEAK_KEY', message: `${name} has ${key}` });
  return { head: Object.freeze(head), constraints: Object.freeze(constraints), tail: Object.freeze(tail) };
}

/** RFC 5280 section 6.1.3 (b)-(c): every CA's constraints apply to each later certificate except self-issued intermediates. */
function nameConstraintRules(certs: readonly Cert[], issuers: readonly Cert[], out: Finding[]): void {
  const budget = new Budget();
  issuers.forEach((ca, k) => {
    const nc = ca.parsed.nameConstraints;
    if (nc === null || invalidConstraint(nc) !== null) return;
    // Certificates below issuer k: certs[0..k] (certs[k] is the one it signed).
    for (let i = k; i >= 0; i--) {
      const c = certs[i]!;
      if (i > 0 && c.selfIssued) continue;
      const bad = violation(nc, namesOf(c), budget);
      if (bad !== null) {
        const role = i === 0 ? 'leaf' : 'intermediate';
        out.push({ code: 'NAME_CONSTRAINTS', message: `${who(ca, ca === issuers[issuers.length - 1] ? 'root' : 'intermediate')} does not allow ${who(c, role)}: ${bad}` });
        return;
      }
    }
  });
}

/** The names a constraint applies to: the subject (when not empty), its emailAddress attributes, and every SAN. */
function namesOf(c: Cert): GeneralName[] {
  const p = c.parsed;
  const names: GeneralName[] = [];
  if (!p.subjectEmpty) names.push({ type: 'dn', value: p.subjectDer });
  for (const a of p.subjectAttributes) if (a.oid === OID.emailAddress) names.push({ type: 'email', value: a.value });
  if (p.san !== null) names.push(...p.san.names);
  return names;
}
