import { isIP } from 'node:net';
import { isWeakHash, keyWeakness } from './algorithms.ts';
import { parseSans, type Cert } from './info.ts';
import { buildPath, type CertPath } from './path.ts';
import type { TrustStore } from './trust.ts';
import type { Judgement, JudgeInput, Problem, Severity } from './types.ts';

/** A certificate the server sent that cannot be parsed: the probe reports it as an error. */
export class CertificateParseError extends Error {
  override readonly name = 'CertificateParseError';
}

/**
 * Judges the chain a server sent: reports it and lists every problem, each code at most once.
 * `trusted` means a path from the leaf to an anchor verifies, every intermediate on it being
 * valid now; the leaf's own dates are reported separately (EXPIRED, NOT_YET_VALID).
 */
export function judge(input: JudgeInput, trust: TrustStore): Judgement {
  const sent = input.chain.map((der, i) => parse(trust, der, i));
  const leaf = sent[0];
  if (leaf === undefined) throw new CertificateParseError('the server sent no certificate');
  const { now } = input;
  const problems: Problem[] = [];
  const add = (code: Problem['code'], severity: Severity, message: string): void => {
    problems.push({ code, severity, message });
  };

  leafValidity(leaf, input, add);
  const hostnameMatch = matchesName(leaf, input.expectedName);
  if (!hostnameMatch) add('HOSTNAME_MISMATCH', 'critical', mismatchMessage(leaf, input.expectedName));

  const path = buildPath(sent, trust, now);
  const intermediatesOk = intermediateValidity(path, leaf, input, add);
  pathProblems(path, add);
  weakness(sent, add);
  legacyTls(input.tlsVersion, add);

  // The leaf's info is shared by `certificate` and `chain[0]`: a run of 10,000 results
  // keeps one copy per result, not two (bench: memory with results kept).
  const chain = sent.map((c) => c.info(now));
  return {
    certificate: chain[0]!,
    chain,
    trusted: path.end.kind === 'anchored' && intermediatesOk,
    hostnameMatch,
    problems: mergeByCode(problems),
  };
}

type Add = (code: Problem['code'], severity: Severity, message: string) => void;

function parse(trust: TrustStore, der: Buffer, i: number): Cert {
  try {
    return trust.certs.get(der);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CertificateParseError(`certificate ${i + 1} sent by the server cannot be parsed (${why})`, { cause: err });
  }
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function plural(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

function leafValidity(leaf: Cert, input: JudgeInput, add: Add): void {
  const { now } = input;
  if (now < leaf.notBefore) {
    add('NOT_YET_VALID', 'critical', `certificate is not valid before ${leaf.notBefore.toISOString()}`);
    return;
  }
  const days = leaf.daysLeft(now);
  if (now > leaf.notAfter) {
    // Whole days elapsed, so one second past expiry reads "today", not "1 day ago".
    const ago = Math.floor((now.getTime() - leaf.notAfter.getTime()) / 86_400_000);
    add('EXPIRED', 'critical', `certificate expired ${ago === 0 ? 'today' : `${plural(ago)} ago`} (${day(leaf.notAfter)})`);
  } else if (days < input.warnDays) {
    const when = days === 0 ? 'today' : `in ${plural(days)}`;
    add('EXPIRES_SOON', days < input.critDays ? 'critical' : 'warning', `certificate expires ${when} (${day(leaf.notAfter)})`);
  }
}

/**
 * DNS names per RFC 6125 section 6.4: a wildcard only as the whole left-most label, never
 * partial ("f*.example.com") nor across labels. The subject CN is not consulted: RFC 9525
 * (which obsoletes RFC 6125) drops the CN-ID fallback, as browsers did years before.
 */
function matchesName(leaf: Cert, name: string): boolean {
  if (name === '') return false;
  if (isIP(name) !== 0) return leaf.x509.checkIP(name) !== undefined;
  return leaf.x509.checkHost(name, { subject: 'never', wildcards: true, partialWildcards: false, multiLabelWildcards: false }) !== undefined;
}

function mismatchMessage(leaf: Cert, name: string): string {
  const sans = parseSans(leaf.x509.subjectAltName);
  const shown = sans.slice(0, 5).join(', ') + (sans.length > 5 ? `, and ${sans.length - 5} more` : '');
  return sans.length === 0
    ? `certificate is not valid for ${name} (it lists no subject alternative names)`
    : `certificate is not valid for ${name} (it names ${shown})`;
}

/** Intermediates on the path: expired or expiring before the leaf. Returns whether all are valid now. */
function intermediateValidity(path: CertPath, leaf: Cert, input: JudgeInput, add: Add): boolean {
  const { now } = input;
  let ok = true;
  for (const c of path.certs.slice(1)) {
    if (now < c.notBefore) {
      ok = false;
      add('NOT_YET_VALID', 'critical', `intermediate certificate "${c.label}" is not valid before ${c.notBefore.toISOString()}`);
    } else if (now > c.notAfter) {
      ok = false;
      add('CHAIN_EXPIRES_SOON', 'critical', `intermediate certificate "${c.label}" expired on ${day(c.notAfter)}`);
    } else {
      const days = c.daysLeft(now);
      if (c.notAfter < leaf.notAfter && days < input.warnDays) {
        const severity = days < input.critDays ? 'critical' : 'warning';
        add('CHAIN_EXPIRES_SOON', severity, `intermediate certificate "${c.label}" expires in ${plural(days)} (${day(c.notAfter)}), before the server certificate`);
      }
    }
  }
  return ok;
}

function pathProblems(path: CertPath, add: Add): void {
  const end = path.end;
  switch (end.kind) {
    case 'anchored':
      return;
    case 'self-signed-leaf':
      add('SELF_SIGNED', 'critical', 'certificate is self-signed and not among the trusted CAs');
      return;
    case 'unknown-root':
      add('UNTRUSTED', 'critical', `chain ends at "${end.root.label}", a root that is not among the trusted CAs`);
      return;
    case 'incomplete':
      add('CHAIN_INCOMPLETE', 'critical', `server did not send the issuer of "${end.at.label}" ("${issuerLabel(end.at)}"), and it is not a trusted CA`);
      return;
    case 'bad-signature':
      add('UNTRUSTED', 'critical', `signature on "${end.child.label}" does not verify with the key of its issuer "${end.issuer.label}"`);
      return;
    case 'too-long':
      add('UNTRUSTED', 'critical', 'no trusted CA within 10 certificates of the server certificate');
  }
}

function issuerLabel(c: Cert): string {
  const cn = /^CN=(.*)$/m.exec(c.issuerKey);
  return cn?.[1] ?? c.issuerKey.split('\n').join(', ');
}

/** Weak keys anywhere in the sent chain; weak digests except on self-signed roots (their signature is not relied on). */
function weakness(sent: readonly Cert[], add: Add): void {
  sent.forEach((c, i) => {
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

/** One problem per code: the worst severity, messages joined. */
function mergeByCode(problems: Problem[]): Problem[] {
  const byCode = new Map<Problem['code'], Problem>();
  for (const p of problems) {
    const prev = byCode.get(p.code);
    if (prev === undefined) {
      byCode.set(p.code, { ...p });
    } else {
      prev.message = `${prev.message}; ${p.message}`;
      if (severityRank[p.severity] > severityRank[prev.severity]) prev.severity = p.severity;
    }
  }
  return [...byCode.values()];
}
