import { isWeakHash, keyWeakness } from './algorithms.ts';
import { hasZoneIndex, matchesSan, publicSuffixWildcard } from './hostname.ts';
import type { Cert } from './info.ts';
import { buildPath, type CertPath } from './path.ts';
import { MAX_CANDIDATES, MAX_INTERMEDIATES, searchPaths } from './path-builder.ts';
import { CrlSet } from './revocation.ts';
import { commonNameFindings, leafRules, pathRules, who } from './rules.ts';
import type { TrustStore } from './trust.ts';
import type { Judgement, JudgeInput, JudgeNote, Problem, Severity } from './types.ts';

/** A certificate the server sent that cannot be parsed: the probe reports it as an error. */
export class CertificateParseError extends Error {
  override readonly name = 'CertificateParseError';
}

/**
 * Judges the chain a server sent: reports it and lists every problem, each code at most once.
 * `trusted` means some path from the leaf to an anchor passes every rule of RFC 5280 section 6
 * and the TLS server profile (rules.ts), and the leaf itself breaks none; the leaf's own dates
 * are reported separately (EXPIRED, NOT_YET_VALID). Pure: no I/O, no clock but `input.now`.
 * Throws CertificateParseError only when the chain is empty or node:crypto cannot read the leaf.
 */
export function judge(input: JudgeInput, trust: TrustStore): Judgement {
  const problems: Problem[] = [];
  const add = (code: Problem['code'], severity: Severity, message: string): void => {
    problems.push({ code, severity, message });
  };
  const sent = parseSent(trust, input.chain, add);
  const leaf = sent[0];
  if (leaf === undefined) throw new CertificateParseError('the server sent no certificate');
  const { now } = input;

  leafValidity(leaf, input, add);
  const hostnameMatch = matchesSan(leaf.parsed.san?.names ?? [], input.expectedName);
  if (!hostnameMatch) add('HOSTNAME_MISMATCH', 'critical', mismatchMessage(leaf, input.expectedName));

  const leafFindings = leafRules(leaf);
  for (const f of leafFindings) add(f.code, 'critical', f.message);
  const options = { now, maxIntermediates: input.maxChainDepth ?? MAX_INTERMEDIATES };
  const crls = input.crls === undefined || input.crls.length === 0 ? null : new CrlSet(input.crls);
  // A revoked certificate fails its path, so the search goes on to another path (a revoked
  // cross-certificate with a live alternative); an unusable CRL is reported for the path chosen.
  const search = searchPaths(sent, trust, now, (certs, anchor) => {
    const found = pathRules(certs, anchor, options);
    return crls === null ? found : [...found, ...crls.check(certs, anchor, now).revoked];
  });
  const chosen = search.valid ?? search.rejected;
  if (search.valid !== null) {
    expiringIssuers(search.valid.certs, search.valid.anchor, leaf, input, add);
  } else if (search.rejected !== null) {
    for (const f of search.rejected.findings) add(f.code, 'critical', f.message);
  } else if (search.exhausted) {
    add('UNTRUSTED', 'critical', `no path to a trusted CA found within ${MAX_CANDIDATES} candidate issuers (the chain sent is too tangled to check)`);
  } else {
    pathProblems(buildPath(sent, trust, now), leaf, add);
  }
  if (crls !== null) {
    const severity = input.revocationPolicy === 'hard-fail' ? 'critical' : 'warning';
    for (const why of crls.unreadable) add('REVOCATION_UNKNOWN', severity, why);
    if (chosen !== null) for (const f of crls.check(chosen.certs, chosen.anchor, now).unknown) add(f.code, severity, f.message);
  }
  const notes = commonName(leaf, chosen?.anchor ?? null, trust, add);
  if (chosen !== null && trust.isPublic(chosen.anchor)) {
    forbiddenPurposes(chosen.certs, chosen.anchor, trust, add);
    edwardsKeys(chosen.certs, chosen.anchor, trust, add);
  }
  // Clients rely on the path they chose (the anchor is a name and a key): certificates sent
  // beside it, such as an old cross-certificate of the root, are never checked by them.
  weakness(chosen === null ? sent : [leaf, ...chosen.certs.slice(1)], add);
  legacyTls(input.tlsVersion, add);

  // The leaf's info is shared by `certificate` and `chain[0]`: a run of 10,000 results
  // keeps one copy per result, not two (bench: memory with results kept).
  const chain = sent.map((c) => c.info(now));
  return {
    certificate: chain[0]!,
    chain,
    trusted: search.valid !== null && leafFindings.length === 0,
    hostnameMatch,
    problems: mergeByCode(problems),
    ...(notes.length === 0 ? {} : { notes }),
  };
}

type Add = (code: Problem['code'], severity: Severity, message: string) => void;

