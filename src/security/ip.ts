// Small IP helpers for the SSRF policy: canonical IPv6 hextets and the IPv4 addresses that
// some IPv6 forms carry inside them (mapped, compatible, NAT64, 6to4), so a blocked IPv4
// range cannot be reached by spelling it as IPv6.
import { isIPv4, isIPv6 } from 'node:net';

/** The eight 16-bit groups of a valid IPv6 address (zone index dropped), or null. */
export function ipv6Groups(address: string): number[] | null {
  const bare = address.split('%')[0] ?? '';
  if (!isIPv6(bare)) return null;
  let text = bare.toLowerCase();
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const quad = text.slice(lastColon + 1);
  if (isIPv4(quad)) {
    const o = quad.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => Number.parseInt(h, 16)));
  let groups: number[];
  if (text.includes('::')) {
    const [head = '', rest = ''] = text.split('::');
    const h = parse(head);
    const r = parse(rest);
    groups = [...h, ...new Array<number>(Math.max(8 - h.length - r.length, 0)).fill(0), ...r];
  } else {
    groups = parse(text);
  }
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function v4From(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * The IPv4 address an IPv6 address leads to, when it embeds one: IPv4-mapped ::ffff:0:0/96
 * (RFC 4291 section 2.5.5.2), IPv4-compatible ::/96 (deprecated, section 2.5.5.1), SIIT's
 * IPv4-translated ::ffff:0:0:0/96 (RFC 2765 section 2.1), NAT64 64:ff9b::/96 (RFC 6052),
 * 6to4 2002::/16 (RFC 3056) and Teredo 2001::/32, whose client address (the host the packets
 * end at) is stored inverted in the last 32 bits (RFC 4380 section 4).
 */
export function embeddedIPv4(groups: readonly number[]): string | null {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const zeroUpTo5 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroUpTo5 && g5 === 0xffff) return v4From(g6, g7);
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return v4From(g6, g7);
  if (g0 === 0x2001 && g1 === 0) return v4From(g6 ^ 0xffff, g7 ^ 0xffff);
  // ::/96 minus :: and ::1, which are IPv6's own unspecified and loopback addresses.
  if (zeroUpTo5 && g5 === 0 && (g6 !== 0 || g7 > 1)) return v4From(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4From(g6, g7);
  if (g0 === 0x2002 && g1 !== undefined && g2 !== undefined) return v4From(g1, g2);
  return null;
}
