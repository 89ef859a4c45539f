import { mailProblemCodes } from '../mail/codes.ts';

/** Severity of a finding; `critical` outranks `warning`. */
export type Severity = 'warning' | 'critical';

/** Stable finding codes (see README "Codes"). */
export const problemCodes = [
  'EXPIRED',
  'NOT_YET_VALID',
  'EXPIRES_SOON',
  'CHAIN_EXPIRES_SOON',
  'CHAIN_INCOMPLETE',
  'UNTRUSTED',
  'SELF_SIGNED',
  'HOSTNAME_MISMATCH',
  'WEAK_KEY',
  'WEAK_SIGNATURE',
  'LEGACY_TLS',
  'STARTTLS_NOT_OFFERED',
  'STARTTLS_REJECTED',
  'CHAIN_EXPIRED',
  'INVALID_CA',
  'NAME_CONSTRAINTS',
  'WRONG_PURPOSE',
  'UNKNOWN_CRITICAL_EXTENSION',
  'MALFORMED_CERTIFICATE',
  'TLS_FAILED_AFTER_CERTIFICATE',
  'TLS_ALERT_AFTER_HANDSHAKE',
  'REVOKED',
  'REVOCATION_UNKNOWN',
  'CN_NOT_IN_SAN',
  'STAPLE_INVALID',
  // Mail domain findings (src/mail/codes.ts, docs/mail.md), stored and alerted like the rest.
  ...mailProblemCodes,
] as const;

export type ProblemCode = (typeof problemCodes)[number];

/** One finding about an endpoint. */
export interface Problem {
  code: ProblemCode;
  severity: Severity;
  message: string;
}

/** What certwatch reports about one certificate. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  sans: readonly string[];
  /** ISO 8601 */
  notBefore: string;
  /** ISO 8601 */
  notAfter: string;
  /** Whole days until notAfter (negative once expired), rounded down. */
  daysLeft: number;
  serialNumber: string;
  /** Upper-case hex pairs joined by ":" (as Node and openssl print it). */
  fingerprint256: string;
  keyType: string;
  keyBits: number;
  signatureAlgorithm: string;
  selfSigned: boolean;
}

/** What the judge needs: the chain exactly as sent and how it was negotiated. */
export interface JudgeInput {
  /** DER certificates as the server sent them, leaf first. */
  chain: Buffer[];
  /** Negotiated protocol as Node names it, e.g. "TLSv1.3". */
  tlsVersion: string;
  /** Name to match the leaf against: the SNI name, or the IP address probed when none. */
  expectedName: string;
  now: Date;
  warnDays: number;
  critDays: number;
  /** Most intermediates a path may have (self-issued ones not counted); default 8. */
  maxChainDepth?: number;
  /**
   * DER CRLs to check the path's certificates against (RFC 5280 section 6.3), e.g. fetched
   * from their cRLDistributionPoints; a certificate with no CRL from its issuer is not checked.
   */
  crls?: readonly Buffer[];
  /**
   * Severity of REVOCATION_UNKNOWN (a CRL given for a certificate cannot be used): 'soft-fail'
   * (default, warning, as browsers treat unreachable revocation data) or 'hard-fail' (critical,
   * as `openssl verify -crl_check` does).
   */
  revocationPolicy?: 'soft-fail' | 'hard-fail';
}

/** Codes of the judge's notes: findings that change no status (README "Codes"). */
export const judgeNoteCodes = ['CN_NOT_IN_SAN'] as const;

/** A finding worth saying that is no alarm: it never changes the status, exit status or alerts. */
export interface JudgeNote {
  code: (typeof judgeNoteCodes)[number];
  message: string;
}

/** The verdict on one endpoint's certificate. */
export interface Judgement {
  certificate: CertificateInfo;
  chain: CertificateInfo[];
  trusted: boolean;
  hostnameMatch: boolean;
  problems: Problem[];
  /** Findings that are no alarm (a private CA's commonName habits); absent when none. */
  notes?: JudgeNote[];
}
