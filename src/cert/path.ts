import type { Cert } from './info.ts';
import type { TrustStore } from './trust.ts';

/** Most certificates in a path; real paths are 2 to 4 long (RFC 5280 leaves it open). */
const MAX_DEPTH = 10;

/** How the path from the leaf ended. */
export type PathEnd =
  /** Reached a trust anchor with every signature verified. */
  | { kind: 'anchored'; anchor: Cert }
  /** The leaf is self-signed and not an anchor. */
  | { kind: 'self-signed-leaf' }
  /** Ended at a self-signed certificate that is not an anchor. */
  | { kind: 'unknown-root'; root: Cert }
  /** `at`'s issuer is neither sent nor an anchor. */
  | { kind: 'incomplete'; at: Cert }
  /** `child` names `issuer` but its signature does not verify with the issuer's key. */
  | { kind: 'bad-signature'; child: Cert; issuer: Cert }
  | { kind: 'too-long' };

/** The certificates from the leaf up (anchor excluded) and how the walk ended. */
export interface CertPath {
  certs: Cert[];
  end: PathEnd;
}

/**
 * Walks greedily from the leaf to an anchor. The judge decides trust with `searchPaths`
 * (path-builder.ts); this walk only names how an untrusted chain ends (missing issuer,
 * unknown root, bad signature) when no path reaches an anchor. Anchors are tried before sent certificates, as OpenSSL
 * does since 1.1.0 (X509_V_FLAG_TRUSTED_FIRST): a server still sending a cross-signature
 * by an expired root (Let's Encrypt's DST Root CA X3, 2021) then ends at the live anchor.
 * Among candidates, one valid at `now` is preferred; loops stop the walk.
 */
export function buildPath(sent: readonly Cert[], trust: TrustStore, now: Date): CertPath {
  const leaf = sent[0]!;
  const certs: Cert[] = [];
  const seen = new Set<Cert>();
  let cur = leaf;
  let mismatch: PathEnd | null = null;
  while (certs.length < MAX_DEPTH) {
    certs.push(cur);
    seen.add(cur);
    if (trust.isAnchor(cur)) return { certs: certs.slice(0, -1), end: { kind: 'anchored', anchor: cur } };
    const fromAnchors = pick(cur, trust.withSubject(cur.issuerId), now);
    if (fromAnchors.found !== null) return { certs, end: { kind: 'anchored', anchor: fromAnchors.found } };
    if (cur.selfSigned) return { certs, end: cur === leaf ? { kind: 'self-signed-leaf' } : { kind: 'unknown-root', root: cur } };
    const fromSent = pick(cur, sent.filter((c) => !seen.has(c)), now);
    mismatch ??= fromAnchors.mismatch ?? fromSent.mismatch;
    if (fromSent.found === null) return { certs, end: mismatch ?? { kind: 'incomplete', at: cur } };
    cur = fromSent.found;
  }
  return { certs, end: { kind: 'too-long' } };
}

function pick(child: Cert, candidates: readonly Cert[], now: Date): { found: Cert | null; mismatch: PathEnd | null } {
  let fallback: Cert | null = null;
  let mismatch: PathEnd | null = null;
  for (const c of candidates) {
    const r = child.issuedBy(c);
    if (!r.named) continue;
    if (!r.verified) {
      mismatch ??= { kind: 'bad-signature', child, issuer: c };
      continue;
    }
    if (c.notBefore <= now && now <= c.notAfter) return { found: c, mismatch };
    fallback ??= c;
  }
  return { found: fallback, mismatch };
}
