import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { TrustStore } from '../../src/cert/trust.ts';
import { DnsCache } from '../../src/dns/cache.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { checkMailDomain, type MailCheckDeps, type MailReport } from '../../src/mail/check.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { rr, startFakeDns, type FakeAnswer, type FakeDns } from '../helpers/fake-dns.ts';
import { startPolicyServer, startSmtpTls, type FakePolicyServer } from '../helpers/fake-mail.ts';
import type { FakeServer } from '../helpers/fake-server.ts';
import { creds, makeCa, makeLeaf, type Issued } from '../helpers/pki.ts';

const root = await makeCa();
const inter = await makeCa({ issuer: root });
const mx1 = await makeLeaf(inter, { sans: ['mx1.example.test'] });
const mx2 = await makeLeaf(inter, { sans: ['mx2.example.test'], key: { type: 'ec', curve: 'P-384' } });
const stsLeaf = await makeLeaf(inter, { sans: ['mta-sts.example.test'] });
const badSts = await makeLeaf(inter, { sans: ['wrong.example.test'] });

const spki = (i: Issued): Buffer => new X509Certificate(i.der).publicKey.export({ type: 'spki', format: 'der' });
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const tlsa = (name: string, usage: number, selector: number, type: number, data: Buffer): FakeAnswer => ({
  ad: true,
  answers: [rr('TLSA', name, { usage, selector, matchingType: type, certificate: data })],
});
const codes = (r: MailReport): string[] => [...r.findings, ...r.hosts.flatMap((h) => h.findings)].map((f) => f.code).sort();

