import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { rr, startFakeDns, table, type FakeDns } from '../helpers/fake-dns.ts';
import { startFakeServer, type FakeServer } from '../helpers/fake-server.ts';
import { creds, makeCa, makeLeaf } from '../helpers/pki.ts';
import { testIO } from './cli-io.ts';

const root = await makeCa();
const leaf = await makeLeaf(root, { sans: ['imap.example.test'], days: 10 });
const dir = mkdtempSync(join(tmpdir(), 'certwatch-mail-'));
const caFile = join(dir, 'root.pem');
writeFileSync(caFile, root.certPem);

describe('check --mail', () => {
  let dns: FakeDns;
  let imap: FakeServer;
  before(async () => {
    imap = await startFakeServer(async (conn) => {
      const tls = conn.startTls(creds(leaf));
      tls.on('secure', () => tls.write('* OK IMAP ready\r\n'));
    });
    dns = await startFakeDns(
      table({
        'MX null.test': { answers: [rr('MX', 'null.test', { preference: 0, exchange: '.' })] },
        'MX mail.test': { answers: [rr('MX', 'mail.test', { preference: 10, exchange: 'mx.mail.test' })] },
        'SRV _imaps._tcp.mail.test': { answers: [rr('SRV', '_imaps._tcp.mail.test', { priority: 0, weight: 0, port: imap.port, target: 'imap.example.test' })] },
        'A imap.example.test': { answers: [rr('A', 'imap.example.test', '127.0.0.1')] },
        'AAAA imap.example.test': { answers: [] },
        'MX broken.test': { rcode: 'SERVFAIL' },
        'MX meta.test': { answers: [rr('MX', 'meta.test', { preference: 10, exchange: 'mx.meta.test' })] },
        'A mx.meta.test': { answers: [rr('A', 'mx.meta.test', '169.254.169.254')] },
        'AAAA mx.meta.test': { answers: [] },
      }),
    );
  });
  after(async () => {
    await Promise.all([dns.close(), imap.close()]);
  });
  const run = async (...args: string[]) => {
    const io = testIO();
    const code = await main(['check', '--dns-server', `127.0.0.1:${dns.port}`, '--timeout', '2000', ...args], io);
    return { code, out: io.stdout.text, err: io.stderr.text };
  };

  it('check --mail: a null MX domain prints its tree and exits 0', async () => {
    const r = await run('--mail', 'null.test');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^OK {2}null\.test {2}\(null MX; MTA-STS none; TLS-RPT none\)\n│ {2}NULL_MX \(note\)/);
  });

  it('check --mail: prints each host under the domain with days left and exits with the worst status', async () => {
    const r = await run('--mail', 'mail.test', '--ca', caFile);
    // The MX has no address (NXDOMAIN): it cannot be checked (3); the SRV host expires in 10 days.
    assert.equal(r.code, 3, r.out + r.err);
    assert.match(r.out, /├─ mx 10 {2}mx\.mail\.test:25 {2}UNKNOWN {2}no certificate/);
    assert.match(r.out, /DNS_FAILED: mx\.mail\.test:25: cannot resolve mx\.mail\.test \(NXDOMAIN\)/);
    assert.match(r.out, /└─ _imaps\._tcp {2}imap\.example\.test:\d+ {2}WARNING {2}\d+ days/);
    assert.match(r.out, /EXPIRES_SOON \(warning\)/);
  });

  it('check --mail --json prints one report per domain; DNS failures are critical (exit 2)', async () => {
    const r = await run('--json', '--mail', 'broken.test', '--mail', 'null.test');
    assert.equal(r.code, 2, r.err);
    const reports = JSON.parse(r.out) as { domain: string; status: string; findings: { code: string; message: string }[] }[];
    assert.deepEqual(reports.map((x) => [x.domain, x.status]), [['broken.test', 'critical'], ['null.test', 'ok']]);
    assert.equal(reports[0]!.findings[0]!.code, 'DNS_FAILED');
    assert.match(reports[0]!.findings[0]!.message, /SERVFAIL/);
  });

  it('check --mail: an MX at the cloud metadata address is refused, never contacted, as for certificate URLs', async () => {
    const r = await run('--mail', 'meta.test');
    assert.equal(r.code, 3, r.out + r.err);
    assert.match(r.out, /BLOCKED_TARGET: mx\.meta\.test:25: 169\.254\.169\.254 is not allowed: 169\.254\.169\.254 is a cloud metadata or credential endpoint/);
  });

  it('check --mail: a bad domain or DNS server is a usage error (exit 3)', async () => {
    assert.match((await run('--mail', '192.0.2.1')).err, /not a mail domain/);
    const io = testIO();
    assert.equal(await main(['check', '--dns-server', 'dns.example', '--mail', 'x.test'], io), 3);
    assert.match(io.stderr.text, /not a DNS server address/);
  });
});
