// Finding codes of the mail domain checks (README "Codes", docs/mail.md). The shared
// problemCodes list (src/cert/types.ts) includes them, so stored results and alerts accept them.
import type { Severity } from '../cert/types.ts';

/** Stable codes for findings about a mail domain, its MX hosts and its policies. */
export const mailProblemCodes = [
  /** A DNS lookup the check depends on failed; the message names the cause (SERVFAIL, NXDOMAIN, TIMEOUT...). */
  'DNS_FAILED',
  /** The domain publishes a null MX (RFC 7505): it accepts no mail. A note, not a fault. */
  'NULL_MX',
  /** A null MX published beside other MX records (RFC 7505 section 3 forbids it); senders use the others. */
  'NULL_MX_MIXED',
  /** No MX record: mail goes to the domain's own A/AAAA (RFC 5321 section 5.1). */
  'NO_MX',
  /** No TLSA record of the chain the server sent matches (RFC 7672 section 3): critical. */
  'DANE_MISMATCH',
  /** TLSA records exist but none is usable (unknown usage/selector/type, bad length, PKIX usages 0/1). */
  'DANE_UNUSABLE',
  /** The TLSA answer was not DNSSEC-authenticated (AD bit off): the records are ignored. */
  'DANE_UNSIGNED',
  /** Only some TLSA records match: a certificate or key change would break delivery. */
  'DANE_ROLLOVER_HAZARD',
  /** `_mta-sts` TXT record present but not a valid `v=STSv1; id=...` record, or several. */
  'MTA_STS_INVALID',
  /** The policy could not be fetched or parsed (HTTPS failure, bad certificate, size, syntax). */
  'MTA_STS_UNAVAILABLE',
  /** An MX host matches no `mx:` pattern of the policy (RFC 8461 section 4.1). */
  'MTA_STS_MISMATCH',
  /** In enforce or testing mode, the MX certificate is not valid for the MX name (RFC 8461 section 4.2). */
  'MTA_STS_CERT_INVALID',
  /** `_smtp._tls` TXT record present but not a valid TLSRPTv1 record (RFC 8460 section 3). */
  'TLSRPT_INVALID',
] as const;

export type MailProblemCode = (typeof mailProblemCodes)[number];

/** One finding; `note` is informational and does not change a status. */
export interface MailFinding {
  code: MailProblemCode;
  severity: Severity | 'note';
  message: string;
}
