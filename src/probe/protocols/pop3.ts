import { notOffered, printable, protocolError, rejected } from '../errors.ts';
import type { DialectIO } from '../reader.ts';
import { listsKeyword, notProtocol, readDotTerminated } from './line-replies.ts';
import type { Dialect } from './types.ts';

/** Upper bound on CAPA lines (RFC 2449 sets none). */
const MAX_CAPA_LINES = 100;

/**
 * One status line: `+OK` or `-ERR`, upper case, then a space and text or nothing
 * (RFC 1939 section 3: servers MUST send the indicators in upper case).
 */
async function readStatus(io: DialectIO, what: string): Promise<{ ok: boolean; line: string }> {
  const line = await io.readLine();
  const m = /^(\+OK|-ERR)( |$)/.exec(line);
  if (m === null) throw notProtocol('pop3', what, line, io.step);
  return { ok: m[1] === '+OK', line };
}

/** POP3 with STLS (RFC 2595 section 4, capabilities per RFC 2449). */
export const pop3: Dialect = async (io) => {
  io.step = 'greeting';
  const greeting = await readStatus(io, 'a POP3 greeting');
  if (!greeting.ok) throw protocolError(`POP3 server refused the session: ${printable(greeting.line)}`, io.step);

  io.step = 'CAPA';
  io.write('CAPA\r\n');
  const capa = await readStatus(io, 'a POP3 reply to CAPA');
  // CAPA is optional (RFC 2449 section 5: -ERR means not implemented), and a server without
  // it may still implement STLS; its reply to STLS is then the only evidence. So on -ERR we
  // try STLS anyway and count a -ERR to it as "not offered" rather than "refused".
  let advertised: boolean | null = null;
  if (capa.ok) {
    advertised = listsKeyword(await readDotTerminated(io, MAX_CAPA_LINES), 'STLS');
    if (!advertised) throw notOffered('POP3', 'STLS is not among the CAPA capabilities', io.step);
  }

  io.step = 'STLS';
  io.write('STLS\r\n');
  const go = await readStatus(io, 'a POP3 reply to STLS');
  if (go.ok) return;
  if (advertised === null) throw notOffered('POP3', `CAPA and STLS both failed (${printable(go.line)})`, io.step);
  throw rejected('POP3', go.line, io.step);
};
