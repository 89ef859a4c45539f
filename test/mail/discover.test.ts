// Discovery against a stub resolver: which hosts a domain's DNS yields, run after run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discover } from '../../src/mail/discover.ts';
import type { DnsResolver, DnsResult, RecordData, RecordType, SrvRecord } from '../../src/dns/types.ts';

/** A resolver answering SRV `_imaps._tcp.example.test` with `srv`, everything else NODATA. */
function resolver(srv: SrvRecord[]): DnsResolver {
  return {
    async query<T extends RecordType>(name: string, type: T): Promise<DnsResult<T>> {
      if (type === 'SRV' && name === '_imaps._tcp.example.test') return { ok: true, name, type, records: srv as RecordData[T][], authenticated: false, ttl: 300 };
      if (type === 'MX') return { ok: true, name, type, records: [{ preference: 10, exchange: 'mx.example.test' }] as RecordData[T][], authenticated: false, ttl: 300 };
      return { ok: false, name, type, code: 'NODATA', message: 'no records', authenticated: false, ttl: 300 };
    },
  };
}

describe('mail discovery', () => {
  it('discover: more SRV targets of equal priority and weight than the cap keep the same ones whatever order the resolver rotates them into', async () => {
    const records: SrvRecord[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => ({ priority: 0, weight: 0, port: 993, target: `${n}.example.test` }));
    const kept = async (order: SrvRecord[]): Promise<string[]> => (await discover('example.test', resolver(order))).services.map((s) => s.host).sort();
    const first = await kept(records);
    assert.equal(first.length, 4);
    for (let shift = 1; shift < records.length; shift++) {
      assert.deepEqual(await kept([...records.slice(shift), ...records.slice(0, shift)]), first, `rotated by ${shift}`);
    }
  });
});

describe('mail discovery: a domain that does not resolve', () => {
  it('discover: when the domain itself is NXDOMAIN, its SRV services are unknown like its MX hosts, not gone, under one DNS_FAILED', async () => {
    const nx: DnsResolver = {
      async query<T extends RecordType>(name: string, type: T): Promise<DnsResult<T>> {
        return { ok: false, name, type, code: 'NXDOMAIN', message: 'no such name', authenticated: false, ttl: 300 };
      },
    };
    const found = await discover('example.test', nx);
    assert.deepEqual(found.failed, ['MX', '_submissions._tcp', '_submission._tcp', '_imaps._tcp', '_imap._tcp', '_pop3s._tcp', '_pop3._tcp']);
    assert.deepEqual(found.findings.map((f) => f.message), ['MX of example.test: NXDOMAIN (no such name)']);
  });

  it('discover: a domain with MX records and no SRV records has no services and no failed lookup', async () => {
    const found = await discover('example.test', resolver([]));
    assert.deepEqual(found.failed, []);
    assert.deepEqual(found.services, []);
  });
});

describe('mail discovery: a null MX beside other MX records', () => {
  it('discover: a null MX published with other MX records is a NULL_MX_MIXED warning naming them, and the other hosts are kept as senders use them (RFC 7505 section 3)', async () => {
    const mixed: DnsResolver = {
      async query<T extends RecordType>(name: string, type: T): Promise<DnsResult<T>> {
        if (type === 'MX') return { ok: true, name, type, records: [{ preference: 10, exchange: 'mx.example.test' }, { preference: 0, exchange: '' }] as RecordData[T][], authenticated: false, ttl: 300 };
        return { ok: false, name, type, code: 'NODATA', message: 'no records', authenticated: false, ttl: 300 };
      },
    };
    const found = await discover('example.test', mixed);
    assert.equal(found.source, 'mx');
    assert.deepEqual(found.mx, [{ host: 'mx.example.test', preference: 10 }]);
    assert.deepEqual(found.findings.map((f) => [f.code, f.severity]), [['NULL_MX_MIXED', 'warning']]);
    assert.match(found.findings[0]!.message, /\(MX 0 \., MX 10 mx\.example\.test\)/);
  });
});
