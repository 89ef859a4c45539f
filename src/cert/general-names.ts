// GeneralName (RFC 5280 section 4.2.1.6) and Name (section 4.1.2.4) decoding over the DER reader.
import { isIP } from 'node:net';
import { children, content, decodeOid, DerError, encoding, readTlv, type Tlv } from './der.ts';

/** One GeneralName. `value` is text for dns/email/uri, the raw Name DER for dn, the bytes for ip. */
export type GeneralName =
  | { type: 'dns'; value: string }
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  | { type: 'ip'; value: Uint8Array }
  | { type: 'dn'; value: Uint8Array }
  | { type: 'other'; tag: number };

/** Context tags of GeneralName's choices (IMPLICIT, so primitive 0x8n or constructed 0xan). */
export function decodeGeneralName(der: Uint8Array, t: Tlv): GeneralName {
  switch (t.tag) {
    case 0x81:
      return { type: 'email', value: ia5(content(der, t)) };
    case 0x82:
      return { type: 'dns', value: ia5(content(der, t)) };
    case 0x86:
      return { type: 'uri', value: ia5(content(der, t)) };
    case 0x87:
      return { type: 'ip', value: content(der, t) };
    case 0xa4: {
      // directoryName is EXPLICIT (a CHOICE): [4] wraps the Name SEQUENCE.
      const name = readTlv(der, t.start, t.end);
      if (name.tag !== 0x30 || name.end !== t.end) throw new DerError('malformed directoryName');
      return { type: 'dn', value: encoding(der, name) };
    }
    case 0xa0:
    case 0xa3:
    case 0xa5:
    case 0x88:
      return { type: 'other', tag: t.tag };
    default:
      throw new DerError(`unknown GeneralName tag 0x${t.tag.toString(16)}`);
  }
}

/** IA5String is 7-bit ASCII (RFC 5280 section 7.2: IDNs are stored as A-labels). */
function ia5(bytes: Uint8Array): string {
  for (const b of bytes) if (b > 0x7f) throw new DerError('IA5String with a non-ASCII byte');
  return Buffer.from(bytes).toString('latin1');
}

/** A GeneralName as people write it, e.g. `DNS:a.example`, `IP:192.0.2.1`. */
export function showName(n: GeneralName): string {
  switch (n.type) {
    case 'dns':
      return `DNS:${n.value}`;
    case 'email':
      return `email:${n.value}`;
    case 'uri':
      return `URI:${n.value}`;
    case 'ip':
      return `IP:${ipText(n.value)}`;
    case 'dn':
      return `DirName:${nameText(n.value)}`;
    case 'other':
      return 'otherName';
  }
}

/** An IP address (4 or 16 bytes) as text, or an address/mask pair (8 or 32 bytes) in CIDR form. */
export function ipText(b: Uint8Array): string {
  const addr = (x: Uint8Array): string => {
    if (x.length === 4) return [...x].join('.');
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((x[i]! << 8) | x[i + 1]!).toString(16));
    return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  };
  if (b.length === 4 || b.length === 16) return addr(b);
  if (b.length === 8 || b.length === 32) {
    const half = b.length / 2;
    let bits = 0;
    for (const x of b.subarray(half)) bits += popcount(x);
    return `${addr(b.subarray(0, half))}/${bits}`;
  }
  return `(${b.length} bytes)`;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v !== 0; v >>= 1) n += v & 1;
  return n;
}

/**
 * An IP address text as the bytes a SAN holds, or null. An IPv6 address with a zone index
 * ("fe80::1%eth0", which isIP accepts) is null: a SAN holds no zone, and the URL parser throws on it.
 */
export function ipBytes(text: string): Uint8Array | null {
  const kind = isIP(text);
  if (kind === 4) return Uint8Array.from(text.split('.').map(Number));
  if (kind !== 6 || text.includes('%')) return null;
  // Let the URL parser expand "::" and embedded IPv4 into 8 groups.
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head = '', tail] = host.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** One attribute of a Name: its type OID, value text and the RDN it belongs to. */
export interface NameAttribute {
  oid: string;
  value: string;
}

/** The RDNs of a Name (raw DER of each SET) and its attributes; throws DerError when malformed. */
export function decodeName(der: Uint8Array, name: Tlv): { rdns: Uint8Array[]; attributes: NameAttribute[] } {
  if (name.tag !== 0x30) throw new DerError('Name is not a SEQUENCE');
  const rdns: Uint8Array[] = [];
  const attributes: NameAttribute[] = [];
  for (const rdn of children(der, name)) {
    if (rdn.tag !== 0x31) throw new DerError('RDN is not a SET');
    rdns.push(encoding(der, rdn));
    const atvs = children(der, rdn);
    if (atvs.length === 0) throw new DerError('empty RDN');
    for (const atv of atvs) {
      const [type, value, extra] = children(der, atv);
      if (atv.tag !== 0x30 || type?.tag !== 0x06 || value === undefined || extra !== undefined) throw new DerError('malformed attribute');
      attributes.push({ oid: decodeOid(content(der, type)), value: directoryString(der, value) });
    }
  }
  return { rdns, attributes };
}

/** A DirectoryString as text; odd encodings are decoded as well as they can be, never thrown on. */
function directoryString(der: Uint8Array, t: Tlv): string {
  const b = Buffer.from(content(der, t));
  switch (t.tag) {
    case 0x0c:
      return b.toString('utf8');
    case 0x1e: {
      // BMPString: UTF-16BE.
      const even = b.subarray(0, b.length - (b.length % 2));
      return Buffer.from(even).swap16().toString('utf16le');
    }
    case 0x1c: {
      // UniversalString: UTF-32BE.
      let s = '';
      for (let i = 0; i + 3 < b.length; i += 4) {
        const cp = b.readUInt32BE(i);
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      return s;
    }
    default:
      return b.toString('latin1');
  }
}

const shortNames: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** A Name's DER as one line of text, e.g. `CN=foo, O=bar`; never throws. */
export function nameText(nameDer: Uint8Array): string {
  try {
    const { attributes } = decodeName(nameDer, readTlv(nameDer, 0));
    return attributes.map((a) => `${shortNames[a.oid] ?? a.oid}=${a.value}`).join(', ');
  } catch {
    return '(unreadable name)';
  }
}