describe('mail domain check', () => {
  let dns: FakeDns;
  let smtp1: FakeServer;
  let smtp2: FakeServer;
  let policy: FakePolicyServer;
  let badPolicy: FakePolicyServer;
  const zone: Record<string, FakeAnswer> = {};
  const setZone = (entries: Record<string, FakeAnswer>): void => {
    for (const k of Object.keys(zone)) delete zone[k];
    Object.assign(zone, entries);
  };
  const base = (): Record<string, FakeAnswer> => ({
    'MX example.test': { ad: true, answers: [rr('MX', 'example.test', { preference: 20, exchange: 'mx2.example.test' }), rr('MX', 'example.test', { preference: 10, exchange: 'mx1.example.test' })] },
    // Signed MX hosts: DANE applies only to hosts whose addresses are secure (RFC 7672 section 2.2.2).
    'A mx1.example.test': { ad: true, answers: [rr('A', 'mx1.example.test', '127.0.0.1')] },
    'A mx2.example.test': { ad: true, answers: [rr('A', 'mx2.example.test', '127.0.0.1')] },
    'AAAA mx1.example.test': { ad: true, answers: [] },
    'AAAA mx2.example.test': { ad: true, answers: [] },
    'A mta-sts.example.test': { answers: [rr('A', 'mta-sts.example.test', '127.0.0.1')] },
    'AAAA mta-sts.example.test': { answers: [] },
  });
  const deps = (over: Partial<MailCheckDeps> = {}): MailCheckDeps => ({
    dns: new DnsCache(new DnsClient({ servers: [dns.server], timeoutMs: 1000 })).run(),
    trust: TrustStore.fromPem(root.certPem),
    policyCa: [root.certPem],
    timeoutMs: 3000,
    warnDays: 30,
    critDays: 7,
    smtpPort: (h) => (h === 'mx1.example.test' ? smtp1.port : smtp2.port),
    policyPort: policy.port,
    ...over,
  });

  before(async () => {
    dns = await startFakeDns((name, type) => zone[`${type} ${name}`]);
    smtp1 = await startSmtpTls(creds(mx1, inter), 'mx1.example.test');
    smtp2 = await startSmtpTls(creds(mx2, inter), 'mx2.example.test');
    policy = await startPolicyServer(creds(stsLeaf, inter), 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: *.example.test\r\nmax_age: 86400\r\n');
    badPolicy = await startPolicyServer(creds(badSts, inter), 'version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n');
  });
  after(async () => {
    await Promise.all([dns.close(), smtp1.close(), smtp2.close(), policy.close(), badPolicy.close()]);
  });

  it('mail: probes MX hosts in preference order on SMTP STARTTLS with SNI = the MX name', async () => {
    setZone(base());
    const r = await checkMailDomain('example.test', deps());
    assert.equal(r.source, 'mx');
    assert.deepEqual(r.hosts.map((h) => [h.label, h.host]), [['mx 10', 'mx1.example.test'], ['mx 20', 'mx2.example.test']]);
    for (const h of r.hosts) {
      assert.equal(h.target.protocol, 'smtp');
      assert.equal(h.target.mode, 'starttls');
      assert.equal(h.target.servername, h.host);
      assert.equal(h.status, 'ok', JSON.stringify(h.results[0]?.error));
      assert.ok(h.daysLeft !== null && h.daysLeft > 300);
    }
    assert.equal(r.status, 'ok');
    assert.deepEqual(codes(r), []);
  });

  it('mail: DANE-EE 3 1 1 and DANE-TA 2 1 1 records that match give no finding', async () => {
    setZone({ ...base(), 'TLSA _25._tcp.mx1.example.test': tlsa('_25._tcp.mx1.example.test', 3, 1, 1, sha256(spki(mx1))), 'TLSA _25._tcp.mx2.example.test': tlsa('_25._tcp.mx2.example.test', 2, 1, 1, sha256(spki(inter))) });
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(r.hosts.map((h) => h.dane?.state), ['match', 'match']);
    assert.deepEqual(codes(r), []);
  });

  it('mail: a TLSA record that matches no certificate of the chain is DANE_MISMATCH (critical)', async () => {
    setZone({ ...base(), 'TLSA _25._tcp.mx1.example.test': tlsa('_25._tcp.mx1.example.test', 3, 1, 1, sha256(spki(mx2))), 'TLSA _25._tcp.mx2.example.test': tlsa('_25._tcp.mx2.example.test', 2, 0, 1, sha256(root.der)) });
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(r.hosts.map((h) => h.dane?.state), ['mismatch', 'mismatch'], 'the root was not sent, so 2 0 1 of it cannot match');
    assert.deepEqual(codes(r), ['DANE_MISMATCH', 'DANE_MISMATCH']);
    assert.equal(r.status, 'critical');
  });

  it('mail: DANE-TA "2 0 0" and "2 1 0" records carry the trust anchor in full, so it may be absent from the chain (RFC 7671 section 5.2.2)', async () => {
    // The servers send leaf + intermediate; the root is only in DNS.
    setZone({ ...base(), 'TLSA _25._tcp.mx1.example.test': tlsa('_25._tcp.mx1.example.test', 2, 0, 0, root.der), 'TLSA _25._tcp.mx2.example.test': tlsa('_25._tcp.mx2.example.test', 2, 1, 0, spki(root)) });
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(r.hosts.map((h) => h.dane?.state), ['match', 'match']);
    assert.deepEqual(codes(r), []);
    // A full record of a certificate that issued nothing in the chain still does not match.
    setZone({ ...base(), 'TLSA _25._tcp.mx2.example.test': tlsa('_25._tcp.mx2.example.test', 2, 0, 0, mx1.der) });
    const bad = await checkMailDomain('example.test', deps());
    assert.equal(bad.hosts[1]!.dane?.state, 'mismatch');
  });

  it('mail: unsigned TLSA answers are ignored with a note; PKIX usages are unusable', async () => {
    setZone({
      ...base(),
      'TLSA _25._tcp.mx1.example.test': { ...tlsa('_25._tcp.mx1.example.test', 3, 1, 1, sha256(spki(mx2))), ad: false },
      'TLSA _25._tcp.mx2.example.test': tlsa('_25._tcp.mx2.example.test', 1, 1, 1, sha256(spki(mx2))),
    });
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(r.hosts.map((h) => h.dane?.state), ['unsigned', 'unusable']);
    assert.deepEqual(codes(r), ['DANE_UNSIGNED', 'DANE_UNUSABLE']);
    assert.equal(r.status, 'warning');
  });

  it('mail: with MX addresses that are not DNSSEC-authenticated DANE does not apply: TLSA records are a note and a failing TLSA lookup is no finding (RFC 7672 section 2.2.2)', async () => {
    setZone({
      ...base(),
      'A mx1.example.test': { answers: [rr('A', 'mx1.example.test', '127.0.0.1')] },
      'A mx2.example.test': { answers: [rr('A', 'mx2.example.test', '127.0.0.1')] },
      'TLSA _25._tcp.mx1.example.test': tlsa('_25._tcp.mx1.example.test', 3, 1, 1, sha256(spki(mx2))),
      'TLSA _25._tcp.mx2.example.test': { rcode: 'SERVFAIL' },
    });
    const r = await checkMailDomain('example.test', deps());
    assert.equal(r.hosts[0]!.dane?.state, 'unsigned');
    assert.match(r.hosts[0]!.findings[0]?.message ?? '', /address records are not DNSSEC-authenticated/);
    assert.notEqual(r.hosts[1]!.dane?.state, 'error');
    assert.deepEqual(codes(r), ['DANE_UNSIGNED']);
    assert.equal(r.status, 'ok');
  });

  it('mail: for an MX name that is a secure CNAME the TLSA records of the expanded name are used first, then those of the MX name (RFC 7672 section 2.2.2)', async () => {
    const aliased = (): Record<string, FakeAnswer> => ({
      ...base(),
      'A mx1.example.test': { ad: true, answers: [rr('CNAME', 'mx1.example.test', 'real1.example.test'), rr('A', 'real1.example.test', '127.0.0.1')] },
      'AAAA mx1.example.test': { ad: true, answers: [rr('CNAME', 'mx1.example.test', 'real1.example.test')] },
    });
    setZone({ ...aliased(), 'TLSA _25._tcp.real1.example.test': tlsa('_25._tcp.real1.example.test', 3, 1, 1, sha256(spki(mx2))), 'TLSA _25._tcp.mx1.example.test': tlsa('_25._tcp.mx1.example.test', 3, 1, 1, sha256(spki(mx1))) });
    const r = await checkMailDomain('example.test', deps());
    assert.equal(r.hosts[0]!.dane?.state, 'mismatch', 'the records at the expanded name are the ones senders use');
    assert.match(r.hosts[0]!.findings.find((f) => f.code === 'DANE_MISMATCH')?.message ?? '', /_25\._tcp\.real1\.example\.test/);
    setZone({ ...aliased(), 'TLSA _25._tcp.mx1.example.test': tlsa('_25._tcp.mx1.example.test', 2, 1, 1, sha256(spki(inter))) });
    const back = await checkMailDomain('example.test', deps());
    assert.equal(back.hosts[0]!.dane?.state, 'match', 'none at the expanded name: the MX name\'s records');
    assert.deepEqual(codes(back), []);
  });

  it('mail: for an MX name that is a secure CNAME with DANE records at the expanded name, the SNI sent is that TLSA base domain (RFC 7672 section 8.1); without DANE it is the MX name', async () => {
    const sni: (string | false)[] = [];
    const aliasedSmtp = await startSmtpTls(creds(mx1, inter), 'mx1.example.test', (name) => sni.push(name));
    try {
      const aliased = (ad: boolean): Record<string, FakeAnswer> => ({
        'MX example.test': { ad: true, answers: [rr('MX', 'example.test', { preference: 10, exchange: 'mx1.example.test' })] },
        'A mx1.example.test': { ad, answers: [rr('CNAME', 'mx1.example.test', 'real1.example.test'), rr('A', 'real1.example.test', '127.0.0.1')] },
        'AAAA mx1.example.test': { ad, answers: [rr('CNAME', 'mx1.example.test', 'real1.example.test')] },
        'TLSA _25._tcp.real1.example.test': { ...tlsa('_25._tcp.real1.example.test', 3, 1, 1, sha256(spki(mx1))), ad },
      });
      setZone(aliased(true));
      const r = await checkMailDomain('example.test', deps({ smtpPort: () => aliasedSmtp.port }));
      assert.equal(r.hosts[0]!.dane?.state, 'match');
      assert.deepEqual(sni, ['real1.example.test']);
      assert.equal(r.hosts[0]!.results[0]?.hostnameMatch, true, 'the certificate is still checked against the MX name');
      sni.length = 0;
      setZone(aliased(false));
      await checkMailDomain('example.test', deps({ smtpPort: () => aliasedSmtp.port }));
      assert.deepEqual(sni, ['mx1.example.test'], 'DANE does not apply to unsigned names');
    } finally {
      await aliasedSmtp.close();
    }
  });

  it('mail: a TLSA lookup that fails is DNS_FAILED naming SERVFAIL', async () => {
    setZone({ ...base(), 'TLSA _25._tcp.mx1.example.test': { rcode: 'SERVFAIL' } });
    const r = await checkMailDomain('example.test', deps());
    const f = r.hosts[0]!.findings.find((x) => x.code === 'DNS_FAILED');
    assert.match(f?.message ?? '', /SERVFAIL/);
  });

  it('mail: "3 0 1" as the only match is a rollover hazard', async () => {
    setZone({ ...base(), 'TLSA _25._tcp.mx1.example.test': tlsa('_25._tcp.mx1.example.test', 3, 0, 1, sha256(mx1.der)) });
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(codes(r), ['DANE_ROLLOVER_HAZARD']);
  });

  it('mail: MTA-STS enforce with matching mx patterns passes; a pattern that misses an MX is critical', async () => {
    const withSts = { ...base(), 'TXT _mta-sts.example.test': { answers: [rr('TXT', '_mta-sts.example.test', ['v=STSv1; id=20260101'])] }, 'TXT _smtp._tls.example.test': { answers: [rr('TXT', '_smtp._tls.example.test', ['v=TLSRPTv1; rua=mailto:tls@example.test'])] } };
    setZone(withSts);
    const ok = await checkMailDomain('example.test', deps());
    assert.equal(ok.mtaSts.state, 'valid');
    assert.equal(ok.mtaSts.policy?.mode, 'enforce');
    assert.equal(ok.tlsRpt.state, 'valid');
    assert.deepEqual(codes(ok), []);
    policy.body = 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n';
    try {
      const bad = await checkMailDomain('example.test', deps());
      assert.deepEqual(codes(bad), ['MTA_STS_MISMATCH']);
      assert.equal(bad.hosts[1]!.status, 'critical');
    } finally {
      policy.body = 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: *.example.test\r\nmax_age: 86400\r\n';
    }
  });

  it('mail: a policy host with a certificate for another name, a redirect, or an oversized policy is MTA_STS_UNAVAILABLE', async () => {
    setZone({ ...base(), 'TXT _mta-sts.example.test': { answers: [rr('TXT', '_mta-sts.example.test', ['v=STSv1; id=1'])] } });
    const bad = await checkMailDomain('example.test', deps({ policyPort: badPolicy.port }));
    assert.deepEqual(codes(bad), ['MTA_STS_UNAVAILABLE']);
    assert.match(bad.findings[0]!.message, /mta-sts\.example\.test/);
    const saved = policy.body;
    try {
      policy.status = 302;
      assert.match((await checkMailDomain('example.test', deps())).findings[0]?.message ?? '', /HTTP 302/);
      policy.status = 200;
      policy.body = 'x'.repeat(70_000);
      assert.match((await checkMailDomain('example.test', deps())).findings[0]?.message ?? '', /larger than/);
    } finally {
      policy.status = 200;
      policy.body = saved;
    }
  });

  it('mail: the MTA-STS policy is fetched from the next address of the policy host when the first refuses the connection, each address under the SSRF policy', async () => {
    // Nothing listens on 127.0.0.2 at the policy port, so the first address refuses.
    setZone({ ...base(), 'A mta-sts.example.test': { answers: [rr('A', 'mta-sts.example.test', '127.0.0.2'), rr('A', 'mta-sts.example.test', '127.0.0.1')] }, 'TXT _mta-sts.example.test': { answers: [rr('TXT', '_mta-sts.example.test', ['v=STSv1; id=1'])] } });
    const r = await checkMailDomain('example.test', deps());
    assert.equal(r.mtaSts.state, 'valid', JSON.stringify(r.findings));
    assert.deepEqual(codes(r), []);
    // Only the refusing address allowed: the failure names both, the refusal and the block.
    const blocked = await checkMailDomain('example.test', deps({ addressPolicy: (a) => (a.address === '127.0.0.2' ? null : 'not on the list') }));
    const f = blocked.findings.find((x) => x.code === 'MTA_STS_UNAVAILABLE');
    assert.match(f?.message ?? '', /127\.0\.0\.2.*ECONNREFUSED/);
    assert.match(f?.message ?? '', /127\.0\.0\.1 is not allowed \(not on the list\)/);
  });

  it('mail: the SSRF policy blocks loopback MX hosts and the policy host', async () => {
    setZone({ ...base(), 'TXT _mta-sts.example.test': { answers: [rr('TXT', '_mta-sts.example.test', ['v=STSv1; id=1'])] } });
    const r = await checkMailDomain('example.test', deps({ addressPolicy: createAddressPolicy() }));
    assert.deepEqual(r.hosts.map((h) => h.results[0]?.error?.code), ['BLOCKED_TARGET', 'BLOCKED_TARGET']);
    assert.match(r.findings.find((f) => f.code === 'MTA_STS_UNAVAILABLE')?.message ?? '', /loopback/);
  });

  it('mail: invalid MTA-STS and TLS-RPT records are reported', async () => {
    setZone({ ...base(), 'TXT _mta-sts.example.test': { answers: [rr('TXT', '_mta-sts.example.test', ['v=STSv1; id=bad-id!'])] }, 'TXT _smtp._tls.example.test': { answers: [rr('TXT', '_smtp._tls.example.test', ['v=TLSRPTv1; rua=ftp://x'])] } });
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(codes(r), ['MTA_STS_INVALID', 'TLSRPT_INVALID']);
  });

  it('mail: a TLS-RPT lookup that fails is DNS_FAILED naming the cause, while NODATA is no TLS-RPT', async () => {
    setZone({ ...base(), 'TXT _smtp._tls.example.test': { rcode: 'SERVFAIL' } });
    const r = await checkMailDomain('example.test', deps());
    assert.equal(r.tlsRpt.state, 'unavailable');
    assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['DNS_FAILED', 'critical']]);
    assert.match(r.findings[0]!.message, /^TXT _smtp\._tls\.example\.test: SERVFAIL/);
    setZone({ ...base(), 'TXT _smtp._tls.example.test': { answers: [] } });
    const none = await checkMailDomain('example.test', deps());
    assert.equal(none.tlsRpt.state, 'none');
    assert.deepEqual(codes(none), []);
  });

  it('mail: a null MX (RFC 7505) is a note and nothing is probed', async () => {
    setZone({ 'MX example.test': { answers: [rr('MX', 'example.test', { preference: 0, exchange: '.' })] } });
    const r = await checkMailDomain('example.test', deps());
    assert.equal(r.source, 'null-mx');
    assert.deepEqual(r.hosts, []);
    assert.deepEqual(codes(r), ['NULL_MX']);
    assert.equal(r.status, 'ok');
  });

  it('mail: without MX the domain itself is the implicit MX (RFC 5321)', async () => {
    setZone({ 'MX example.test': { answers: [] }, 'A example.test': { answers: [rr('A', 'example.test', '127.0.0.1')] }, 'AAAA example.test': { answers: [] } });
    const r = await checkMailDomain('example.test', deps({ smtpPort: () => smtp1.port }));
    assert.equal(r.source, 'implicit');
    assert.deepEqual(r.hosts.map((h) => h.host), ['example.test']);
    assert.deepEqual(codes(r), ['NO_MX']);
    assert.equal(r.hosts[0]!.results[0]?.problems[0]?.code, 'HOSTNAME_MISMATCH');
  });

  it('mail: an MX lookup that fails is DNS_FAILED naming the cause', async () => {
    setZone({ 'MX example.test': { rcode: 'SERVFAIL' } });
    const r = await checkMailDomain('example.test', deps());
    assert.equal(r.findings[0]?.code, 'DNS_FAILED');
    assert.match(r.findings[0]!.message, /SERVFAIL/);
    assert.equal(r.status, 'critical');
  });

  it('mail: an MX or SRV target that is not a host name is DNS_FAILED naming it, and the other hosts are still checked', async () => {
    // Labels may hold any octet: a hostile zone must not turn the whole check into an exception.
    const names = ['mx one.example.test', 'a/b.example.test', 'x@y.example.test', 'a:25.example.test'];
    setZone({
      ...base(),
      'MX example.test': { answers: [rr('MX', 'example.test', { preference: 10, exchange: 'mx1.example.test' }), ...names.map((n, i) => rr('MX', 'example.test', { preference: 20 + i, exchange: n }))] },
      'SRV _imaps._tcp.example.test': { answers: [rr('SRV', '_imaps._tcp.example.test', { priority: 0, weight: 1, port: 993, target: 'imap\u0000.example.test' })] },
    });
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(r.hosts.map((h) => h.host), ['mx1.example.test']);
    assert.equal(r.hosts[0]!.status, 'ok');
    const bad = r.findings.filter((f) => f.code === 'DNS_FAILED');
    assert.equal(bad.length, names.length + 1, JSON.stringify(r.findings));
    for (const n of names) assert.ok(bad.some((f) => f.message.includes(`"${n}" is not a valid host name`)), n);
    assert.match(bad.find((f) => f.message.startsWith('SRV'))?.message ?? '', /^SRV _imaps\._tcp\.example\.test: "imap\?\.example\.test" is not a valid host name/);
    assert.equal(r.status, 'critical');
  });

  it('mail: an MX that names an IP address literal is DNS_FAILED and not probed (RFC 5321 section 5.1: senders look it up as a name)', async () => {
    setZone({
      ...base(),
      'MX example.test': { answers: [rr('MX', 'example.test', { preference: 10, exchange: 'mx1.example.test' }), rr('MX', 'example.test', { preference: 20, exchange: '127.0.0.1' })] },
    });
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(r.hosts.map((h) => h.host), ['mx1.example.test']);
    const f = r.findings.filter((x) => x.code === 'DNS_FAILED');
    assert.equal(f.length, 1, JSON.stringify(r.findings));
    assert.match(f[0]!.message, /^MX 20 of example\.test: "127\.0\.0\.1" is an IP address/);
    assert.equal(r.status, 'critical');
  });

  it('mail: SRV services are discovered and probed in parallel with the MX hosts, one query per name and type', async () => {
    setZone({
      ...base(),
      'SRV _imaps._tcp.example.test': { answers: [rr('SRV', '_imaps._tcp.example.test', { priority: 0, weight: 1, port: smtp1.port, target: 'mx1.example.test' })] },
      'SRV _submission._tcp.example.test': { answers: [rr('SRV', '_submission._tcp.example.test', { priority: 0, weight: 1, port: smtp2.port, target: 'mx2.example.test' })] },
      'SRV _pop3._tcp.example.test': { answers: [rr('SRV', '_pop3._tcp.example.test', { priority: 0, weight: 0, port: 0, target: '.' })] },
    });
    const before = dns.log.length;
    const r = await checkMailDomain('example.test', deps());
    assert.deepEqual(r.hosts.map((h) => `${h.label} ${h.target.protocol}/${h.target.mode}`), ['mx 10 smtp/starttls', 'mx 20 smtp/starttls', '_submission._tcp smtp/starttls', '_imaps._tcp imap/implicit']);
    const asked = dns.log.slice(before).map((l) => l.replace(/\/(udp|tcp)$/, ''));
    assert.equal(new Set(asked).size, asked.length, `duplicate queries: ${asked.join(', ')}`);
  });
});
