/** Stable codes for failures where no certificate was obtained (see README "Codes"). */
export const errorCodes = [
  'DNS_FAILED',
  'CONNECT_REFUSED',
  'CONNECT_TIMEOUT',
  'TIMEOUT',
  'PROTOCOL_ERROR',
  'TLS_HANDSHAKE_FAILED',
  'BLOCKED_TARGET',
  'STARTTLS_NOT_OFFERED',
  'STARTTLS_REJECTED',
] as const;

export type ProbeErrorCode = (typeof errorCodes)[number];

/** Where the failure happened, so a message can name host, port and step. */
export interface ProbeErrorContext {
  host?: string;
  port?: number;
  address?: string;
  step?: string;
}

/**
 * A probe failure with a stable `code`, a human message naming host, port and step,
 * and the original error as `cause`.
 */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  readonly code: ProbeErrorCode;
  readonly step: string | undefined;
  readonly hint: string | undefined;

  constructor(
    code: ProbeErrorCode,
    detail: string,
    options: { step?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.step = options.step;
    this.hint = options.hint;
  }

  /** The message as shown to a user: detail, then the step, then the hint. */
  describe(where: ProbeErrorContext = {}): string {
    const at = where.host === undefined ? '' : `${formatHostPort(where.host, where.port)}: `;
    const step = this.step === undefined ? '' : ` (during ${this.step})`;
    const hint = this.hint === undefined ? '' : `; ${this.hint}`;
    return `${at}${this.message}${step}${hint}`;
  }
}

/** Thrown by dialects when the server did not advertise the upgrade. */
export function notOffered(protocol: string, detail: string, step: string): ProbeError {
  return new ProbeError('STARTTLS_NOT_OFFERED', `${protocol} server does not offer TLS: ${detail}`, {
    step,
  });
}

/** Thrown by dialects when the server refused the upgrade command. */
export function rejected(protocol: string, reply: string, step: string): ProbeError {
  return new ProbeError(
    'STARTTLS_REJECTED',
    `${protocol} server refused the TLS upgrade: ${printable(reply)}`,
    { step },
  );
}

/** Thrown by dialects when the reply is not the protocol at all. */
export function protocolError(detail: string, step: string, hint?: string): ProbeError {
  return new ProbeError('PROTOCOL_ERROR', detail, hint === undefined ? { step } : { step, hint });
}

/** Hint for a port that answered the TLS ClientHello with plaintext (an SMTP banner, HTTP...). */
export const PLAINTEXT_FIRST_HINT = 'this port speaks plaintext first: try --mode starttls or the right --protocol';

/**
 * Hint for BLOCKED_TARGET. Users in chat cannot change the policy: it names the environment
 * variable exactly as it is set, and that the bot must be restarted for it to apply. Cloud
 * metadata and credential endpoints are not lifted by ALLOW_PRIVATE_TARGETS (see
 * src/security/address-policy.ts), so their hint names only the exact allow-list entry.
 */
export function blockedHint(reason: string, address: string): string {
  if (/metadata|credential endpoint/.test(reason)) {
    return `this is never probed unless the bot operator lists exactly ${address} in the environment variable ALLOWED_TARGET_CIDRS and restarts certwatch`;
  }
  return 'the bot operator can allow it by setting the environment variable ALLOW_PRIVATE_TARGETS=true (or listing the network in ALLOWED_TARGET_CIDRS) and restarting certwatch';
}

/**
 * OpenSSL's reason without its machinery: "C0B7...:error:0A00010B:SSL routines:
 * ssl3_get_record:wrong version number:../deps/openssl/...:354:" becomes "wrong version
 * number". Node sets `reason` on TLS errors; the message is parsed when it does not.
 */
export function opensslReason(err: Error): string {
  const reason = (err as { reason?: unknown }).reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  const m = /error:[0-9A-Fa-f]{8}:[^:]*:[^:]*:([^:]+)(?::|$)/.exec(err.message);
  return m?.[1]?.trim() ?? err.message;
}

/** `host:port` with IPv6 literals in brackets. */
export function formatHostPort(host: string, port?: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

/**
 * Server text made safe to quote in a message: control bytes escaped, length capped. Text a
 * dialect decoded as UTF-8 (LDAP, PostgreSQL, MySQL, ManageSieve, XMPP) can also hold line
 * and paragraph separators, which chat clients show as line breaks, and bidi overrides,
 * which reorder what is shown: those are escaped too.
 */
export function printable(text: string | Buffer, max = 120): string {
  const s = typeof text === 'string' ? text : text.toString('latin1');
  const escaped = s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\r') return '\\r';
    if (c === '\n') return '\\n';
    return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
