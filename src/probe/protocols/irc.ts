import { notOffered, printable, protocolError, rejected } from '../errors.ts';
import { notProtocol } from './line-replies.ts';
import type { Dialect } from './types.ts';

/** Lines accepted before the reply to STARTTLS (notices, PINGs, CAP, MOTD-like chatter). */
const MAX_LINES = 50;

/** Commands a server may send an unregistered client besides numerics, PING and ERROR. */
const CHATTER = new Set(['NOTICE', 'PRIVMSG', 'CAP', 'PONG']);

/** One parsed message (RFC 1459 section 2.3.1, IRCv3 message tags ignored). */
interface Message {
  command: string;
  params: string[];
}

function parse(line: string): Message | null {
  const m = /^(?:@\S+ +)?(:\S+ +)?([A-Za-z]+|\d{3})((?: +[^: ][^ ]*)*)(?: +:(.*)| *)$/.exec(line);
  // Numeric replies always carry the sender prefix (RFC 2812 section 2.4); without it, a
  // line like "220 mail ESMTP" is another protocol, not IRC.
  if (m === null || (m[1] === undefined && /^\d/.test(m[2] ?? ''))) return null;
  const params = (m[3] ?? '').split(' ').filter((p) => p !== '');
  if (m[4] !== undefined) params.push(m[4]);
  return { command: (m[2] ?? '').toUpperCase(), params };
}

/**
 * IRC with STARTTLS (IRCv3 "tls" extension: 670 RPL_STARTTLS, 691 ERR_STARTTLS).
 *
 * IRC servers may greet with NOTICE lines or stay silent until the client speaks, so we
 * send STARTTLS at once instead of waiting for a greeting that may never come. We do not
 * send `CAP LS` first: servers that implement STARTTLS answer it before registration
 * without CAP (InspIRCd, UnrealIRCd), the "tls" cap is deprecated by IRCv3, and a server
 * without CAP would leave us waiting for nothing.
 */
export const irc: Dialect = async (io) => {
  io.write('STARTTLS\r\n');
  // The first line read is the greeting as far as timeouts go: a silent port is reported
  // like any silent greeting (with its implicit-TLS hint).
  io.step = 'greeting';
  for (let n = 0; n < MAX_LINES; n++) {
    const line = await io.readLine();
    const msg = parse(line);
    if (msg === null) throw notProtocol('irc', 'an IRC message', line, io.step);
    io.step = 'STARTTLS';
    switch (msg.command) {
      case '670':
        return;
      case '691':
        throw rejected('IRC', line, io.step);
      case '421': // ERR_UNKNOWNCOMMAND
      case '451': // ERR_NOTREGISTERED: STARTTLS only exists before registration, so it is not there
        throw notOffered('IRC', `STARTTLS answered ${printable(line)}`, io.step);
      case 'PING':
        // Some servers hold unregistered clients until they answer a PING cookie.
        io.write(`PONG :${(msg.params.at(-1) ?? '').replace(/[\x00-\x1f]/g, '')}\r\n`);
        break;
      case 'ERROR':
        throw protocolError(`IRC server closed the link: ${printable(line)}`, io.step);
      default:
        // Other error numerics (4xx, 5xx) answer our only command: a refusal.
        if (/^[45]\d\d$/.test(msg.command)) throw rejected('IRC', line, io.step);
        // Informational numerics and chatter a server sends before registration: skip.
        // Any other word is not a server-to-client IRC message.
        if (!/^\d{3}$/.test(msg.command) && !CHATTER.has(msg.command)) {
          throw notProtocol('irc', 'an IRC message', line, io.step);
        }
    }
  }
  throw protocolError(`no reply to STARTTLS within ${MAX_LINES} lines`, io.step);
};
