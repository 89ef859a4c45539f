import { notOffered, printable, protocolError, rejected } from '../errors.ts';
import type { DialectIO } from '../reader.ts';
import { listsKeyword, notProtocol, readDotTerminated } from './line-replies.ts';
import type { Dialect } from './types.ts';

/** Upper bound on CAPABILITIES lines (RFC 3977 sets none). */
const MAX_CAPABILITY_LINES = 100;

/** A status line: code and text (RFC 3977 section 3.2: "ddd" then optional text). */
interface Status {
  code: number;
  line: string;
}

async function readStatus(io: DialectIO, what: string): Promise<Status> {
  const line = await io.readLine();
  const m = /^([1-5]\d\d)( |$)/.exec(line);
  if (m === null) throw notProtocol('nntp', what, line, io.step);
  return { code: Number(m[1]), line };
}

/**
 * CAPABILITIES (RFC 3977 section 5.2): the list, or null when the server predates the
 * command (500 unknown / 501), in which case STARTTLS's own reply decides.
 */
async function capabilities(io: DialectIO): Promise<string[] | null> {
  io.write('CAPABILITIES\r\n');
  const status = await readStatus(io, 'an NNTP reply to CAPABILITIES');
  if (status.code === 101) return readDotTerminated(io, MAX_CAPABILITY_LINES);
  if (status.code === 500 || status.code === 501) return null;
  throw protocolError(`CAPABILITIES answered ${printable(status.line)}`, io.step);
}

/** NNTP with STARTTLS (RFC 4642). */
export const nntp: Dialect = async (io) => {
  io.step = 'greeting';
  const greeting = await readStatus(io, 'an NNTP greeting');
  if (greeting.code !== 200 && greeting.code !== 201) {
    // 400 / 502 here: service (temporarily or permanently) unavailable; the session was refused.
    throw protocolError(`NNTP server refused the session: ${printable(greeting.line)}`, io.step);
  }

  io.step = 'CAPABILITIES';
  let caps = await capabilities(io);
  if (caps !== null && !listsKeyword(caps, 'STARTTLS') && listsKeyword(caps, 'MODE-READER')) {
    // A mode-switching server (INN's innd) lists only transit capabilities until MODE READER
    // (RFC 3977 section 3.4.2); STARTTLS may appear only in reader mode (RFC 4642 section 2.1).
    io.step = 'MODE READER';
    io.write('MODE READER\r\n');
    const mode = await readStatus(io, 'an NNTP reply to MODE READER');
    if (mode.code !== 200 && mode.code !== 201) throw protocolError(`MODE READER answered ${printable(mode.line)}`, io.step);
    io.step = 'CAPABILITIES';
    caps = await capabilities(io);
  }
  if (caps !== null && !listsKeyword(caps, 'STARTTLS')) {
    throw notOffered('NNTP', 'STARTTLS is not among the capabilities', io.step);
  }

  io.step = 'STARTTLS';
  io.write('STARTTLS\r\n');
  const go = await readStatus(io, 'an NNTP reply to STARTTLS');
  if (go.code === 382) return;
  if (caps === null && (go.code === 500 || go.code === 501)) {
    throw notOffered('NNTP', `neither CAPABILITIES nor STARTTLS is known (${printable(go.line)})`, io.step);
  }
  // 580 (cannot initiate TLS), 502 (command unavailable), other failures: refused (RFC 4642 2.2.2).
  if (go.code >= 400) throw rejected('NNTP', go.line, io.step);
  throw protocolError(`STARTTLS answered ${printable(go.line)}, expected 382`, io.step);
};
