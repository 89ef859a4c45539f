// startBot in-process: console mode on the store, ops server, graceful stop.
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateInfo } from '../../src/cert/types.ts';
import { parseConfig } from '../../src/config.ts';
import { startBot } from '../../src/main.ts';
import type { ProbeFn } from '../../src/monitor/index.ts';
import { createLogger } from '../../src/ops/logger.ts';

const probe: ProbeFn = async (target) => {
  const cert: CertificateInfo = {
    subject: 'CN=x', issuer: 'CN=ca', sans: [], notBefore: '2025-01-01T00:00:00Z', notAfter: '2099-01-01T00:00:00Z', daysLeft: 42,
    serialNumber: '1', fingerprint256: 'AB', keyType: 'EC', keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false,
  };
  return [{ target, address: '192.0.2.10', status: 'ok', problems: [], error: null, tls: { version: 'TLSv1.3', cipher: 'x' }, certificate: cert, chain: [cert], trusted: true, hostnameMatch: true, checkedAt: new Date().toISOString(), timings: { totalMs: 1 } }];
};

function nextOutput(out: PassThrough, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const on = (d: Buffer): void => {
      text += d.toString();
      if (pattern.test(text)) {
        out.off('data', on);
        resolve(text);
      }
    };
    out.on('data', on);
  });
}

test('bot: console mode answers commands on the SQLite store, serves /healthz and /metrics, and stops cleanly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-bot-'));
  try {
    const config = parseConfig({ DATA_DIR: dir, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1' });
    const input = new PassThrough();
    const output = new PassThrough();
    const bot = await startBot(config, { probe, console: { input, output }, schedule: false, log: createLogger({ level: 'silent' }) });
    try {
      const added = nextOutput(output, /42/);
      input.write('/add mail.example.com:587 mail\n');
      assert.match(await added, /mail/);
      const listed = nextOutput(output, /mail\.example\.com/);
      input.write('/list\n');
      await listed;
      assert.equal((await bot.services.repo.listTargets()).length, 1);
      const health = await fetch(`http://127.0.0.1:${bot.httpPort}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const metrics = await (await fetch(`http://127.0.0.1:${bot.httpPort}/metrics`)).text();
      assert.match(metrics, /certwatch_certificate_days_left\{target="[a-z0-9]+",endpoint="mail.example.com:587"\} 42/);
    } finally {
      await bot.stop();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${bot.httpPort}/healthz`), 'the ops server is closed');
    // The SQLite file outlives the process: a second start sees the target.
    const again = await startBot(config, { probe, console: false, schedule: false, log: createLogger({ level: 'silent' }) });
    assert.equal((await again.services.repo.listTargets()).length, 1);
    await again.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bot: EXTRA_CA_FILE is read with a bound, so /dev/zero fails fast with a message instead of filling memory', async () => {
  const config = parseConfig({ STORE_URL: 'memory://', EXTRA_CA_FILE: '/dev/zero', CONSOLE: 'off' });
  const before = process.memoryUsage().rss;
  await assert.rejects(startBot(config, { log: createLogger({ level: 'silent' }), schedule: false }), /EXTRA_CA_FILE \/dev\/zero: larger than 1024 KiB/);
  assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'no large buffer was built');
  await assert.rejects(startBot(parseConfig({ STORE_URL: 'memory://', EXTRA_CA_FILE: '/nonexistent/ca.pem', CONSOLE: 'off' }), { log: createLogger({ level: 'silent' }), schedule: false }), /EXTRA_CA_FILE \/nonexistent\/ca\.pem: cannot read \(no such file\)/);
});

test('bot: a failing shutdown step does not skip the others: the store and the ops server still close, and stop() rejects', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-bot-'));
  try {
    const config = parseConfig({ DATA_DIR: dir, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1' });
    const bot = await startBot(config, { probe, console: false, schedule: false, log: createLogger({ level: 'silent' }) });
    bot.scheduler.stop = async () => {
      throw new Error('scheduler stop failed');
    };
    await assert.rejects(bot.stop(), /scheduler stop failed/);
    await assert.rejects(bot.store.kv.ping(), /after the store was closed/);
    await assert.rejects(fetch(`http://127.0.0.1:${bot.httpPort}/healthz`), 'the ops server is closed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
