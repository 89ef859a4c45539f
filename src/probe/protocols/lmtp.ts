import { smtpLike } from './smtp.ts';
import type { Dialect } from './types.ts';

/** LMTP with STARTTLS: SMTP's exchange with LHLO (RFC 2033). */
export const lmtp: Dialect = smtpLike('LMTP', 'LHLO');
