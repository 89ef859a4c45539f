import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { describeKey, signatureAlgorithm } from './algorithms.ts';
import { signatureAlgorithmOid } from './der.ts';
import type { CertificateInfo } from './types.ts';

const DAY_MS = 86_400_000;

/** A parsed certificate with what path building and reporting need, computed once. */
export class Cert {
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

  readonly der: Buffer;

  constructor(der: Buffer) {
    this.der = der;
    this.x509 = new X509Certificate(der);
    this.subjectKey = this.x509.subject;
    this.issuerKey = this.x509.issuer;
    this.notBefore = new Date(this.x509.validFrom);
    this.notAfter = new Date(this.x509.validTo);
  }

  /** Subject and issuer names are equal (RFC 5280 section 6.1 "self-issued"). */
  get selfIssued(): boolean {
    return this.subjectKey === this.issuerKey;
  }

  /** Self-issued and signed by its own key. */
  get selfSigned(): boolean {
    // Not checkIssued: OpenSSL's issuer check requires keyCertSign, which a self-signed leaf lacks.
    this.selfSignedMemo ??= this.selfIssued && this.x509.verify(this.x509.publicKey);
    return this.selfSignedMemo;
  }

  get signature(): ReturnType<typeof signatureAlgorithm> {
    this.sigMemo ??= signatureAlgorithm(signatureAlgorithmOid(this.der));
    return this.sigMemo;
  }

  get key(): { keyType: string; keyBits: number } {
    this.keyMemo ??= describeKey(this.x509.publicKey);
    return this.keyMemo;
  }

  /** Whether `issuer` names this certificate's issuer (name, key identifiers, key usage) and signed it. */
  issuedBy(issuer: Cert): { named: boolean; verified: boolean } {
    if (issuer.subjectKey !== this.issuerKey) return { named: false, verified: false };
    let r = this.issuerMemo.get(issuer);
    if (r === undefined) {
      const named = this.x509.checkIssued(issuer.x509);
      r = { named, verified: named && this.x509.verify(issuer.x509.publicKey) };
      this.issuerMemo.set(issuer, r);
    }
    return r;
  }

  /** Short name for messages: the CN if any, else the whole subject. */
  get label(): string {
    const cn = /^CN=(.*)$/m.exec(this.subjectKey);
    return cn?.[1] ?? oneLine(this.subjectKey);
  }

  daysLeft(now: Date): number {
    return Math.floor((this.notAfter.getTime() - now.getTime()) / DAY_MS);
  }

  info(now: Date): CertificateInfo {
    this.infoMemo ??= {
      subject: oneLine(this.subjectKey),
      issuer: oneLine(this.issuerKey),
      sans: parseSans(this.x509.subjectAltName),
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
