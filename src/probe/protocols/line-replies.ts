// Helpers shared by the line-based dialects (smtp, lmtp, imap, pop3, ftp, nntp, sieve, irc).
import { notOffered, printable, ProbeError, protocolError } from '../errors.ts';
import type { DialectIO } from '../reader.ts';

/**
 * What other services say first, so that a wrong --protocol gets a useful hint.
 * Order matters: SMTP and FTP both greet with 220; SMTP servers say (E)SMTP (RFC 5321
 * section 4.3.1 examples), FTP servers usually name themselves (ProFTPD, vsFTPd, Pure-FTPd).
 */
const lookalikes: readonly (readonly [RegExp, string])[] = [
  [/^\* (OK|PREAUTH|BYE)\b/i, 'this looks like IMAP: try --protocol imap'],
  [/^\+OK\b/, 'this looks like POP3: try --protocol pop3'],
  [/^220[ -].*\b(E?SMTP|LMTP)\b/i, 'this looks like SMTP: try --protocol smtp'],
  [/^220[ -].*ftp/i, 'this looks like FTP: try --protocol ftp'],
  [/^20[01] .*\b(news|nntp|inn)/i, 'this looks like NNTP: try --protocol nntp'],
  [/^"IMPLEMENTATION"/i, 'this looks like ManageSieve: try --protocol sieve'],
  [/^(:\S+ )?(NOTICE|PING) /, 'this looks like IRC: try --protocol irc'],
  [/^<\?xml|^<stream:/, 'this looks like XMPP: try --protocol xmpp'],
  [/^SSH-\d/, 'this port speaks SSH, which has no TLS certificate'],
  [/^HTTP\/\d/, 'this port speaks HTTP: try --protocol https or a TLS port'],
];

/** A hint naming the protocol `line` belongs to, unless that is the one being spoken. */
export function lookalikeHint(line: string, speaking: string): string | undefined {
  const hint = lookalikes.find(([re]) => re.test(line))?.[1];
  return hint === undefined || hint.includes(`--protocol ${speaking.toLowerCase()}`) ? undefined : hint;
}

/** PROTOCOL_ERROR for a line that is not `protocol`, quoting the line (control bytes escaped). */
export function notProtocol(protocol: string, what: string, line: string, step: string): ProbeError {
  return protocolError(`not ${what}: "${printable(line)}"`, step, lookalikeHint(line, protocol));
}

/**
 * STARTTLS_NOT_OFFERED, with a hint when the greeting shows another protocol: SMTP and FTP
 * share the 220 greeting, so the wrong one of them fails only at the upgrade command.
 */
export function notOfferedAfter(protocol: string, detail: string, step: string, greeting: string): ProbeError {
  const err = notOffered(protocol, detail, step);
  const hint = lookalikeHint(greeting, protocol);
  return hint === undefined ? err : new ProbeError(err.code, err.message, { step, hint });
}

/**
 * Reads the body of a dot-terminated multi-line response (POP3, RFC 1939 section 3; NNTP,
 * RFC 3977 section 3.1.1) after its status line, undoing dot-stuffing. Bounded: a server
 * that never sends the final "." must not make us read forever.
 */
export async function readDotTerminated(io: DialectIO, maxLines: number): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await io.readLine();
    if (line === '.') return lines;
    if (lines.length >= maxLines) {
      throw protocolError(`multi-line response longer than ${maxLines} lines (no final ".")`, io.step);
    }
    lines.push(line.startsWith('.') ? line.slice(1) : line);
  }
}

/** Whether a keyword list (one capability per entry, arguments after a space) names `keyword`. */
export function listsKeyword(lines: readonly string[], keyword: string): boolean {
  const k = keyword.toUpperCase();
  return lines.some((l) => l.trim().split(/\s+/, 1)[0]?.toUpperCase() === k);
}
