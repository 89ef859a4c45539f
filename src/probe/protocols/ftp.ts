import { printable, protocolError, rejected } from '../errors.ts';
import type { DialectIO } from '../reader.ts';
import { notOfferedAfter, notProtocol } from './line-replies.ts';
import type { Dialect } from './types.ts';

/** Upper bound on lines in one multi-line reply (RFC 959 sets none). */
const MAX_REPLY_LINES = 100;
/** "120 service ready in nnn minutes" replies tolerated before the 220. */
const MAX_PRELIMINARY = 3;

/** A complete FTP reply: its code and the text of every line. */
export interface FtpReply {
  code: number;
  lines: string[];
}

/**
 * Reads one reply (RFC 959 section 4.2). A multi-line reply starts `ddd-` and ends with a
 * line starting with the same code and a space; lines in between may start with anything,
 * including other digits (ProFTPD repeats `ddd-`, vsftpd indents with a space).
 */
export async function readFtpReply(io: DialectIO): Promise<FtpReply> {
  const first = await io.readLine();
  const m = /^([1-5]\d\d)([ -]|$)(.*)$/.exec(first);
  if (m === null) throw notProtocol('ftp', 'an FTP reply', first, io.step);
  const code = Number(m[1]);
  const lines = [m[3] ?? ''];
  if (m[2] !== '-') return { code, lines };
  const last = new RegExp(`^${code}( |$)`);
  for (;;) {
    if (lines.length >= MAX_REPLY_LINES) throw protocolError(`multi-line reply longer than ${MAX_REPLY_LINES} lines`, io.step);
    const line = await io.readLine();
    if (last.test(line)) {
      lines.push(line.slice(4));
      return { code, lines };
    }
    lines.push(line);
  }
}

function quote(reply: FtpReply): string {
  return printable(`${reply.code} ${reply.lines.join(' ')}`);
}

/**
 * Replies to AUTH TLS that mean the server has no TLS at all, rather than refusing it now:
 * 500/502 (no AUTH command, RFC 2228), 504 (mechanism not supported, RFC 4217 section 4),
 * and 530 (vsftpd with TLS disabled answers "Please login with USER and PASS").
 */
const NOT_OFFERED = new Set([500, 502, 504, 530]);

/**
 * FTP with AUTH TLS (RFC 4217). FEAT is not consulted: many servers accept AUTH TLS without
 * listing it there (RFC 4217 section 6 makes the listing a SHOULD), so the reply to AUTH TLS
 * itself decides, and one round trip is saved.
 */
export const ftp: Dialect = async (io) => {
  io.step = 'greeting';
  let greeting = await readFtpReply(io);
  // 120 "service ready in nnn minutes" is a valid preliminary before the 220 (RFC 959 5.4).
  for (let n = 0; greeting.code === 120 && n < MAX_PRELIMINARY; n++) greeting = await readFtpReply(io);
  if (greeting.code !== 220) {
    // 421 here is "service not available" (RFC 959): the session was refused, not TLS.
    throw protocolError(`FTP greeting was ${quote(greeting)}, expected 220`, io.step);
  }

  io.step = 'AUTH TLS';
  io.write('AUTH TLS\r\n');
  const go = await readFtpReply(io);
  if (go.code === 234) return;
  if (NOT_OFFERED.has(go.code)) throw notOfferedAfter('FTP', `AUTH TLS answered ${quote(go)}`, io.step, quote(greeting));
  // 431, 534 (policy) and other failures are refusals; 1xx-3xx other than 234 (e.g. 334,
  // which asks for ADAT security data) are not the TLS go-ahead.
  if (go.code >= 400) throw rejected('FTP', `${go.code} ${go.lines.join(' ')}`, io.step);
  throw protocolError(`AUTH TLS answered ${quote(go)}, expected 234`, io.step);
};
