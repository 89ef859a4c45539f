import type { Cert } from './info.ts';
import type { TrustStore } from './trust.ts';
import type { ProblemCode } from './types.ts';

/** Most certificates between the leaf and the anchor (both excluded) on a path tried. */
export const MAX_INTERMEDIATES = 8;
/** Most issuer candidates tried in one search (Go's crypto/x509 caps signature checks at 100). */
export const MAX_CANDIDATES = 100;

/** A rule a candidate path breaks: its code and a sentence naming the certificate and the rule. */
export interface Finding {
  code: ProblemCode;
  message: string;
}

/** Checks a complete path: `certs` from the leaf up (anchor excluded) and the anchor reached. */
export type PathCheck = (certs: readonly Cert[], anchor: Cert) => Finding[];

/** What the search found. */
export interface PathSearch {
  /** The first path that passes every rule. */
  valid: { certs: Cert[]; anchor: Cert } | null;
  /** The first path reaching an anchor, with what it breaks, when none passes. */
  rejected: { certs: Cert[]; anchor: Cert; findings: Finding[] } | null;
  /** The candidate budget ran out before the search ended. */
  exhausted: boolean;
}

/**
 * Depth-first search for a path from the leaf to a trust anchor (RFC 4158 in spirit, like Go's
 * `buildChains` and webpki's `build_chain`): candidate issuers are found by name, anchors first
 * (OpenSSL's X509_V_FLAG_TRUSTED_FIRST), then sent certificates whose subjectKeyIdentifier
 * matches the child's authorityKeyIdentifier and that are valid now; a candidate whose path
 * breaks a rule is abandoned and the next one tried. Loops end because a certificate appears at
 * most once on a path; the candidate budget bounds the work on hostile chains.
 */
export function searchPaths(sent: readonly Cert[], trust: TrustStore, now: Date, check: PathCheck): PathSearch {
  const leaf = sent[0]!;
  const result: PathSearch = { valid: null, rejected: null, exhausted: false };
  let tried = 0;

  const complete = (certs: Cert[], anchor: Cert): boolean => {
    const findings = check(certs, anchor);
    if (findings.length === 0) {
      result.valid = { certs, anchor };
      return true;
    }
    result.rejected ??= { certs, anchor, findings };
    return false;
  };

  const visit = (certs: Cert[]): boolean => {
    const cur = certs[certs.length - 1]!;
    const anchors = trust.withSubject(cur.issuerId);
    const fromSent = sent.filter((c) => c.subjectId === cur.issuerId && !certs.includes(c));
    for (const cand of [...anchors, ...rank(cur, fromSent, now)]) {
      if (++tried > MAX_CANDIDATES) {
        result.exhausted = true;
        return false;
      }
      if (!cur.issuedBy(cand).verified) continue;
      const isAnchor = anchors.includes(cand);
      const anchor = isAnchor ? cand : trust.anchorFor(cand);
      if (anchor !== null) {
        if (complete(certs, anchor)) return true;
        continue;
      }
      if (certs.length > MAX_INTERMEDIATES) continue;
      if (visit([...certs, cand])) return true;
      if (result.exhausted) return false;
    }
    return false;
  };

  // A leaf the user trusts as such (a self-signed certificate given with --ca) is its own path.
  const leafAnchor = trust.anchorFor(leaf);
  if (leafAnchor !== null) {
    complete([], leafAnchor);
    return result;
  }
  visit([leaf]);
  return result;
}

/** Likelier issuers first: key identifier match, then valid now; order as sent otherwise. */
function rank(child: Cert, cands: Cert[], now: Date): Cert[] {
  const aki = child.parsed.authorityKeyId?.keyId;
  const score = (c: Cert): number => {
    const ski = c.parsed.subjectKeyId;
    const keyMatch = aki != null && ski !== null && Buffer.compare(aki, ski) === 0;
    return (keyMatch ? 0 : 2) + (c.validAt(now) ? 0 : 1);
  };
  return cands.map((c, i) => ({ c, i, s: score(c) })).sort((a, b) => a.s - b.s || a.i - b.i).map((x) => x.c);
}
