import { X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { describeKey, signatureAlgorithm } from './algorithms.ts';
import { signatureAlgorithmId } from './der.ts';
import { parseCertificate, type Parsed } from './extensions.ts';
import { ipText } from './general-names.ts';
import type { CertificateInfo } from './types.ts';

const DAY_MS = 86_400_000;

/** A parsed certificate with what path building and reporting need, computed once. */
export class Cert {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  /** Node's multi-line DN text: equal DNs print equal, so it serves as an index key. */
  readonly subjectKey: string;
  readonly issuerKey: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  // Memos: a Cert is cached and judged again on every probe of the same server.
  private selfSignedMemo: boolean | undefined;
  private sigMemo: ReturnType<typeof signatureAlgorithm> | undefined;
  private keyMemo: { keyType: string; keyBits: number } | undefined;
  private infoMemo: Omit<CertificateInfo, 'daysLeft'> | undefined;
  private lastInfo: Readonly<CertificateInfo> | undefined;
  private readonly issuerMemo = new WeakMap<Cert, { named: boolean; verified: boolean }>();
  private labelMemo: string | undefined;
  private readonly derived = new Map<string, unknown>();

  private parsedMemo: Parsed | undefined;
  private publicKeyMemo: KeyObject | null | undefined;
  /** Raw DER of the subject and issuer Names (latin1): the keys path building matches on. */
  readonly subjectId: string;
  readonly issuerId: string;

  constructor(der: Buffer) {
    this.der = der;
    this.x509 = new X509Certificate(der);
    // Node leaves the text undefined for an empty Name (legal for a subject with a critical SAN).
    this.subjectKey = this.x509.subject ?? '';
    this.issuerKey = this.x509.issuer ?? '';
    this.notBefore = new Date(this.x509.validFrom);
    this.notAfter = new Date(this.x509.validTo);
    if (Number.isNaN(this.notBefore.getTime()) || Number.isNaN(this.notAfter.getTime())) {
      throw new Error(`unreadable validity dates (${this.x509.validFrom} to ${this.x509.validTo})`);
    }
    const p = this.parsed;
    this.subjectId = Buffer.from(p.subjectDer).toString('latin1');
    this.issuerId = Buffer.from(p.issuerDer).toString('latin1');
  }

  /** Extensions and TBS fields read once by the bounded DER reader (never throws). */
  get parsed(): Parsed {
    this.parsedMemo ??= parseCertificate(this.der);
    return this.parsedMemo;
  }

  /** The subject public key, or null when node:crypto cannot load it (explicit curves, odd algorithms). */
  get publicKey(): KeyObject | null {
    if (this.publicKeyMemo === undefined) {
      try {
        this.publicKeyMemo = this.x509.publicKey;
      } catch {
        this.publicKeyMemo = null;
      }
    }
    return this.publicKeyMemo;
  }

  /** Subject and issuer names are equal (RFC 5280 section 6.1 "self-issued"). */
  get selfIssued(): boolean {
    return this.subjectId === this.issuerId;
  }

  /** Self-issued and signed by its own key. */
  get selfSigned(): boolean {
    // Not checkIssued: OpenSSL's issuer check requires keyCertSign, which a self-signed leaf lacks.
    this.selfSignedMemo ??= this.selfIssued && this.verifiedBy(this);
    return this.selfSignedMemo;
  }

  /** Whether this certificate's signature verifies with `issuer`'s key; false when it cannot be checked. */
  private verifiedBy(issuer: Cert): boolean {
    const key = issuer.publicKey;
    if (key === null) return false;
    try {
      return this.x509.verify(key);
    } catch {
      return false;
    }
  }

  /** Valid at `now`, both ends inclusive, at the one-second resolution certificates carry (RFC 5280 section 4.1.2.5). */
  validAt(now: Date): boolean {
    const t = Math.floor(now.getTime() / 1000) * 1000;
    return this.notBefore.getTime() <= t && t <= this.notAfter.getTime();
  }

  get signature(): ReturnType<typeof signatureAlgorithm> {
    if (this.sigMemo === undefined) {
      const id = signatureAlgorithmId(this.der);
      this.sigMemo = signatureAlgorithm(id?.oid ?? null, id?.pss ?? null);
    }
    return this.sigMemo;
  }

  get key(): { keyType: string; keyBits: number } {
    const key = this.publicKey;
    this.keyMemo ??= key === null ? { keyType: this.parsed.spkiAlgorithm || 'unknown', keyBits: 0 } : describeKey(key);
    return this.keyMemo;
  }

  /** Whether `issuer`'s subject is this certificate's issuer name and its key verifies this signature. */
  issuedBy(issuer: Cert): { named: boolean; verified: boolean } {
    if (issuer.subjectId !== this.issuerId) return { named: false, verified: false };
    let r = this.issuerMemo.get(issuer);
    if (r === undefined) {
      // Parameters clients refuse (non-standard RSASSA-PSS) fail like a signature that does not
      // verify, as webpki's UnsupportedSignatureAlgorithm does: no verify() is spent on them.
      r = { named: true, verified: this.signature.unsupported === null && this.verifiedBy(issuer) };
      this.issuerMemo.set(issuer, r);
    }
    return r;
  }

  /** Whether the signature on this certificate has been checked against `issuer` already. */
  checkedAgainst(issuer: Cert): boolean {
    return this.issuerMemo.has(issuer);
  }

  /**
   * What `compute` returns for this certificate, computed on the first call for `key`. Only
   * for facts of the certificate alone (its own rule findings, its key's verdict): a Cert is
   * cached and judged again on every probe of the same server. Callers must not mutate it.
   */
  derive<T>(key: string, compute: () => T): T {
    if (this.derived.has(key)) return this.derived.get(key) as T;
    const value = compute();
    this.derived.set(key, value);
    return value;
  }

  /** Short name for messages: the CN if any, else the whole subject, else the first SAN. */
  get label(): string {
    this.labelMemo ??= this.computeLabel();
    return this.labelMemo;
  }

  private computeLabel(): string {
    const cn = /^CN=(.*)$/m.exec(this.subjectKey);
    if (cn?.[1] !== undefined) return cn[1];
    if (this.subjectKey !== '') return oneLine(this.subjectKey);
    const first = this.sanList[0];
    return first !== undefined ? `(empty subject, ${first})` : `(empty subject, SHA-256 ${this.x509.fingerprint256.slice(0, 11)})`;
  }

  /** DNS names and IP addresses of the subjectAltName, read by the DER reader (Node's text cannot hold every SAN). */
  get sanList(): string[] {
    const names = this.parsed.san?.names ?? [];
    const out: string[] = [];
    for (const n of names) {
      if (n.type === 'dns') out.push(n.value);
      else if (n.type === 'ip' && (n.value.length === 4 || n.value.length === 16)) out.push(ipText(n.value));
    }
    return out;
  }

  /** Whole days left at `now`; 0, not -1, in the fraction of its last second that validAt still counts as valid. */
  daysLeft(now: Date): number {
    const days = Math.floor((this.notAfter.getTime() - now.getTime()) / DAY_MS);
    return days < 0 && this.validAt(now) ? 0 : days;
  }

  info(now: Date): CertificateInfo {
    this.infoMemo ??= {
      subject: oneLine(this.subjectKey),
      issuer: oneLine(this.issuerKey),
      sans: this.sanList,
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
      serialNumber: this.x509.serialNumber.toUpperCase(),
      fingerprint256: this.x509.fingerprint256,
      ...this.key,
      signatureAlgorithm: this.signature.name,
      selfSigned: this.selfSigned,
    };
    const daysLeft = this.daysLeft(now);
    // Every probe of the same server within a day gets the same frozen object: a run over
    // thousands of targets keeps one copy per certificate, not one per result.
    if (this.lastInfo?.daysLeft !== daysLeft) {
      this.lastInfo = Object.freeze({ ...this.infoMemo, sans: Object.freeze([...this.infoMemo.sans]), daysLeft });
    }
    return this.lastInfo;
  }
}

/** Node prints one RDN per line with "," inside values escaped as "\,": join them on one line. */
export function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}

/**
 * DNS names and IP addresses from Node's subjectAltName text, e.g.
 * `DNS:a.example, IP Address:192.0.2.1`. Node JSON-quotes values containing "," or '"'.
 */
export function parseSans(text: string | undefined): string[] {
  if (text === undefined) return [];
  const out: string[] = [];
  const entry = /(DNS|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of text.matchAll(entry)) {
    const raw = m[2] ?? '';
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    out.push(m[1] === 'IP Address' ? compactIp(value) : value);
  }
  return out;
}

/** Node prints IPv6 SANs in full (0:0:0:0:0:0:0:1); show them compressed (RFC 5952). */
function compactIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}
