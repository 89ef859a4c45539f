import type { DialectIO } from '../reader.ts';
import { notOffered, protocolError, rejected } from '../errors.ts';
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
 * `ddd-text` except the last, `ddd text`, and all carry the same code.
 */
export async function readSmtpReply(io: DialectIO): Promise<SmtpReply> {
  const lines: string[] = [];
  let code: number | null = null;
  for (;;) {
    const line = await io.readLine();
    const m = /^(\d{3})([ -]|$)(.*)$/.exec(line);
    if (m === null) throw protocolError(`not an SMTP reply: "${line.slice(0, 80)}"`, io.step);
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

/** SMTP and LMTP differ only in the hello verb (RFC 2033 section 4.1). */
export function smtpLike(protocol: string, helloVerb: 'EHLO' | 'LHLO'): Dialect {
  return async (io) => {
    io.step = 'greeting';
    const greeting = await readSmtpReply(io);
    if (greeting.code !== 220) {
      throw protocolError(`${protocol} greeting was ${greeting.code}, expected 220: ${greeting.lines[0] ?? ''}`, io.step);
    }
    io.step = helloVerb;
    io.write(`${helloVerb} certwatch.invalid\r\n`);
    const hello = await readSmtpReply(io);
    if (hello.code !== 250) throw protocolError(`${helloVerb} answered ${hello.code}: ${hello.lines[0] ?? ''}`, io.step);
    // The first line is the server's name; extensions follow, one keyword per line.
    const offered = hello.lines.slice(1).some((l) => /^STARTTLS(\s|$)/i.test(l));
    if (!offered) throw notOffered(protocol, `STARTTLS is not among the ${helloVerb} extensions`, io.step);
    io.step = 'STARTTLS';
    io.write('STARTTLS\r\n');
    const go = await readSmtpReply(io);
    if (go.code !== 220) throw rejected(protocol, `${go.code} ${go.lines.join(' ')}`, io.step);
  };
}

/** SMTP with STARTTLS (RFC 3207). */
export const smtp: Dialect = smtpLike('SMTP', 'EHLO');
