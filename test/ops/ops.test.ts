import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LatestResults, TargetRecord } from '../../src/core/services.ts';
import { startOpsServer } from '../../src/ops/http.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { Metrics } from '../../src/ops/metrics.ts';
import { parseTarget } from '../../src/probe/target.ts';

function capture(secrets: string[] = []) {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', secrets, destination: { write: (l: string) => void lines.push(l) } });
  return { log, lines };
}

test('logger: structured lines carry the event name and fields', () => {
  const { log, lines } = capture();
  log.info({ target: 'abc123', days: 5 }, 'alerts.decided');
  const line = JSON.parse(lines[0]!);
  assert.equal(line.msg, 'alerts.decided');
  assert.equal(line.target, 'abc123');
  assert.equal(line.days, 5);
});

test('logger: secret fields are redacted and secret values are scrubbed from any text', () => {
  const token = '123456:AAH-secret_token_value';
  const { log, lines } = capture([token]);
  log.info({ config: { telegram: { botToken: token } }, token }, 'startup');
  log.error({ err: new Error(`request to https://api.telegram.org/bot${token}/getMe failed`) }, 'telegram.failed');
  log.warn({ url: `https://x/${encodeURIComponent(token)}` }, 'encoded');
  const text = lines.join('');
  assert.doesNotMatch(text, /secret_token_value/);
  assert.match(text, /\[REDACTED\]/);
  assert.equal(lines.length, 3);
});

const record: TargetRecord = { id: 'abc123', target: parseTarget('mail.example.com:587'), channel: { platform: 'console', channelId: 'console' }, addedBy: { id: 'u' }, addedAt: '2026-01-01T00:00:00Z' };
function latest(days: number[], failed = false): LatestResults {
  const results = days.map((d) => ({ certificate: { daysLeft: d } }));
  if (failed) results.push({ certificate: null } as never);
  return { targetId: 'abc123', checkedAt: '', status: failed ? 'error' : 'ok', results: results as never };
}

test('metrics: per-target days left and probe success, run duration and outbox pending are exported', async () => {
  let pending = 4;
  const m = new Metrics({ outboxPending: () => pending });
  m.recordCheck(record, latest([40, 12]));
  m.recordRun('scheduled', 2500);
  let { body } = await m.text();
  assert.match(body, /certwatch_certificate_days_left\{target="abc123",endpoint="mail.example.com:587"\} 12/);
  assert.match(body, /certwatch_probe_success\{target="abc123",endpoint="mail.example.com:587"\} 1/);
  assert.match(body, /certwatch_run_duration_seconds_count\{reason="scheduled"\} 1/);
  assert.match(body, /certwatch_outbox_pending 4/);
  m.recordCheck(record, latest([12], true));
  pending = 0;
  ({ body } = await m.text());
  assert.match(body, /certwatch_probe_success\{target="abc123",endpoint="mail.example.com:587"\} 0/);
  assert.match(body, /certwatch_outbox_pending 0/);
  m.recordRun('scheduled', 10, new Set());
  ({ body } = await m.text());
  assert.doesNotMatch(body, /target="abc123"/, 'removed targets lose their series');
});

test('ops http: /healthz reflects health, /metrics serves the registry, anything else is 404', async () => {
  let ok = true;
  const m = new Metrics({ outboxPending: () => 0 });
  const server = await startOpsServer({ host: '127.0.0.1', port: 0, metrics: m, log: createLogger({ level: 'silent' }), health: async () => ({ ok, checks: { store: ok ? 'ok' : 'down' } }) });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    let res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', checks: { store: 'ok' } });
    ok = false;
    res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 503);
    await res.body?.cancel();
    res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /certwatch_outbox_pending 0/);
    res = await fetch(`${base}/admin`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  } finally {
    await server.close();
  }
});

test('ops server: a port in use or a host that is not this machine names the setting (exit 78), never a bare EADDRINUSE', async () => {
  const opts = { metrics: new Metrics({ outboxPending: () => 0 }), log: createLogger({ level: 'silent' }), health: async () => ({ ok: true, checks: {} }) };
  const first = await startOpsServer({ ...opts, host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(startOpsServer({ ...opts, host: '127.0.0.1', port: first.port }), (err: Error & { setting?: string }) => {
      assert.equal(err.setting, 'HTTP_PORT');
      assert.match(err.message, new RegExp(`port ${first.port} is already in use; choose another HTTP_PORT`));
      return true;
    });
  } finally {
    await first.close();
  }
  // 192.0.2.1 (TEST-NET-1) is no address of this machine.
  await assert.rejects(startOpsServer({ ...opts, host: '192.0.2.1', port: 0 }), (err: Error & { setting?: string }) => {
    assert.equal(err.setting, 'HTTP_HOST');
    assert.match(err.message, /192\.0\.2\.1 is not an address of this machine/);
    return true;
  });
});
