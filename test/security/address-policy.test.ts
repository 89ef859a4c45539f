import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAddressPolicy, parseCidr } from '../../src/security/address-policy.ts';

const family = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);
const check = (policy: ReturnType<typeof createAddressPolicy>, address: string): string | null => policy({ address, family: family(address) });

// [address, fragment of the reason]
const blocked: [string, string][] = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['169.254.1.1', 'link-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['100.64.0.1', 'CGNAT'],
  ['100.127.255.254', 'CGNAT'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['ff02::1', 'multicast'],
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['255.255.255.255', 'broadcast'],
  ['169.254.169.254', 'metadata'],
  ['fd00:ec2::254', 'metadata'],
  ['240.0.0.1', 'reserved'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['2002:c0a8:101::1', 'private'],
  ['::10.0.0.1', 'private'],
];

const allowed = ['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2606:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808'];

for (const [address, reason] of blocked) {
  test(`ssrf: blocks ${address} as ${reason}`, () => {
    const why = check(createAddressPolicy(), address);
    assert.ok(why !== null, `${address} should be blocked`);
    assert.match(why, new RegExp(reason, 'i'));
  });
}

test('ssrf: allows public IPv4 and IPv6 addresses, also when written as IPv4-mapped IPv6', () => {
  const policy = createAddressPolicy();
  for (const address of allowed) assert.equal(check(policy, address), null, address);
});

test('ssrf: blocks a string that is not an IP address', () => {
  assert.match(check(createAddressPolicy(), 'localhost') ?? '', /not an IP address/);
});

test('ssrf: allowPrivate lifts internal ranges but keeps cloud metadata blocked', () => {
  const policy = createAddressPolicy({ allowPrivate: true });
  for (const address of ['127.0.0.1', '10.0.0.1', '192.168.0.1', 'fd12::1', '::ffff:127.0.0.1', '100.64.0.1']) {
    assert.equal(check(policy, address), null, address);
  }
  assert.match(check(policy, '169.254.169.254') ?? '', /metadata/);
  assert.match(check(policy, 'fd00:ec2::254') ?? '', /metadata/);
  assert.match(check(policy, '::ffff:169.254.169.254') ?? '', /metadata/);
});

test('ssrf: an allow-list CIDR permits exactly its range', () => {
  const policy = createAddressPolicy({ allowCidrs: ['10.20.0.0/16', 'fd12:3456::/32', '127.0.0.1'] });
  assert.equal(check(policy, '10.20.5.5'), null);
  assert.match(check(policy, '10.21.0.1') ?? '', /private/);
  assert.equal(check(policy, 'fd12:3456:1::1'), null);
  assert.match(check(policy, 'fd12:3457::1') ?? '', /private/);
  assert.equal(check(policy, '127.0.0.1'), null);
  assert.match(check(policy, '127.0.0.2') ?? '', /loopback/);
  assert.equal(check(policy, '::ffff:10.20.1.1'), null, 'an IPv4 allow-list entry also covers its IPv4-mapped spelling');
});

const credentialEndpoints = ['169.254.169.254', '169.254.170.2', '169.254.170.23', '100.100.100.200', 'fd00:ec2::254', 'fd00:ec2::23'];

test('ssrf: allowPrivate keeps every cloud metadata and credential endpoint blocked, in every IPv6 spelling', () => {
  const policy = createAddressPolicy({ allowPrivate: true });
  const spellings = (a: string): string[] => {
    if (a.includes(':')) return [a];
    const [o0, o1, o2, o3] = a.split('.').map(Number) as [number, number, number, number];
    const hi = ((o0 << 8) | o1).toString(16);
    const lo = ((o2 << 8) | o3).toString(16);
    const thi = (((o0 << 8) | o1) ^ 0xffff).toString(16);
    const tlo = (((o2 << 8) | o3) ^ 0xffff).toString(16);
    return [a, `::ffff:${a}`, `::ffff:0:${a}`, `::ffff:0:${hi}:${lo}`, `64:ff9b::${hi}:${lo}`, `2002:${hi}:${lo}::1`, `2001:0:4136:e378:8000:63bf:${thi}:${tlo}`];
  };
  for (const endpoint of credentialEndpoints) {
    for (const address of spellings(endpoint)) assert.match(check(policy, address) ?? '', /metadata or credential endpoint/, address);
  }
});

test('ssrf: decodes SIIT (::ffff:0:0/96) and Teredo (2001::/32) addresses to the IPv4 inside', () => {
  const policy = createAddressPolicy();
  assert.match(check(policy, '::ffff:0:10.1.2.3') ?? '', /leads to 10\.1\.2\.3 is a private/);
  assert.match(check(policy, '::ffff:0:7f00:1') ?? '', /loopback/);
  // Teredo client 192.168.1.1 is stored inverted: 3f57:fefe.
  assert.match(check(policy, '2001:0:4136:e378:8000:63bf:3f57:fefe') ?? '', /leads to 192\.168\.1\.1 is a private/);
  assert.equal(check(policy, '2001:0:4136:e378:8000:63bf:f7f7:f7f7'), null, 'Teredo client 8.8.8.8 is public');
  assert.equal(check(policy, '::ffff:0:8.8.8.8'), null);
});

test('ssrf: only an allow-list entry naming the endpoint itself unblocks a credential endpoint', () => {
  const broad = createAddressPolicy({ allowPrivate: true, allowCidrs: ['169.254.0.0/16', '100.64.0.0/10', 'fd00::/8', '::/0', '0.0.0.0/0'] });
  for (const endpoint of credentialEndpoints) assert.match(check(broad, endpoint) ?? '', /metadata/, endpoint);
  assert.match(check(broad, '::ffff:169.254.170.2') ?? '', /metadata/);
  const exact = createAddressPolicy({ allowCidrs: ['169.254.170.2/32', 'fd00:ec2::23'] });
  assert.equal(check(exact, '169.254.170.2'), null);
  assert.equal(check(exact, 'fd00:ec2::23'), null);
  assert.match(check(exact, '169.254.170.23') ?? '', /metadata/);
});

test('ssrf: an explicit allow-list entry can permit the metadata address', () => {
  assert.equal(check(createAddressPolicy({ allowCidrs: ['169.254.169.254/32'] }), '169.254.169.254'), null);
});

test('ssrf: parseCidr rejects malformed entries', () => {
  for (const bad of ['10.0.0.0/33', 'fd00::/129', 'example.com/8', '10.0.0.0/8/1', '10.0.0.0/x', '']) {
    assert.throws(() => parseCidr(bad), /invalid CIDR/, bad);
  }
  assert.deepEqual(parseCidr(' 10.0.0.0/8 '), ['10.0.0.0', 8, 'ipv4']);
  assert.throws(() => createAddressPolicy({ allowCidrs: ['nope'] }), /invalid CIDR/);
});

test('ssrf: the refusal names the range in plain English ("an unspecified address", "a loopback address")', () => {
  const policy = createAddressPolicy();
  assert.equal(policy({ address: '0.0.0.0', family: 4 }), '0.0.0.0 is an unspecified address');
  assert.equal(policy({ address: '127.0.0.1', family: 4 }), '127.0.0.1 is a loopback address');
});
