import type { DialectIO } from '../reader.ts';
import { ProbeError, notOffered, printable, protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

/**
 * SSLRequest (PostgreSQL protocol, "Message Formats"): Int32 length 8, then the code
 * 80877103 (1234 << 16 | 5679). PostgreSQL does not greet: the client speaks first.
 */
export const SSL_REQUEST: Buffer = Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]);

/** Longest ErrorResponse accepted in place of the one-byte answer. */
const MAX_ERROR_BYTES = 2048;

/**
 * Sends SSLRequest and accepts only an exact 'S' (as node-postgres and libpq do). The byte
 * is the whole answer: anything already buffered behind it is refused by the Prober, since a
 * man in the middle could inject plaintext there (CVE-2021-23214 / CVE-2021-23222).
 */
export const postgres: Dialect = async (io) => {
  io.step = 'SSLRequest';
  io.write(SSL_REQUEST);
  const answer = (await io.readExact(1))[0];
  if (answer === 0x53) return; // 'S'
  if (answer === 0x4e) {
    // 'N': the server understood the request and has ssl = off.
    throw notOffered('PostgreSQL', "the server answered 'N' to SSLRequest (ssl is off)", io.step);
  }
  if (answer === 0x45) {
    // 'E': the server failed before answering (too many clients, fork failure) or predates
    // SSLRequest. We could not check TLS, so this is not a finding about TLS: PROTOCOL_ERROR.
    // The text is unauthenticated (CVE-2024-10977): quote it, never act on it.
    const message = await readErrorResponse(io);
    throw protocolError(`PostgreSQL server answered SSLRequest with an error: ${printable(message)}`, io.step);
  }
  const hint = answer === 0x16 ? 'this port speaks TLS from the first byte: try --mode implicit' : undefined;
  throw protocolError(
    `not a PostgreSQL answer to SSLRequest: byte 0x${(answer ?? 0).toString(16).padStart(2, '0')}`,
    io.step,
    hint,
  );
};

/**
 * Reads what follows an 'E'. Protocol 3 servers send an ErrorResponse: Int32 length, then
 * fields (a type byte and a NUL-terminated string) ending with a NUL; 'M' is the message.
 * Servers that predate protocol 3 send one NUL-terminated string instead.
 */
async function readErrorResponse(io: DialectIO): Promise<string> {
  const head = await io.readExact(4);
  if (head.includes(0)) {
    // Text has no NUL in its first bytes; a protocol 3 length below 2^24 has one.
    const length = head.readUInt32BE(0);
    if (length < 5) throw protocolError(`malformed PostgreSQL ErrorResponse (length ${length})`, io.step);
    if (length > MAX_ERROR_BYTES) {
      // Refused without reading the bytes.
      throw protocolError(`PostgreSQL ErrorResponse announces ${length} bytes, more than the ${MAX_ERROR_BYTES} allowed`, io.step);
    }
    const body = await io.readExact(length - 4);
    return parseErrorFields(body) ?? printable(body);
  }
  return readCString(io, head);
}

/** Fields of an ErrorResponse body: "SEVERITY CODE: message", or null when malformed. */
export function parseErrorFields(body: Buffer): string | null {
  const fields = new Map<string, string>();
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const type = String.fromCharCode(body[i]!);
    const end = body.indexOf(0, i + 1);
    if (end < 0) return null;
    fields.set(type, body.subarray(i + 1, end).toString('utf8'));
    i = end + 1;
  }
  const message = fields.get('M');
  if (message === undefined) return null;
  const severity = fields.get('V') ?? fields.get('S');
  const code = fields.get('C');
  const prefix = [severity, code].filter((x) => x !== undefined).join(' ');
  return prefix === '' ? message : `${prefix}: ${message}`;
}

/** A protocol 2 error string: bytes up to NUL, bounded; a close ends it too. */
async function readCString(io: DialectIO, start: Buffer): Promise<string> {
  let text = start;
  while (!text.includes(0) && text.length < MAX_ERROR_BYTES) {
    try {
      text = Buffer.concat([text, await io.readSome()]);
    } catch (err) {
      // Old servers close right after the message; what arrived is the message.
      if (err instanceof ProbeError && err.code === 'PROTOCOL_ERROR') break;
      throw err;
    }
  }
  const end = text.indexOf(0);
  return text.subarray(0, end < 0 ? Math.min(text.length, MAX_ERROR_BYTES) : end).toString('utf8').trim();
}
