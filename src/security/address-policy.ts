// The SSRF guard: which resolved addresses a probe may connect to. The monitor passes the
// returned function to Prober's `addressPolicy`, which checks the address actually being
// connected, so a name that re-resolves to an internal address later (DNS rebinding) is
// still refused at that probe.
import { BlockList, isIPv4 } from 'node:net';
import { embeddedIPv4, ipv6Groups } from './ip.ts';

/** A resolved address as the prober sees it. */
export interface PolicyAddress {
  address: string;
  family: 4 | 6;
}

/** Returns why an address must not be contacted, or null when it may be. */
export type AddressPolicy = (addr: PolicyAddress) => string | null;

/** Settings for createAddressPolicy. */
export interface AddressPolicyOptions {
  /**
   * Lift the block on internal ranges (loopback, private, link-local, CGNAT...) for
   * deployments that watch internal services. Cloud metadata and credential endpoints stay
   * blocked unless a CIDR in `allowCidrs` covers them: no certificate lives there and they
   * are the classic SSRF prize.
   */
  allowPrivate?: boolean;
  /** CIDRs (or single addresses) always allowed, e.g. "10.20.0.0/16", "fd12::/48". */
  allowCidrs?: readonly string[];
}

type Family = 'ipv4' | 'ipv6';
interface Range {
  reason: string;
  metadata?: boolean;
  cidrs: [string, number, Family][];
}

// Order matters: the first match names the reason, so the specific ranges come first.
const ranges: Range[] = [
  // Instance metadata and credential endpoints: AWS/GCP/Azure/OpenStack/Oracle metadata
  // (169.254.169.254, AWS's IPv6 fd00:ec2::254), the ECS task credential endpoint
  // (169.254.170.2), the EKS Pod Identity agent (169.254.170.23, fd00:ec2::23) and Alibaba
  // Cloud's metadata service (100.100.100.200, inside CGNAT space).
  {
    reason: 'cloud metadata or credential endpoint',
    metadata: true,
    cidrs: [
      ['169.254.169.254', 32, 'ipv4'],
      ['169.254.170.2', 32, 'ipv4'],
      ['169.254.170.23', 32, 'ipv4'],
      ['100.100.100.200', 32, 'ipv4'],
      ['fd00:ec2::254', 128, 'ipv6'],
      ['fd00:ec2::23', 128, 'ipv6'],
    ],
  },
  { reason: 'broadcast address', cidrs: [['255.255.255.255', 32, 'ipv4']] },
  { reason: 'unspecified address', cidrs: [['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']] },
  { reason: 'loopback address', cidrs: [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']] },
  // RFC 1918, RFC 4193 unique local, and RFC 3879's deprecated site-local.
  {
    reason: 'private address',
    cidrs: [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6'], ['fec0::', 10, 'ipv6']],
  },
  { reason: 'link-local address', cidrs: [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']] },
  // RFC 6598 carrier-grade NAT space (Alibaba's metadata address inside it is listed above).
  { reason: 'shared (CGNAT) address', cidrs: [['100.64.0.0', 10, 'ipv4']] },
  { reason: 'multicast address', cidrs: [['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']] },
  // IETF protocol assignments (RFC 6890), benchmarking (RFC 2544), class E, discard-only
  // (RFC 6666) and local-use NAT64 (RFC 8215): never a public service.
  {
    reason: 'reserved address',
    cidrs: [
      ['192.0.0.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['100::', 64, 'ipv6'],
      ['64:ff9b:1::', 48, 'ipv6'],
    ],
  },
];

interface CompiledRange {
  reason: string;
  metadata: boolean;
  list: BlockList;
}

function compile(range: Range): CompiledRange {
  const list = new BlockList();
  for (const [net, prefix, family] of range.cidrs) list.addSubnet(net, prefix, family);
  return { reason: range.reason, metadata: range.metadata === true, list };
}

/** Parses "a.b.c.d/n", "v6::/n" or a bare address into BlockList terms; throws on bad input. */
export function parseCidr(text: string): [string, number, Family] {
  const [addr = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) throw new Error(`invalid CIDR "${text}"`);
  let family: Family;
  let canonical: string;
  if (isIPv4(addr)) {
    family = 'ipv4';
    canonical = addr;
  } else {
    const groups = ipv6Groups(addr);
    if (groups === null) throw new Error(`invalid CIDR "${text}": not an IP address`);
    family = 'ipv6';
    canonical = groups.map((g) => g.toString(16)).join(':');
  }
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) throw new Error(`invalid CIDR "${text}": bad prefix length`);
  return [canonical, prefix, family];
}

/**
 * Builds the SSRF address policy. Blocks loopback, private, link-local, CGNAT, multicast,
 * unspecified, broadcast, reserved and cloud metadata addresses, including IPv4 ones written
 * as IPv6 (mapped, compatible, SIIT, NAT64, 6to4, Teredo), unless allowed by the options.
 */
export function createAddressPolicy(options: AddressPolicyOptions = {}): AddressPolicy {
  const compiled = ranges.map(compile);
  const metadataRanges = compiled.filter((r) => r.metadata);
  const allow = new BlockList();
  // Metadata and credential endpoints are unblocked only by an entry naming the endpoint
  // itself (a CIDR inside its range), never by a broad one such as 169.254.0.0/16 or ::/0.
  const allowMetadata = new BlockList();
  for (const cidr of options.allowCidrs ?? []) {
    const [net, prefix, family] = parseCidr(cidr);
    allow.addSubnet(net, prefix, family);
    const max = family === 'ipv4' ? 32 : 128;
    if (prefix === max && metadataRanges.some((r) => r.list.check(net, family))) allowMetadata.addAddress(net, family);
  }
  const allowPrivate = options.allowPrivate === true;

  const judge = (address: string, family: Family, shown: string): string | null => {
    for (const range of compiled) {
      if (!range.list.check(address, family)) continue;
      if (range.metadata ? allowMetadata.check(address, family) : allowPrivate || allow.check(address, family)) return null;
      return `${shown} is ${/^[aeiou]/.test(range.reason) ? 'an' : 'a'} ${range.reason}`;
    }
    return null;
  };

  return ({ address }) => {
    if (isIPv4(address)) return judge(address, 'ipv4', address);
    const groups = ipv6Groups(address);
    if (groups === null) return `${JSON.stringify(address.slice(0, 64))} is not an IP address`;
    const canonical = groups.map((g) => g.toString(16)).join(':');
    const v6 = judge(canonical, 'ipv6', address);
    if (v6 !== null) return v6;
    const inner = embeddedIPv4(groups);
    if (inner === null) return null;
    const v4 = judge(inner, 'ipv4', inner);
    if (v4 === null) return null;
    // An allow-list entry for the IPv6 spelling itself wins, except over a metadata endpoint.
    if (allow.check(canonical, 'ipv6') && !metadataRanges.some((r) => r.list.check(inner, 'ipv4'))) return null;
    return `${address} leads to ${v4}`;
  };
}
