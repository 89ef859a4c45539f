import type { DialectIO } from '../reader.ts';
import { notOffered, printable, protocolError, rejected } from '../errors.ts';
import { BerError, children, decodeLength, decodeSmallInt, integerBytes, tags, tlv } from './ldap-ber.ts';
import type { Dialect } from './types.ts';

/** StartTLS extended operation (RFC 4511 section 4.14.1). */
export const START_TLS_OID = '1.3.6.1.4.1.1466.20037';
/** Notice of Disconnection, an unsolicited notification (RFC 4511 section 4.4.1). */
export const NOTICE_OF_DISCONNECTION_OID = '1.3.6.1.4.1.1466.20036';

const EXTENDED_REQUEST = 0x77; // [APPLICATION 23], constructed
const EXTENDED_RESPONSE = 0x78; // [APPLICATION 24], constructed
const REQUEST_NAME = 0x80; // [0], primitive
const REFERRAL = 0xa3; // [3], constructed
const RESPONSE_NAME = 0x8a; // [10], primitive
const MESSAGE_ID = 1;

/** Largest LDAPMessage accepted in reply; a StartTLS response is well under 1 KiB. */
const MAX_MESSAGE = 16 * 1024;

/** The StartTLS ExtendedRequest: LDAPMessage { messageID 1, [APPLICATION 23] { [0] OID } }. */
export function startTlsRequest(): Buffer {
  const op = tlv(EXTENDED_REQUEST, tlv(REQUEST_NAME, Buffer.from(START_TLS_OID, 'latin1')));
  return tlv(tags.sequence, Buffer.concat([tlv(tags.integer, integerBytes(MESSAGE_ID)), op]));
}

/** resultCode names (RFC 4511 Appendix A) for the codes a StartTLS answer plausibly carries. */
const resultNames: Record<number, string> = {
  0: 'success',
  1: 'operationsError',
  2: 'protocolError',
  10: 'referral',
  12: 'unavailableCriticalExtension',
  13: 'confidentialityRequired',
  50: 'insufficientAccessRights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  80: 'other',
};

/** The fields of an ExtendedResponse that decide the outcome. */
export interface LdapExtendedResponse {
  messageId: number;
  resultCode: number;
  diagnosticMessage: string;
  referrals: string[];
  responseName: string | null;
}

/**
 * LDAP StartTLS (RFC 4511 section 4.14, RFC 4513 section 3). LDAP does not greet: the client
 * sends the request and the server's ExtendedResponse with resultCode success is the go-ahead;
 * TLS starts right after that PDU.
 */
export const ldap: Dialect = async (io) => {
  io.step = 'StartTLS';
  io.write(startTlsRequest());
  const res = parseExtendedResponse(await readLdapMessage(io), io.step);
  if (res.messageId === 0) {
    // An unsolicited notification: the server is about to close the connection.
    if (res.responseName === NOTICE_OF_DISCONNECTION_OID) {
      throw rejected('LDAP', `notice of disconnection: ${describeResult(res)}`, io.step);
    }
    throw protocolError(`unexpected unsolicited LDAP notification ${printable(res.responseName ?? '(unnamed)')}`, io.step);
  }
  if (res.messageId !== MESSAGE_ID) {
    throw protocolError(`LDAP response has messageID ${res.messageId}, expected ${MESSAGE_ID}`, io.step);
  }
  // RFC 2830 section 2.2 requires responseName to echo the StartTLS OID; RFC 4511 section
  // 4.14.2 lets it be absent. Anything else answers some other request.
  if (res.responseName !== null && res.responseName !== START_TLS_OID) {
    throw protocolError(`LDAP ExtendedResponse names ${printable(res.responseName)}, not StartTLS`, io.step);
  }
  if (res.resultCode === 0) return;
  // RFC 4511 section 4.14.2 (and RFC 2830 section 2.3): protocolError means the server does
  // not support TLS, by design or by configuration; referral means "this server does not do
  // TLS, try that one". Both say TLS is not offered here. Every other code (operationsError,
  // unavailable, confidentialityRequired, unwillingToPerform, busy...) is a server that knows
  // the operation and refused it now.
  if (res.resultCode === 2 || res.resultCode === 10) {
    throw notOffered('LDAP', `StartTLS answered ${describeResult(res)}`, io.step);
  }
  throw rejected('LDAP', describeResult(res), io.step);
};

