import { notOffered, printable, protocolError, rejected, type ProbeError } from '../errors.ts';
import type { DialectIO } from '../reader.ts';
import { notProtocol } from './line-replies.ts';
import type { Dialect } from './types.ts';

/** Untagged responses accepted while waiting for one tagged completion. */
const MAX_UNTAGGED = 50;
/** Largest literal accepted inside an untagged response before TLS. */
const MAX_LITERAL = 4096;

/**
 * One response line with any literals spliced in: a line ending in `{n}` or `{n+}` is
 * followed by n octets and then the rest of the response (RFC 9051 section 4.3).
 */
async function readResponse(io: DialectIO): Promise<string> {
  let text = await io.readLine();
  for (let parts = 0; ; parts++) {
    const m = /\{(\d{1,10})\+?\}$/.exec(text);
    if (m === null) return text;
    const n = Number(m[1]);
    if (n > MAX_LITERAL) {
      throw protocolError(`IMAP server sent a literal of ${n} bytes before TLS (at most ${MAX_LITERAL} accepted)`, io.step);
    }
    if (parts >= MAX_UNTAGGED) throw protocolError(`IMAP response with more than ${MAX_UNTAGGED} literals`, io.step);
    const literal = await io.readExact(n);
    text = `${text}${literal.toString('latin1')}${await io.readLine()}`;
  }
}

/** Capability atoms from `[CAPABILITY ...]` or `* CAPABILITY ...` text, upper-cased. */
function atoms(list: string): string[] {
  return list.trim().toUpperCase().split(/\s+/);
}

/** Capabilities carried by a response code at the start of status text, if any. */
function capabilityCode(text: string): string[] | null {
  const m = /^\[CAPABILITY ([^\]]*)\]/i.exec(text);
  return m === null ? null : atoms(m[1] ?? '');
}

interface Tagged {
  status: 'OK' | 'NO' | 'BAD';
  line: string;
  /** Atoms of every untagged CAPABILITY response seen before the completion. */
  capabilities: string[];
}

/**
 * Sends `tag command` and reads untagged responses (bounded) up to the tagged completion.
 * An untagged BYE means the server is closing (RFC 9051 section 7.1.5).
 */
async function command(io: DialectIO, tag: string, cmd: string): Promise<Tagged> {
  io.write(`${tag} ${cmd}\r\n`);
  const capabilities: string[] = [];
  for (let untagged = 0; untagged <= MAX_UNTAGGED; untagged++) {
    const line = await readResponse(io);
    if (line.startsWith('* ')) {
      const cap = /^\* CAPABILITY (.*)$/i.exec(line);
      if (cap !== null) capabilities.push(...atoms(cap[1] ?? ''));
      if (/^\* BYE\b/i.test(line)) throw rejectedOrClosed(cmd, line, io.step);
      continue;
    }
    const m = /^(\S+) (OK|NO|BAD)\b/i.exec(line);
    if (m === null || m[1] !== tag) throw notProtocol('imap', `the IMAP completion of ${tag} ${cmd}`, line, io.step);
    return { status: (m[2] ?? '').toUpperCase() as Tagged['status'], line, capabilities };
  }
  throw protocolError(`more than ${MAX_UNTAGGED} untagged responses to ${cmd}`, io.step);
}

function rejectedOrClosed(cmd: string, line: string, step: string): ProbeError {
  return cmd === 'STARTTLS'
    ? rejected('IMAP', line, step)
    : protocolError(`IMAP server closed the session: ${printable(line)}`, step);
}

/** IMAP with STARTTLS (RFC 9051 section 6.2.1, RFC 2595 section 3.1). */
export const imap: Dialect = async (io) => {
  io.step = 'greeting';
  const greeting = await readResponse(io);
  const g = /^\* (OK|PREAUTH|BYE)\b ?(.*)$/i.exec(greeting);
  if (g === null) throw notProtocol('imap', 'an IMAP greeting', greeting, io.step);
  const kind = (g[1] ?? '').toUpperCase();
  if (kind === 'BYE') throw protocolError(`IMAP server refused the session: ${printable(greeting)}`, io.step);
  if (kind === 'PREAUTH') {
    // PREAUTH puts the session in the authenticated state, where STARTTLS is not allowed; a
    // client that requires TLS must close (RFC 9051 section 7.1.4). An attacker can inject it
    // to strip STARTTLS, so it is reported, never worked around.
    throw notOffered('IMAP', 'PREAUTH greeting (authenticated state, where STARTTLS is not allowed)', io.step);
  }

  // Most servers announce capabilities in the greeting (RFC 9051 section 7.1); ask otherwise.
  let capabilities = capabilityCode(g[2] ?? '');
  if (capabilities === null) {
    io.step = 'CAPABILITY';
    const reply = await command(io, 'a001', 'CAPABILITY');
    if (reply.status !== 'OK') throw protocolError(`CAPABILITY failed: ${printable(reply.line)}`, io.step);
    capabilities = reply.capabilities;
  }
  if (!capabilities.includes('STARTTLS')) {
    throw notOffered('IMAP', 'STARTTLS is not among the capabilities', io.step);
  }

  io.step = 'STARTTLS';
  const reply = await command(io, 'a002', 'STARTTLS');
  // NO and BAD are refusals (RFC 9051 section 6.2.1); only the tagged OK is the go-ahead.
  if (reply.status !== 'OK') throw rejected('IMAP', reply.line, io.step);
};
