import type { DialectIO } from '../reader.ts';
import { printable, protocolError, rejected } from '../errors.ts';
import { listsKeyword, notOfferedAfter, notProtocol } from './line-replies.ts';
import type { Dialect } from './types.ts';

/** Upper bound on lines in one multi-line reply (RFC 5321 sets none; hostile servers may loop). */
const MAX_REPLY_LINES = 100;

/** A complete SMTP reply: its code and the text of every line. */
export interface SmtpReply {
  code: number;
  lines: string[];
}

/**
 * Reads one possibly multi-line reply (RFC 5321 section 4.2): every line is
 * `ddd-text` except the last, `ddd text`, and all carry the same code. The first digit
 * is 2 to 5 (section 4.2.1); a bare `ddd` line is accepted as a last line (seen in the wild).
 */
export async function readSmtpReply(io: DialectIO, protocol = 'SMTP'): Promise<SmtpReply> {
  const lines: string[] = [];
  let code: number | null = null;
  for (;;) {
    const line = await io.readLine();
    const m = /^([2-5]\d\d)([ -]|$)(.*)$/.exec(line);
    if (m === null) throw notProtocol(protocol, `an ${protocol} reply`, line, io.step);
    const lineCode = Number(m[1]);
    if (code !== null && lineCode !== code) {
      throw protocolError(`reply code changed from ${code} to ${lineCode} inside a multi-line reply`, io.step);
    }
    code = lineCode;
    lines.push(m[3] ?? '');
    if (m[2] !== '-') return { code, lines };
    if (lines.length >= MAX_REPLY_LINES) {
      throw protocolError(`multi-line reply longer than ${MAX_REPLY_LINES} lines`, io.step);
    }
  }
}

function quote(reply: SmtpReply): string {
  return `${reply.code} ${reply.lines.join(' ')}`;
}

/** SMTP and LMTP differ only in the hello verb (RFC 2033 section 4.1). */
export function smtpLike(protocol: string, helloVerb: 'EHLO' | 'LHLO'): Dialect {
  return async (io) => {
    io.step = 'greeting';
    const greeting = await readSmtpReply(io, protocol);
    if (greeting.code !== 220) {
      // 554 here means "no SMTP service for you" (RFC 5321 section 3.1): the session, not TLS,
      // was refused, so nothing could be checked.
      throw protocolError(`${protocol} server refused the session: ${printable(quote(greeting))}`, io.step);
    }
    io.step = helloVerb;
    io.write(`${helloVerb} certwatch.invalid\r\n`);
    const hello = await readSmtpReply(io, protocol);
    if (hello.code === 500 || hello.code === 502) {
      // A server that does not know EHLO has no service extensions, so no STARTTLS
      // (RFC 5321 section 4.1.4; RFC 3207 section 4 makes STARTTLS an EHLO extension).
      throw notOfferedAfter(protocol, `${helloVerb} is not supported (${printable(quote(hello))})`, io.step, quote(greeting));
    }
    if (hello.code !== 250) throw protocolError(`${helloVerb} answered ${printable(quote(hello))}`, io.step);
    // The first line is the server's name; extensions follow, one keyword per line
    // (keywords are case-insensitive, RFC 5321 section 2.4).
    if (!listsKeyword(hello.lines.slice(1), 'STARTTLS')) {
      throw notOfferedAfter(protocol, `STARTTLS is not among the ${helloVerb} extensions`, io.step, quote(greeting));
    }
    io.step = 'STARTTLS';
    io.write('STARTTLS\r\n');
    const go = await readSmtpReply(io, protocol);
    if (go.code === 220) return;
    // 454 (TLS not available), 501, 5xx: refused (RFC 3207 section 4). A 2xx/3xx other than
    // 220 is not the go-ahead, and starting TLS on it would be guessing.
    if (go.code >= 400) throw rejected(protocol, quote(go), io.step);
    throw protocolError(`STARTTLS answered ${printable(quote(go))}, expected 220`, io.step);
  };
}

/** SMTP with STARTTLS (RFC 3207). */
export const smtp: Dialect = smtpLike('SMTP', 'EHLO');