function describeResult(res: LdapExtendedResponse): string {
  const name = resultNames[res.resultCode] ?? 'resultCode';
  const parts = [`${name} (${res.resultCode})`];
  if (res.diagnosticMessage !== '') parts.push(res.diagnosticMessage);
  if (res.referrals.length > 0) parts.push(`referral to ${res.referrals.join(' ')}`);
  return printable(parts.join(': '), 200);
}

/**
 * Reads one LDAPMessage: tag and length first, the length bounded, then exactly its content.
 * Nothing after the message is read (TLS may follow it at once).
 */
export async function readLdapMessage(io: DialectIO): Promise<Buffer> {
  const tag = (await io.readExact(1))[0]!;
  if (tag !== tags.sequence) {
    const hint = tag === 0x16 || tag === 0x15 ? 'this port speaks TLS from the first byte: try --mode implicit' : undefined;
    throw protocolError(`not an LDAP message (first byte 0x${tag.toString(16).padStart(2, '0')})`, io.step, hint);
  }
  const first = (await io.readExact(1))[0]!;
  let len;
  try {
    const count = first & 0x7f;
    const rest = first >= 0x80 && count > 0 && count <= 4 ? await io.readExact(count) : Buffer.alloc(0);
    len = decodeLength(first, rest);
  } catch (err) {
    if (err instanceof BerError) throw protocolError(`malformed LDAP message: ${err.message}`, io.step);
    throw err;
  }
  if (len === null) throw protocolError('malformed LDAP message length', io.step);
  if (len.length > MAX_MESSAGE) {
    throw protocolError(`LDAP message of ${len.length} bytes, more than the ${MAX_MESSAGE} allowed`, io.step);
  }
  return io.readExact(len.length);
}

/** Decodes LDAPMessage content that must hold an ExtendedResponse (RFC 4511 sections 4.2, 4.12). */
export function parseExtendedResponse(content: Buffer, step: string): LdapExtendedResponse {
  try {
    const [id, op] = children(content);
    if (id === undefined || op === undefined) throw new BerError('LDAPMessage lacks messageID or protocolOp');
    if (id.tag !== tags.integer) throw new BerError('messageID is not an INTEGER');
    if (op.tag !== EXTENDED_RESPONSE) {
      throw new BerError(`expected an ExtendedResponse, got protocolOp tag 0x${op.tag.toString(16)}`);
    }
    const [code, matched, diag, ...optional] = children(op.value);
    if (code === undefined || matched === undefined || diag === undefined) {
      throw new BerError('ExtendedResponse lacks resultCode, matchedDN or diagnosticMessage');
    }
    if (code.tag !== tags.enumerated) throw new BerError('resultCode is not ENUMERATED');
    if (diag.tag !== tags.octetString) throw new BerError('diagnosticMessage is not an OCTET STRING');
    const referral = optional.find((e) => e.tag === REFERRAL);
    const name = optional.find((e) => e.tag === RESPONSE_NAME);
    return {
      messageId: decodeSmallInt(id.value),
      resultCode: decodeSmallInt(code.value),
      diagnosticMessage: diag.value.toString('utf8'),
      referrals: referral === undefined ? [] : children(referral.value).map((r) => r.value.toString('utf8')),
      responseName: name === undefined ? null : name.value.toString('latin1'),
    };
  } catch (err) {
    if (err instanceof BerError) throw protocolError(`malformed LDAP response: ${err.message}`, step);
    throw err;
  }
}
