import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, envKeys, parseConfig } from '../../src/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env, '/srv');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

test('config: an empty environment gives the documented defaults', () => {
  const c = parseConfig({}, '/srv');
  assert.equal(c.dataDir, '/srv/data');
  assert.equal(c.storeUrl, 'sqlite:///srv/data/certwatch.sqlite');
  assert.equal(c.checkSchedule, '0 */6 * * *');
  assert.deepEqual(c.alertThresholds, [30, 14, 7, 3, 1]);
  assert.equal(c.failAfter, 2);
  assert.equal(c.httpPort, null);
  assert.equal(c.digestSchedule, undefined);
  assert.equal(c.allowPrivateTargets, false);
});

test('config: PROBE_IP_FAMILY selects an address family, any (the default) probes both', () => {
  assert.equal(parseConfig({}, '/srv').probeFamily, undefined);
  assert.equal(parseConfig({ PROBE_IP_FAMILY: 'any' }, '/srv').probeFamily, undefined);
  assert.equal(parseConfig({ PROBE_IP_FAMILY: '4' }, '/srv').probeFamily, 4);
  assert.equal(parseConfig({ PROBE_IP_FAMILY: '6' }, '/srv').probeFamily, 6);
  assert.throws(() => parseConfig({ PROBE_IP_FAMILY: 'v4' }, '/srv'), /PROBE_IP_FAMILY/);
});

test('config: blank values count as unset and thresholds are sorted descending', () => {
  const c = parseConfig({ HTTP_PORT: '', ALERT_THRESHOLDS: '1, 7,30,7', ALLOW_PRIVATE_TARGETS: 'yes' }, '/srv');
  assert.equal(c.httpPort, null);
  assert.deepEqual(c.alertThresholds, [30, 7, 1]);
  assert.equal(c.allowPrivateTargets, true);
});

test('config: every bad variable is listed at once', () => {
  const problems = problemsOf({ CHECK_SCHEDULE: 'every day', FAIL_AFTER: 'x', ALLOWED_TARGET_CIDRS: '10.0.0.0/33', LOG_LEVEL: 'loud' });
  for (const key of ['CHECK_SCHEDULE', 'FAIL_AFTER', 'ALLOWED_TARGET_CIDRS', 'LOG_LEVEL']) {
    assert.ok(problems.some((p) => p.startsWith(key)), `${key} missing from ${problems.join('; ')}`);
  }
});

test('config: a malformed secret is reported by name without echoing its value', () => {
  const secret = 'not-a-token-SECRETVALUE';
  const problems = problemsOf({ TELEGRAM_BOT_TOKEN: secret, SLACK_BOT_TOKEN: secret });
  const text = problems.join('\n');
  assert.match(text, /TELEGRAM_BOT_TOKEN/);
  assert.match(text, /SLACK_BOT_TOKEN/);
  assert.doesNotMatch(text, /SECRETVALUE/);
});

test('config: cross-field rules name the missing partner variable', () => {
  const problems = problemsOf({ SLACK_BOT_TOKEN: 'xoxb-1-2', TELEGRAM_WEBHOOK_URL: 'https://bot.example/tg', TELEGRAM_BOT_TOKEN: '1:abc' });
  assert.ok(problems.some((p) => p.startsWith('SLACK_BOT_TOKEN')));
  assert.ok(problems.some((p) => p.startsWith('TELEGRAM_WEBHOOK_SECRET')));
});

test('config: .env.example documents exactly the variables of the schema', () => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const documented = text
    .split('\n')
    .map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
    .filter((k): k is string => k !== undefined);
  assert.deepEqual([...documented].sort(), [...envKeys].sort());
  assert.equal(new Set(documented).size, documented.length, 'a key is documented twice');
});

test('config: the example values themselves parse', () => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  assert.doesNotThrow(() => parseConfig(env, '/srv'));
});
