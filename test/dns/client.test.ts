import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DnsCache } from '../../src/dns/cache.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { parseResolvConf, parseServer } from '../../src/dns/system.ts';
import type { DnsResult } from '../../src/dns/types.ts';
import { rr, startFakeDns, table, type FakeDns } from '../helpers/fake-dns.ts';

const tlsaData = Buffer.alloc(32, 0xab);
const zone = table({
  'MX example.test': { ad: true, answers: [rr('MX', 'example.test', { preference: 10, exchange: 'mx1.example.test.' }, 120), rr('MX', 'example.test', { preference: 5, exchange: 'MX0.example.test' }, 60)] },
  'TLSA _25._tcp.mx1.example.test': { ad: true, answers: [rr('TLSA', '_25._tcp.mx1.example.test', { usage: 3, selector: 1, matchingType: 1, certificate: tlsaData })] },
  'TXT _mta-sts.example.test': { answers: [rr('TXT', '_mta-sts.example.test', [Buffer.from('v=STSv1; '), Buffer.from('id=20240101')])] },
  'SRV _imaps._tcp.example.test': { answers: [rr('SRV', '_imaps._tcp.example.test', { priority: 0, weight: 1, port: 993, target: 'imap.example.test' })] },
  'A big.example.test': { truncate: true, answers: Array.from({ length: 80 }, (_, i) => rr('A', 'big.example.test', `192.0.2.${i + 1}`)) },
  'A nodata.example.test': { answers: [] },
  'A broken.example.test': { rcode: 'SERVFAIL' },
  'A refused.example.test': { rcode: 'REFUSED' },
  'A silent.example.test': { drop: true },
  'A garbage.example.test': { raw: Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]) },
  'A spoofed.example.test': { wrongId: true, answers: [rr('A', 'spoofed.example.test', '192.0.2.66')] },
  'A other.example.test': { otherName: 'evil.test', answers: [rr('A', 'evil.test', '192.0.2.66')] },
  'A cname.example.test': { answers: [rr('CNAME', 'cname.example.test', 'target.example.test'), rr('A', 'target.example.test', '192.0.2.7')] },
  'A huge-ttl.example.test': { answers: [rr('A', 'huge-ttl.example.test', '192.0.2.8', 2 ** 31 - 1)] },
});