/**
 * The sent certificates node:crypto can read, leaf first. An unreadable leaf is a parse error
 * (nothing to report on); an unreadable chain certificate is a finding and is left out.
 */
function parseSent(trust: TrustStore, ders: readonly Buffer[], add: Add): Cert[] {
  const out: Cert[] = [];
  ders.forEach((der, i) => {
    try {
      out.push(trust.certs.get(der));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (i === 0) throw new CertificateParseError(`certificate 1 sent by the server cannot be parsed (${why})`, { cause: err });
      add('MALFORMED_CERTIFICATE', 'critical', `chain certificate ${i + 1} sent by the server cannot be parsed (${why}); it was ignored`);
    }
  });
  return out;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function plural(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

function leafValidity(leaf: Cert, input: JudgeInput, add: Add): void {
  const { now } = input;
  // Certificates carry whole seconds: compare at that resolution (RFC 5280 section 4.1.2.5, both ends inclusive).
  const t = new Date(Math.floor(now.getTime() / 1000) * 1000);
  if (t < leaf.notBefore) {
    add('NOT_YET_VALID', 'critical', `certificate is not valid before ${leaf.notBefore.toISOString()}`);
    return;
  }
  const days = leaf.daysLeft(now);
  if (t > leaf.notAfter) {
    // Whole days elapsed, so one second past expiry reads "today", not "1 day ago".
    const ago = Math.floor((now.getTime() - leaf.notAfter.getTime()) / 86_400_000);
    add('EXPIRED', 'critical', `certificate expired ${ago === 0 ? 'today' : `${plural(ago)} ago`} (${day(leaf.notAfter)})`);
  } else if (days < input.warnDays) {
    const when = days === 0 ? 'today' : `in ${plural(days)}`;
    add('EXPIRES_SOON', days < input.critDays ? 'critical' : 'warning', `certificate expires ${when} (${day(leaf.notAfter)})`);
  }
}

/**
 * DNS names per RFC 9525 (hostname.ts): a wildcard only as the whole left-most label; the
 * subject CN is never consulted, as browsers stopped doing years before RFC 9525.
 */
function mismatchMessage(leaf: Cert, name: string): string {
  const sans = leaf.sanList;
  if (hasZoneIndex(name)) {
    return `certificate is not valid for ${name}: an IPv6 address with a zone index (after "%") matches no subjectAltName, as Go and OpenSSL refuse it; check the server by a host name it names`;
  }
  const broad = publicSuffixWildcard(leaf.parsed.san?.names ?? [], name);
  if (broad !== null) {
    return `certificate is not valid for ${name}: its wildcard ${broad} spans a public suffix (Public Suffix List), which clients refuse to match (CABF 3.2.2.6)`;
  }
  const shown = sans.slice(0, 5).join(', ') + (sans.length > 5 ? `, and ${sans.length - 5} more` : '');
  return sans.length === 0
    ? `certificate is not valid for ${name} (it lists no subject alternative names)`
    : `certificate is not valid for ${name} (it names ${shown})`;
}

/**
 * Intermediates and the anchor of the chosen path expiring before the leaf: their expiry is
 * CHAIN_EXPIRED (a path rule; OpenSSL and Go check the anchor's dates too), so it is warned of.
 */
function expiringIssuers(certs: readonly Cert[], anchor: Cert, leaf: Cert, input: JudgeInput, add: Add): void {
  const issuers: { c: Cert; role: 'intermediate' | 'root' }[] = certs.slice(1).map((c) => ({ c, role: 'intermediate' }));
  if (anchor !== leaf) issuers.push({ c: anchor, role: 'root' });
  for (const { c, role } of issuers) {
    const days = c.daysLeft(input.now);
    if (c.notAfter < leaf.notAfter && days < input.warnDays) {
      const severity = days < input.critDays ? 'critical' : 'warning';
      add('CHAIN_EXPIRES_SOON', severity, `${who(c, role)} expires in ${plural(days)} (${day(c.notAfter)}), before the server certificate`);
    }
  }
}

const privateCaAdvice = 'if it is your private CA, trust it with --ca <file> (EXTRA_CA_FILE for the bot)';

/**
 * How an unanchored chain ends. A missing issuer of the leaf is CHAIN_INCOMPLETE (the server
 * omits an intermediate); a chain that ends at a sent intermediate whose issuer is not trusted
 * is UNTRUSTED: servers never send the root, so this is what a private CA looks like.
 */
function pathProblems(path: CertPath, leaf: Cert, add: Add): void {
  const end = path.end;
  switch (end.kind) {
    case 'self-signed-leaf':
      add('SELF_SIGNED', 'critical', 'certificate is self-signed and not among the trusted CAs');
      return;
    case 'unknown-root':
      add('UNTRUSTED', 'critical', `chain ends at "${end.root.label}", a root that is not among the trusted CAs; ${privateCaAdvice}`);
      return;
    case 'incomplete':
      if (end.at === leaf) {
        add('CHAIN_INCOMPLETE', 'critical', `server did not send the issuer of "${end.at.label}" ("${issuerLabel(end.at)}"), and it is not a trusted CA: serve the intermediate certificate(s) with the server certificate`);
      } else {
        add('UNTRUSTED', 'critical', `chain ends at intermediate certificate "${end.at.label}", issued by "${issuerLabel(end.at)}", which is not a trusted CA; ${privateCaAdvice} (a public CA's chain would need another intermediate)`);
      }
      return;
    case 'bad-signature': {
      const odd = end.child.signature.unsupported;
      if (odd !== null) {
        add('UNTRUSTED', 'critical', `"${end.child.label}" is signed with ${odd}, which clients refuse as an unsupported signature algorithm (webpki, Chrome and Go accept RSASSA-PSS only over SHA-256, -384 or -512 with MGF1 over the same digest, a salt as long as the digest and trailerField 1)`);
      } else {
        add('UNTRUSTED', 'critical', `signature on "${end.child.label}" does not verify with the key of its issuer "${end.issuer.label}"`);
      }
      return;
    }
    case 'anchored':
      // Reached an anchor greedily though the search found no path: a signature did not verify.
      add('UNTRUSTED', 'critical', `no path from "${leaf.label}" to a trusted CA verifies`);
      return;
    case 'too-long':
      add('UNTRUSTED', 'critical', 'no trusted CA within 10 certificates of the server certificate');
  }
}

function issuerLabel(c: Cert): string {
  const cn = /^CN=(.*)$/m.exec(c.issuerKey);
  return cn?.[1] ?? (c.issuerKey === '' ? '(empty name)' : c.issuerKey.split('\n').join(', '));
}

/**
 * CN_NOT_IN_SAN by whom the CABF Baseline Requirements bind, and by what the CN says.
 *
 * Under a bundled (public) root the CA broke 7.1.4.3 and must revoke the certificate within 5
 * days (BR 4.9.1.1):
 * - a CN that spells one of the certificate's own SAN identities differently (case, IPv4 in hex
 *   or with leading zeros, IPv6 not in RFC 5952 form, Unicode for an A-label) is critical: two
 *   texts for one identity is the ambiguity the rule's encoding clause exists to prevent
 *   (software that compares names as text, or reads "0xC0A80101" or "010" the inet_aton way,
 *   disagrees on what the certificate is for), and web PKI validators refuse it (x509-limbo
 *   rejects every such certificate, with no case the other way);
 * - a CN naming something the SAN does not is a warning: an inert label no client matches, and
 *   x509-limbo itself accepts six such certificates while rejecting three.
 * Under a private anchor, or none, the rule binds no one and every client ignores the CN
 * (private CAs often issue such CNs): a note, no status change.
 */
function commonName(leaf: Cert, anchor: Cert | null, trust: TrustStore, add: Add): JudgeNote[] {
  const findings = commonNameFindings(leaf);
  if (findings.length === 0) return [];
  if (anchor !== null && trust.isPublic(anchor)) {
    const why = `a mis-issuance under the publicly trusted root "${anchor.label}" (CABF Baseline Requirements 7.1.4.3), which the CA must revoke within 5 days (BR 4.9.1.1)`;
    for (const f of findings) {
      if (f.spells !== null) add('CN_NOT_IN_SAN', 'critical', `${f.message}: two texts for one name, ${why}, after which clients that check revocation refuse it: replace it now`);
      else add('CN_NOT_IN_SAN', 'warning', `${f.message}: ${why}: ask it for a replacement now (clients ignore the commonName meanwhile)`);
    }
    return [];
  }
  const where = anchor === null ? 'the chain reaches none' : `"${anchor.label}" is a private one`;
  const why = `clients ignore the commonName, and the CA/Browser Forum rule requiring a copy (7.1.4.3) binds only publicly trusted CAs: ${where}`;
  return findings.map((f) => ({ code: 'CN_NOT_IN_SAN', message: `${f.message}; ${why}` }));
}

/** Purposes the CA/Browser Forum profiles forbid beside serverAuth, by OID. */
const forbiddenEku: Record<string, string> = {
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.3.6.1.4.1.11129.2.4.4': 'Precertificate Signing (RFC 6962)',
};

/**
 * Under a bundled (public) root, the extendedKeyUsage of the leaf (CABF 7.1.2.7.10) and of each
 * TLS intermediate (7.1.2.10.6) may hold serverAuth and clientAuth, and MUST NOT hold the
 * purposes above: such a certificate is a mis-issuance the CA must revoke within 5 days (BR
 * 4.9.1.1), critical for the same reason as CN_NOT_IN_SAN's other spellings. A certificate with
 * the name and key of a trust anchor (a cross-certificate of a root) is left alone: its profile
 * is another one (7.1.2.2). Private PKIs issue multi-purpose certificates freely: not checked.
 */
function forbiddenPurposes(certs: readonly Cert[], anchor: Cert, trust: TrustStore, add: Add): void {
  certs.forEach((c, i) => {
    if (i > 0 && trust.anchorFor(c) !== null) return;
    const found = (c.parsed.extKeyUsage?.oids ?? []).flatMap((oid) => forbiddenEku[oid] ?? []);
    // anyExtendedKeyUsage on the leaf already fails it (leafRules): reported once.
    const listed = i === 0 ? found.filter((n) => n !== 'anyExtendedKeyUsage') : found;
    if (listed.length === 0) return;
    const who = i === 0 ? `server certificate "${c.label}"` : `intermediate certificate "${c.label}"`;
    const rule = i === 0 ? '7.1.2.7.10' : '7.1.2.10.6';
    add('WRONG_PURPOSE', 'critical', `${who} allows ${listed.join(', ')} in its extendedKeyUsage, which CABF ${rule} forbids beside serverAuth: a mis-issuance under the publicly trusted root "${anchor.label}" that the CA must revoke within 5 days (BR 4.9.1.1); replace it now`);
  });
}

/**
 * Under a bundled (public) root, an Ed25519 or Ed448 key on the leaf or an intermediate: CABF
 * 6.1.5 and 7.1.3.1 allow RSA and ECDSA keys only, and Chrome, Firefox and Safari do not accept
 * EdDSA certificates, so browsers refuse the server. WEAK_KEY is the code for a key clients do
 * not accept (DSA, other curves). Under a private anchor Go, OpenSSL and rustls accept EdDSA:
 * not checked. A cross-certificate of a root is left alone, as in forbiddenPurposes.
 */
function edwardsKeys(certs: readonly Cert[], anchor: Cert, trust: TrustStore, add: Add): void {
  certs.forEach((c, i) => {
    if (i > 0 && trust.anchorFor(c) !== null) return;
    const { keyType } = c.key;
    if (keyType !== 'Ed25519' && keyType !== 'Ed448') return;
    const who = i === 0 ? `server certificate "${c.label}"` : `intermediate certificate "${c.label}"`;
    add('WEAK_KEY', 'critical', `${who} has an ${keyType} key, which publicly trusted CAs may not issue (CABF 6.1.5 and 7.1.3.1 allow RSA and ECDSA keys only) and browsers do not accept, under the publicly trusted root "${anchor.label}"; replace it with an ECDSA or RSA key`);
  });
}

/**
 * Weak keys and digests of `certs`, the leaf first: the chosen path below its anchor, or every
 * certificate sent when no path reaches one. A self-signed root's digest is not relied on.
 */
function weakness(certs: readonly Cert[], add: Add): void {
  certs.forEach((c, i) => {
    const who = i === 0 ? 'server certificate' : `chain certificate "${c.label}"`;
    const { keyType, keyBits } = c.key;
    const weak = keyWeakness(keyType, keyBits);
    if (weak !== null) add('WEAK_KEY', 'critical', `${who} has ${weak}`);
    const sig = c.signature;
    if (isWeakHash(sig.hash) && (i === 0 || !c.selfSigned)) {
      add('WEAK_SIGNATURE', 'critical', `${who} is signed with ${sig.hash} (${sig.name}), which is broken`);
    }
  });
}

const legacyVersions = new Set(['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1']);

/**
 * Critical, not a warning: the probe offers TLS 1.0 to 1.3, so a server that settles below
 * 1.2 supports nothing newer, and RFC 8996 forbids TLS 1.0 and 1.1 (current browsers and
 * OpenSSL 3 at its default security level refuse to connect).
 */
function legacyTls(version: string, add: Add): void {
  if (legacyVersions.has(version)) {
    add('LEGACY_TLS', 'critical', `server only speaks ${version}, which RFC 8996 deprecates (TLS 1.2 or newer is required)`);
  }
}

const severityRank: Record<Severity, number> = { warning: 0, critical: 1 };

/** One problem per code: the worst severity, messages joined (also for the revocation service's findings). */
export function mergeByCode(problems: Problem[]): Problem[] {
  if (problems.length === 0) return problems;
  const byCode = new Map<Problem['code'], Problem>();
  for (const p of problems) {
    const prev = byCode.get(p.code);
    if (prev === undefined) {
      byCode.set(p.code, { ...p });
    } else {
      if (!prev.message.split('; ').includes(p.message)) prev.message = `${prev.message}; ${p.message}`;
      if (severityRank[p.severity] > severityRank[prev.severity]) prev.severity = p.severity;
    }
  }
  return [...byCode.values()];
}
