// A small strict BER codec for the few LDAP elements the StartTLS exchange needs
// (RFC 4511 section 5.1: definite lengths only, single-byte tags).

/** One decoded TLV: its identifier octet and its content. */
export interface BerElement {
  tag: number;
  value: Buffer;
}

/** Malformed BER; callers turn it into a PROTOCOL_ERROR naming the step. */
export class BerError extends Error {
  override readonly name = 'BerError';
}

/** Universal and LDAP tags used here (X.690 section 8; RFC 4511 section 4.2). */
export const tags = {
  integer: 0x02,
  octetString: 0x04,
  enumerated: 0x0a,
  sequence: 0x30,
} as const;

/** Encodes one TLV with a definite length (short or long form). */
export function tlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Minimal two's-complement encoding of a small non-negative integer. */
export function integerBytes(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return Buffer.from(bytes);
}

/**
 * Parses a length from its first octet and the octets after it. Returns the length and how
 * many octets it took, or null when more octets are needed. Indefinite lengths (0x80) are
 * forbidden in LDAP (RFC 4511 section 5.1); more than 4 length octets is never legitimate.
 */
export function decodeLength(first: number, rest: Uint8Array): { length: number; size: number } | null {
  if (first < 0x80) return { length: first, size: 1 };
  const count = first & 0x7f;
  if (count === 0) throw new BerError('indefinite BER length, forbidden in LDAP');
  if (count > 4) throw new BerError(`BER length of ${count} octets`);
  if (rest.length < count) return null;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + rest[i]!;
  return { length, size: 1 + count };
}

/** Splits a constructed element's content into its TLVs; everything must be consumed. */
export function children(content: Buffer): BerElement[] {
  const out: BerElement[] = [];
  let i = 0;
  while (i < content.length) {
    const tag = content[i]!;
    if ((tag & 0x1f) === 0x1f) throw new BerError('multi-byte BER tag');
    if (i + 1 >= content.length) throw new BerError('truncated BER element');
    const len = decodeLength(content[i + 1]!, content.subarray(i + 2));
    if (len === null) throw new BerError('truncated BER length');
    const start = i + 1 + len.size;
    const end = start + len.length;
    if (end > content.length) throw new BerError('BER element longer than its container');
    out.push({ tag, value: content.subarray(start, end) });
    i = end;
  }
  return out;
}

/** A non-negative INTEGER or ENUMERATED that fits in 31 bits. */
export function decodeSmallInt(value: Buffer): number {
  if (value.length === 0 || value.length > 4) throw new BerError(`integer of ${value.length} octets`);
  if ((value[0] ?? 0) & 0x80) throw new BerError('negative integer');
  return value.readUIntBE(0, value.length);
}