describe('dns client', () => {
  let dns: FakeDns;
  let client: DnsClient;
  before(async () => {
    dns = await startFakeDns(zone);
    client = new DnsClient({ servers: [dns.server], timeoutMs: 800, attemptMs: 300 });
  });
  after(() => dns.close());

  it('dns: returns MX records with the AD bit and the smallest TTL', async () => {
    const r = await client.query('Example.Test.', 'MX');
    assert.ok(r.ok);
    assert.equal(r.authenticated, true);
    assert.equal(r.ttl, 60);
    assert.deepEqual(r.records.map((m) => [m.preference, m.exchange]).sort(), [[10, 'mx1.example.test'], [5, 'mx0.example.test']]);
  });

  it('dns: decodes TLSA, TXT (strings joined) and SRV records', async () => {
    const t = await client.query('_25._tcp.mx1.example.test', 'TLSA');
    assert.ok(t.ok);
    assert.deepEqual(t.records, [{ usage: 3, selector: 1, matchingType: 1, data: tlsaData }]);
    const x = await client.query('_mta-sts.example.test', 'TXT');
    assert.ok(x.ok);
    assert.equal(x.authenticated, false);
    assert.deepEqual(x.records, ['v=STSv1; id=20240101']);
    const s = await client.query('_imaps._tcp.example.test', 'SRV');
    assert.ok(s.ok);
    assert.deepEqual(s.records, [{ priority: 0, weight: 1, port: 993, target: 'imap.example.test' }]);
  });

  it('dns: retries over TCP when the UDP answer is truncated', async () => {
    const r = await client.query('big.example.test', 'A');
    assert.ok(r.ok);
    assert.equal(r.records.length, 64, 'records beyond the cap are dropped');
    assert.ok(dns.log.includes('A big.example.test/tcp'));
  });

  it('dns: follows a CNAME in the answer and caps an absurd TTL at a day', async () => {
    const r = await client.query('cname.example.test', 'A');
    assert.ok(r.ok);
    assert.deepEqual(r.records, ['192.0.2.7']);
    assert.equal(r.canonicalName, 'target.example.test', 'the CNAME-expanded name (RFC 7672 section 2.2.2 needs it)');
    const h = await client.query('huge-ttl.example.test', 'A');
    assert.ok(h.ok);
    assert.equal(h.ttl, 86_400);
    assert.equal(h.canonicalName, undefined, 'no CNAME, no canonical name');
  });

  const failures: [string, string][] = [
    ['missing.example.test', 'NXDOMAIN'],
    ['nodata.example.test', 'NODATA'],
    ['broken.example.test', 'SERVFAIL'],
    ['refused.example.test', 'REFUSED'],
    ['silent.example.test', 'TIMEOUT'],
    ['garbage.example.test', 'MALFORMED'],
  ];
  for (const [name, code] of failures) {
    it(`dns: reports ${code} for ${name}`, async () => {
      const started = performance.now();
      const r = await client.query(name, 'A');
      assert.equal(r.ok, false);
      assert.equal((r as Extract<DnsResult, { ok: false }>).code, code);
      assert.match((r as Extract<DnsResult, { ok: false }>).message, new RegExp(name.replace(/\./g, '\\.')));
      assert.ok(performance.now() - started < 1500, 'within the deadline');
    });
  }

  it('dns: NXDOMAIN and NODATA carry the negative TTL from the SOA (RFC 2308)', async () => {
    const r = await client.query('nodata.example.test', 'A');
    assert.equal(r.ok, false);
    assert.equal(r.ttl, 60);
  });

  it('dns: ignores an answer with another id or for another question (no spoofed records)', async () => {
    for (const name of ['spoofed.example.test', 'other.example.test']) {
      const r = await client.query(name, 'A');
      assert.equal(r.ok, false, name);
      assert.notEqual((r as Extract<DnsResult, { ok: false }>).code, 'NXDOMAIN');
    }
  });

  it('dns: moves on to the next server when the first does not answer', async () => {
    const dead = { host: '127.0.0.1', port: 9 };
    const c = new DnsClient({ servers: [dead, dns.server], timeoutMs: 1500, attemptMs: 300 });
    const r = await c.query('example.test', 'MX');
    assert.ok(r.ok);
  });

  it('dns: asks a server that answered SERVFAIL or REFUSED only once (one query per name and type)', async () => {
    const asked: string[] = [];
    const counting = await startFakeDns((name, type, transport) => {
      asked.push(`${type} ${name}`);
      return zone(name, type, transport);
    });
    try {
      const c = new DnsClient({ servers: [counting.server], timeoutMs: 1500, attemptMs: 300 });
      for (const name of ['broken.example.test', 'refused.example.test']) assert.equal((await c.query(name, 'A')).ok, false);
      assert.deepEqual(asked, ['A broken.example.test', 'A refused.example.test']);
    } finally {
      await counting.close();
    }
  });

  it('dns: a name that cannot be encoded (label over 63 octets, name over 253, empty label) is MALFORMED at once, never sent', async () => {
    // Such names come from hostile answers: "_25._tcp." before a 253-character MX name, or a
    // label of U+FFFD that dns-packet decoded from 63 invalid bytes and that re-encodes as 189.
    const long = `_25._tcp.${['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.')}`;
    const c = new DnsClient({ servers: [dns.server], timeoutMs: 3000, attemptMs: 1000 });
    for (const name of [long, `${'\ufffd'.repeat(63)}.example.test`, `${'x'.repeat(64)}.example.test`, 'a..example.test']) {
      const before = dns.log.length;
      const started = performance.now();
      const r = await c.query(name, 'TLSA');
      assert.equal(r.ok, false, name);
      assert.equal((r as Extract<DnsResult, { ok: false }>).code, 'MALFORMED', r.ok ? '' : r.message);
      assert.match(r.ok ? '' : r.message, /not a valid DNS name/);
      assert.ok(performance.now() - started < 500, 'answered without waiting for a deadline');
      assert.equal(dns.log.length, before, 'nothing was sent');
    }
  });

  it('dns: honours the caller abort signal', async () => {
    const started = performance.now();
    const r = await new DnsClient({ servers: [dns.server], timeoutMs: 5000 }).query('silent.example.test', 'A', AbortSignal.timeout(100));
    assert.equal(r.ok, false);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('dns cache', () => {
  let dns: FakeDns;
  before(async () => {
    dns = await startFakeDns(zone);
  });
  after(() => dns.close());

  it('dns cache: one query per name and type in a run, reused across runs within the TTL', async () => {
    let now = 1_000_000;
    const cache = new DnsCache(new DnsClient({ servers: [dns.server], timeoutMs: 800 }), { now: () => now });
    const run1 = cache.run();
    await Promise.all([run1.query('example.test', 'MX'), run1.query('EXAMPLE.test.', 'MX'), run1.query('example.test', 'MX')]);
    assert.equal(dns.count('MX', 'example.test'), 1);
    now += 30_000;
    await cache.run().query('example.test', 'MX');
    assert.equal(dns.count('MX', 'example.test'), 1, 'within the 60 s TTL');
    now += 31_000;
    await cache.run().query('example.test', 'MX');
    assert.equal(dns.count('MX', 'example.test'), 2, 'after the TTL');
  });

  it('dns cache: errors are not kept across runs', async () => {
    const cache = new DnsCache(new DnsClient({ servers: [dns.server], timeoutMs: 800 }));
    await cache.run().query('broken.example.test', 'A');
    await cache.run().query('broken.example.test', 'A');
    assert.ok(dns.count('A', 'broken.example.test') >= 2);
  });
});

describe('dns servers', () => {
  it('dns: reads nameserver lines from resolv.conf and parses DNS_SERVERS entries', () => {
    assert.deepEqual(parseResolvConf('# c\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nsearch x\nnameserver ::1\n'), [
      { host: '10.0.0.2', port: 53 },
      { host: '::1', port: 53 },
    ]);
    assert.deepEqual(parseServer('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseServer('[::1]:53'), { host: '::1', port: 53 });
    assert.throws(() => parseServer('dns.example:53'), /not a DNS server address/);
  });
});
