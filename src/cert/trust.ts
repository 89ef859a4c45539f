import { rootCertificates } from 'node:tls';
import { CertCache } from './cache.ts';
import { Cert } from './info.ts';

/** A CA file or text that cannot be used as trust anchors; the message says what is wrong. */
export class TrustStoreError extends Error {
  override readonly name = 'TrustStoreError';
  readonly code = 'BAD_CA';
}

/** Anchors indexed by subject, so that finding an issuer is one map lookup. */
class AnchorIndex {
  readonly bySubject = new Map<string, Cert[]>();
  readonly fingerprints = new Set<string>();
  size = 0;

  add(cert: Cert): void {
    const fp = cert.x509.fingerprint256;
    if (this.fingerprints.has(fp)) return;
    this.fingerprints.add(fp);
    const list = this.bySubject.get(cert.subjectId);
    if (list === undefined) this.bySubject.set(cert.subjectId, [cert]);
    else list.push(cert);
    this.size++;
  }
}

/** Parses the bundled roots on first use, once per bundle (shared by every store built from it). */
class LazyBundle {
  private index: AnchorIndex | undefined;
  private readonly pems: readonly string[];

  constructor(pems: readonly string[]) {
    this.pems = pems;
  }

  get(): AnchorIndex {
    if (this.index === undefined) {
      const index = new AnchorIndex();
      for (const pem of this.pems) index.add(new Cert(pemToDer(pem)[0]!));
      this.index = index;
    }
    return this.index;
  }
}

/**
 * Trust anchors: Node's bundled Mozilla roots (`tls.rootCertificates`, never the OS store)
 * and extra CAs. Immutable; `withExtra` returns a new store sharing the parsed roots.
 */
export class TrustStore {
  private readonly bundle: LazyBundle | null;
  private readonly extra: AnchorIndex;
  /** Parsed server certificates, shared by every store derived from this one. */
  readonly certs: CertCache;

  private constructor(bundle: LazyBundle | null, extra: AnchorIndex, certs: CertCache) {
    this.bundle = bundle;
    this.extra = extra;
    this.certs = certs;
  }

  /** Node's bundled Mozilla root certificates. */
  static bundled(): TrustStore {
    return TrustStore.fromBundle(rootCertificates);
  }

  /**
   * A store whose bundle is `pems` (one PEM certificate each) instead of Node's roots, built the
   * way `bundled()` is: its anchors count as publicly trusted (`isPublic`). For tests of the
   * rules that apply only under the CA/Browser Forum Baseline Requirements.
   */
  static fromBundle(pems: readonly string[]): TrustStore {
    return new TrustStore(new LazyBundle(pems), new AnchorIndex(), new CertCache());
  }

  /** No anchors at all (conformance cases that trust nothing). */
  static empty(): TrustStore {
    return new TrustStore(null, new AnchorIndex(), new CertCache());
  }

  /** Only the CAs in `pemText` (for tests and for --ca without the public roots). */
  static fromPem(pemText: string | string[], source = 'CA text'): TrustStore {
    return new TrustStore(null, indexOf(pemText, source), new CertCache());
  }

  /** This store plus the CA certificates in `pemText` (several per file allowed). */
  withExtra(pemText: string | string[], source = 'CA text'): TrustStore {
    const extra = indexOf(pemText, source);
    for (const list of this.extra.bySubject.values()) for (const c of list) extra.add(c);
    return new TrustStore(this.bundle, extra, this.certs);
  }

  /** Number of distinct anchors. */
  get size(): number {
    return (this.bundle?.get().size ?? 0) + this.extra.size;
  }

  /** Anchors whose subject Name is `subjectId` (the raw DER, as `Cert.subjectId`). */
  withSubject(subjectId: string): Cert[] {
    const a = this.bundle?.get().bySubject.get(subjectId) ?? [];
    const b = this.extra.bySubject.get(subjectId) ?? [];
    return a.length === 0 ? b : b.length === 0 ? a : [...a, ...b];
  }

  /** Whether `cert` is itself an anchor: the same certificate, or the same name and key. */
  isAnchor(cert: Cert): boolean {
    const fp = cert.x509.fingerprint256;
    if (this.extra.fingerprints.has(fp) || this.bundle?.get().fingerprints.has(fp) === true) return true;
    // A re-issued or cross-signed copy of a root carries the anchor's name and key (RFC 5280
    // section 6.1.1 (d): an anchor is a name and a key, not a particular certificate).
    return this.anchorFor(cert) !== null;
  }

  /**
   * Whether `anchor` is one of the bundled (Mozilla, publicly trusted) roots, so the CA/Browser
   * Forum Baseline Requirements bind the CAs below it; extra CAs (--ca, EXTRA_CA_FILE, a
   * target's CA) are private. An extra anchor with a bundled root's name and key is that root.
   */
  isPublic(anchor: Cert): boolean {
    const bundle = this.bundle?.get();
    if (bundle === undefined) return false;
    if (bundle.fingerprints.has(anchor.x509.fingerprint256)) return true;
    const key = anchor.publicKey;
    return key !== null && (bundle.bySubject.get(anchor.subjectId) ?? []).some((a) => a.publicKey?.equals(key) === true);
  }

  /** The anchor `cert` stands for: the same certificate, or an anchor with its name and key; else null. */
  anchorFor(cert: Cert): Cert | null {
    const same = this.withSubject(cert.subjectId);
    const fp = cert.x509.fingerprint256;
    const exact = same.find((a) => a.x509.fingerprint256 === fp);
    if (exact !== undefined) return exact;
    const key = cert.publicKey;
    if (key === null) return null;
    return same.find((a) => a.publicKey?.equals(key) === true) ?? null;
  }
}

function indexOf(pemText: string | string[], source: string): AnchorIndex {
  const texts = typeof pemText === 'string' ? [pemText] : pemText;
  const index = new AnchorIndex();
  texts.forEach((text, i) => {
    const name = texts.length > 1 ? `${source} #${i + 1}` : source;
    pemToDer(text, name).forEach((der, j) => {
      try {
        index.add(new Cert(der));
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new TrustStoreError(`${name}: certificate ${j + 1} is not a valid X.509 certificate (${why})`, { cause: err });
      }
    });
  });
  return index;
}

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** DER bodies of the CERTIFICATE blocks (or `label` blocks, e.g. X509 CRL) in PEM text (RFC 7468); anything else is an error. */
export function pemToDer(text: string, source = 'PEM text', label = 'CERTIFICATE'): Buffer[] {
  const out: Buffer[] = [];
  const others: string[] = [];
  for (const m of text.matchAll(pemBlock)) {
    if (m[1] !== label) {
      others.push(m[1]!);
      continue;
    }
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
      throw new TrustStoreError(`${source}: ${label === 'CERTIFICATE' ? 'certificate' : label} ${out.length + 1} has characters that are not base64 between its BEGIN and END lines`);
    }
    out.push(Buffer.from(body, 'base64'));
  }
  if (out.length === 0) {
    const found = others.length > 0 ? ` (found ${others.join(', ')} instead)` : text.includes('-----BEGIN') ? ' (a BEGIN line without its END line?)' : '';
    throw new TrustStoreError(`${source}: no "-----BEGIN ${label}-----" block found${found}`);
  }
  return out;
}
