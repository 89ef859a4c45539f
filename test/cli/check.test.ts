import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { startFakeServer, startTlsServer, type FakeServer } from '../helpers/fake-server.ts';
import { creds, makeCa, makeLeaf, type Issued } from '../helpers/pki.ts';
import { testIO } from './cli-io.ts';

const DAY = 86_400_000;

describe('certwatch check against loopback servers', () => {
  let dir: string;
  let caFile: string;
  let root: Issued;
  let leaf: Issued;
  const servers: FakeServer[] = [];
  let valid: FakeServer;
  let soon: FakeServer;
  let expired: FakeServer;
  let noStarttls: FakeServer;
  let silent: FakeServer;
  let refusedPort: number;
  let silentConnections = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certwatch-cli-'));
    root = await makeCa();
    const inter = await makeCa({ issuer: root });
    leaf = await makeLeaf(inter);
    const soonLeaf = await makeLeaf(inter, { days: 10 });
    const expiredLeaf = await makeLeaf(inter, { notBefore: new Date(Date.now() - 60 * DAY), notAfter: new Date(Date.now() - 2 * DAY) });
    caFile = join(dir, 'root.pem');
    await writeFile(caFile, root.certPem);
    valid = await startTlsServer(creds(leaf, inter));
    soon = await startTlsServer(creds(soonLeaf, inter));
    expired = await startTlsServer(creds(expiredLeaf, inter));
    noStarttls = await startFakeServer(async (c) => {
      c.write('220 mx.test ESMTP\r\n');
      await c.readLine();
      c.write('250-mx.test\r\n250 SIZE 1000000\r\n');
      await c.readLine();
      c.close();
    });
    silent = await startFakeServer(() => {
      silentConnections++;
    });
    const closed = await startFakeServer(() => {});
    refusedPort = closed.port;
    await closed.close();
    servers.push(valid, soon, expired, noStarttls, silent);
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const at = (s: FakeServer | number): string => `127.0.0.1:${typeof s === 'number' ? s : s.port}`;

  async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const io = testIO();
    const code = await main(['check', ...argv], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  }

  async function runJson(...argv: string[]): Promise<{ code: number; results: ProbeResult[] }> {
    const { code, stdout, stderr } = await run('--json', '--timeout', '3000', '--ca', caFile, ...argv);
    assert.equal(stderr, '');
    return { code, results: JSON.parse(stdout) as ProbeResult[] };
  }

  it('exit 0: a valid certificate trusted through --ca, with the JSON shape of the contract', async () => {
    const { code, results } = await runJson(at(valid), '--servername', 'localhost');
    assert.equal(code, 0);
    assert.equal(results.length, 1);
    const r = results[0]!;
    assert.deepEqual(Object.keys(r).sort(), [
      'address', 'certificate', 'chain', 'checkedAt', 'error', 'hostnameMatch', 'notes', 'problems', 'status', 'target', 'timings', 'tls', 'trusted',
    ]);
    assert.deepEqual(r.target, { input: at(valid), host: '127.0.0.1', port: valid.port, protocol: 'tls', mode: 'implicit', servername: 'localhost' });
    assert.equal(r.address, '127.0.0.1');
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.problems, []);
    assert.equal(r.error, null);
    assert.deepEqual(r.notes, []);
    assert.equal(r.trusted, true);
    assert.equal(r.hostnameMatch, true);
    assert.match(r.tls?.version ?? '', /^TLSv1\.[23]$/);
    assert.equal(typeof r.tls?.cipher, 'string');
    const cert = r.certificate!;
    for (const key of ['subject', 'issuer', 'sans', 'notBefore', 'notAfter', 'daysLeft', 'serialNumber', 'fingerprint256', 'keyType', 'keyBits', 'signatureAlgorithm', 'selfSigned']) {
      assert.ok(key in cert, `certificate.${key}`);
    }
    assert.equal(cert.fingerprint256, new X509Certificate(leaf.der).fingerprint256);
    assert.equal(cert.notAfter.slice(0, 10), leaf.cert.notAfter.toISOString().slice(0, 10));
    assert.equal(r.chain.length, 2, 'leaf and intermediate, as sent');
    assert.equal(r.chain[0]?.fingerprint256, cert.fingerprint256);
    assert.equal(typeof r.timings.totalMs, 'number');
  });

  it('exit 2: the same server without --ca is not trusted (only Node\'s bundled roots are)', async () => {
    const { code, stdout } = await run('--json', at(valid));
    const [r] = JSON.parse(stdout) as ProbeResult[];
    assert.equal(code, 2);
    assert.equal(r?.status, 'critical');
    assert.equal(r?.trusted, false);
    // The server sends leaf + intermediate, whose issuer is a private root: serving more would
    // not help (servers never send the root), trusting the private CA would.
    assert.deepEqual(r?.problems.map((p) => p.code), ['UNTRUSTED']);
    assert.match(r?.problems[0]?.message ?? '', /--ca/);
  });

  it('exit 1: a certificate expiring in 10 days with --warn-days 30 is a warning', async () => {
    const { code, results } = await runJson(at(soon), '--warn-days', '30');
    assert.equal(code, 1);
    assert.equal(results[0]?.status, 'warning');
    assert.deepEqual(results[0]?.problems.map((p) => [p.code, p.severity]), [['EXPIRES_SOON', 'warning']]);
    assert.ok((results[0]?.certificate?.daysLeft ?? -1) <= 10);
  });

  it('exit 2: the same certificate is critical below --crit-days', async () => {
    const { code, results } = await runJson(at(soon), '--warn-days', '30', '--crit-days', '14');
    assert.equal(code, 2);
    assert.deepEqual(results[0]?.problems.map((p) => [p.code, p.severity]), [['EXPIRES_SOON', 'critical']]);
  });

  it('exit 2: an expired certificate is critical and still reported with its dates', async () => {
    const { code, results } = await runJson(at(expired));
    assert.equal(code, 2);
    assert.equal(results[0]?.status, 'critical');
    assert.ok(results[0]?.problems.some((p) => p.code === 'EXPIRED'));
    assert.ok((results[0]?.certificate?.daysLeft ?? 0) < 0);
  });

  it('exit 2: an SMTP server without STARTTLS is critical with the error set', async () => {
    const { code, results } = await runJson(`smtp://${at(noStarttls)}`);
    assert.equal(code, 2);
    assert.equal(results[0]?.status, 'critical');
    assert.equal(results[0]?.error?.code, 'STARTTLS_NOT_OFFERED');
    assert.equal(results[0]?.certificate, null);
  });

  it('exit 3: a refused connection could not be checked', async () => {
    const { code, results } = await runJson(at(refusedPort));
    assert.equal(code, 3);
    assert.equal(results[0]?.status, 'error');
    assert.equal(results[0]?.error?.code, 'CONNECT_REFUSED');
  });

  it('exit 3: a silent server ends in TIMEOUT within --timeout', async () => {
    const started = Date.now();
    const { code, stdout } = await run('--json', '--timeout', '300', at(silent));
    const [r] = JSON.parse(stdout) as ProbeResult[];
    assert.equal(code, 3);
    assert.equal(r?.error?.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 3000);
  });

  it('precedence: critical and could-not-check together exit 2', async () => {
    const { code, results } = await runJson(at(expired), at(refusedPort));
    assert.deepEqual(results.map((r) => r.status), ['critical', 'error']);
    assert.equal(code, 2);
  });

  it('precedence: warning and could-not-check together exit 3', async () => {
    const { code, results } = await runJson(at(soon), at(refusedPort));
    assert.deepEqual(results.map((r) => r.status), ['warning', 'error']);
    assert.equal(code, 3);
  });

  it('precedence: ok and warning together exit 1', async () => {
    const { code, results } = await runJson(at(valid), at(soon));
    assert.deepEqual(results.map((r) => r.status), ['ok', 'warning']);
    assert.equal(code, 1);
  });

  it('-f: checks the targets of a list file in order, after the argument targets', async () => {
    const list = join(dir, 'targets.txt');
    await writeFile(list, `# test servers\n${at(soon)}   # expiring\n\n${at(expired)}\n`);
    const { code, results } = await runJson(at(valid), '-f', list, '--concurrency', '2');
    assert.deepEqual(results.map((r) => r.target.port), [valid.port, soon.port, expired.port]);
    assert.equal(code, 2);
  });

  it('-f: a bad line stops the run before any probe, naming file and line', async () => {
    const list = join(dir, 'bad.txt');
    await writeFile(list, `${at(silent)}\nhost:99999\n`);
    const before = silentConnections;
    const { code, stdout, stderr } = await run('-f', list);
    assert.equal(code, 3);
    assert.equal(stdout, '');
    assert.match(stderr, new RegExp(`^certwatch: ${list.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: .*port 99999 is outside 1-65535`));
    assert.equal(silentConnections, before, 'no connection was made');
  });

  it('-f: a long list streams one result per distinct target, in list order, duplicates dropped', async () => {
    // Nothing listens on 127.0.0.2-.255 (only 127.0.0.1 is bound): quick refusals, distinct targets.
    const lines: string[] = [];
    for (let i = 2; i < 240; i++) lines.push(`127.0.0.${i}:${valid.port}`);
    lines.splice(100, 0, at(valid), `127.0.0.5:${valid.port}`, at(valid));
    const list = join(dir, 'long.txt');
    await writeFile(list, `${lines.join('\n')}\n`);
    const { code, results } = await runJson('-f', list, '--servername', 'localhost', '--concurrency', '16');
    const expected = [...new Set(lines)];
    assert.deepEqual(results.map((r) => `${r.target.host}:${r.target.port}`), expected);
    assert.equal(results.find((r) => r.target.host === '127.0.0.1')?.status, 'ok');
    assert.ok(results.filter((r) => r.target.host !== '127.0.0.1').every((r) => r.error?.code === 'CONNECT_REFUSED'));
    assert.equal(code, 3);
  });

  it('-f: a list of 150,000 lines loads (it used to overflow the stack past 130,000) and duplicates collapse', async () => {
    const list = join(dir, 'huge.txt');
    await writeFile(list, `${Array.from({ length: 150_000 }, (_, i) => (i % 2 === 0 ? at(valid) : `${at(valid)}  # again`)).join('\n')}\n`);
    const { code, results } = await runJson('-f', list, '--servername', 'localhost');
    assert.equal(results.length, 1);
    assert.equal(code, 0);
  });

  it('-f: a bad line after thousands of good ones stops the run before any probe', async () => {
    const list = join(dir, 'late-typo.txt');
    const good = Array.from({ length: 5000 }, () => at(silent));
    await writeFile(list, `${good.join('\n')}\nmail.example.com:smtp\n`);
    const before = silentConnections;
    const { code, stdout, stderr } = await run('--json', '-f', list);
    assert.equal(code, 3);
    assert.equal(stdout, '');
    assert.match(stderr, /:5001: .*port "smtp" is not a number/);
    assert.equal(silentConnections, before, 'no connection was made');
  });

  it('a repeated target is probed once', async () => {
    const { results } = await runJson(at(valid), at(valid), '--servername', 'localhost');
    assert.equal(results.length, 1);
  });

  it('usage: a bad target argument exits 3 with the parser\'s message', async () => {
    const { code, stdout, stderr } = await run('mail.example.com:smtp');
    assert.equal(code, 3);
    assert.equal(stdout, '');
    assert.match(stderr, /port "smtp" is not a number/);
  });

  it('usage: --mode starttls with a protocol that has none exits 3', async () => {
    const { code, stderr } = await run('--mode', 'starttls', at(valid));
    assert.equal(code, 3);
    assert.match(stderr, /has no STARTTLS dialect/);
  });

  it('usage: a missing --ca file exits 3 naming it', async () => {
    const missing = join(dir, 'nope.pem');
    const { code, stderr } = await run('--ca', missing, at(valid));
    assert.equal(code, 3);
    assert.equal(stderr, `certwatch: --ca ${missing}: cannot read (no such file)\n`);
  });

  it('usage: a --ca file without certificates exits 3 naming it', async () => {
    const keyOnly = join(dir, 'key.pem');
    await writeFile(keyOnly, leaf.keyPem);
    const { code, stderr } = await run('--ca', keyOnly, at(valid));
    assert.equal(code, 3);
    assert.ok(stderr.includes(keyOnly), stderr);
    assert.match(stderr, /no "-----BEGIN CERTIFICATE-----" block found \(found PRIVATE KEY instead\)/);
  });

  it('table: one row per address with status, endpoint, protocol, days, expiry, issuer and problems', async () => {
    const { code, stdout } = await run('--ca', caFile, at(valid), at(soon), at(refusedPort), '--servername', 'localhost');
    assert.equal(code, 3);
    assert.doesNotMatch(stdout, /\u001b/, 'no colour when stdout is not a TTY');
    const lines = stdout.split('\n');
    assert.match(lines[0] ?? '', /^STATUS +ENDPOINT +PROTOCOL +ADDRESS +DAYS +EXPIRES +ISSUER +DETAILS$/);
    const row = (port: number): string => lines.find((l) => l.includes(`:${port} `)) ?? '';
    const expires = leaf.cert.notAfter.toISOString().slice(0, 10);
    assert.match(row(valid.port), new RegExp(`^OK +127\\.0\\.0\\.1:${valid.port} \\(localhost\\) +tls/implicit +127\\.0\\.0\\.1 +\\d+ +${expires} +certwatch test intermediate +-$`));
    assert.match(row(soon.port), /^WARNING +.* +(9|10) +\d{4}-\d\d-\d\d +certwatch test intermediate +EXPIRES_SOON: /);
    assert.match(row(refusedPort), /^UNKNOWN +.* +- +- +- +CONNECT_REFUSED: /);
    assert.match(stdout, /3 addresses checked: 1 ok, 1 warning, 0 critical, 1 could not be checked\n$/);
  });

  it('table: colours the status only on a colour TTY, and shows progress on a TTY stderr', async () => {
    const io = testIO({ tty: true });
    const code = await main(['check', '--ca', caFile, at(valid), at(expired), '--servername', 'localhost'], io);
    assert.equal(code, 2);
    assert.match(io.stdout.text, /^\u001b\[32mOK\u001b\[0m /m);
    assert.match(io.stdout.text, /^\u001b\[31mCRITICAL\u001b\[0m /m);
    assert.match(io.stderr.text, /\[1\/2\] .*\[2\/2\] /s);
    assert.ok(io.stderr.text.endsWith('\r\u001b[K'), 'progress line cleared before the table');
  });

  it('json: prints only the array, with no colour even on a TTY', async () => {
    const io = testIO({ tty: true });
    await main(['check', '--json', '--ca', caFile, at(valid), at(expired)], io);
    assert.doesNotMatch(io.stdout.text, /\u001b/);
    assert.equal((JSON.parse(io.stdout.text) as unknown[]).length, 2);
  });
});
