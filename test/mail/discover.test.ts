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
