import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import assert from 'node:assert/strict';
import { ConfigError, envKeys, environmentWithDotEnv, parseConfig } from '../../src/config.ts';

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
  // Parsed as certwatch reads a .env file (util.parseEnv), so the quoted values are checked.
  const env = parseEnv(text);
  assert.equal(env.CHECK_SCHEDULE, '0 */6 * * *');
  assert.doesNotThrow(() => parseConfig(env, '/srv'));
});

test('config: .env.example can be sourced by a POSIX shell and gives the same values', () => {
  const example = fileURLToPath(new URL('../../.env.example', import.meta.url));
  const out = execFileSync('sh', ['-c', 'set -a; . "$1"; printf "%s\\n" "$CHECK_SCHEDULE" "$ALERT_THRESHOLDS" "$LOG_LEVEL"', 'sh', example], { encoding: 'utf8', env: {} });
  assert.equal(out, '0 */6 * * *\n30,14,7,3,1\ninfo\n');
});

test('config: syntax errors and cross-field problems are listed together, in words people read', () => {
  const problems = problemsOf({ HTTP_PORT: 'abc', SLACK_BOT_TOKEN: 'xoxb-1-2', CONSOLE: 'maybe', REDIS_URL: 'nope', WARN_DAYS: '-1' });
  assert.ok(problems.includes('HTTP_PORT: expected a whole number from 0 to 65535'), problems.join('; '));
  assert.ok(problems.includes('WARN_DAYS: expected a whole number from 0 to 3650'), problems.join('; '));
  assert.ok(problems.includes('CONSOLE: expected one of: auto, on, off'), problems.join('; '));
  assert.ok(problems.some((p) => p.startsWith('REDIS_URL: expected an absolute URL')), problems.join('; '));
  assert.ok(problems.some((p) => p.startsWith('SLACK_BOT_TOKEN: needs SLACK_APP_TOKEN')), 'the Slack problem is listed with the others');
  assert.doesNotMatch(problems.join('\n'), /NaN|received|Invalid input/);
  assert.throws(() => parseConfig({ HTTP_PORT: '70000' }), /HTTP_PORT: expected a whole number from 0 to 65535/);
  assert.equal(parseConfig({ HTTP_PORT: ' 8080 ' }).httpPort, 8080);
});

test('config: .env in the working directory is read, and the real environment wins over it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '.env'), 'CHECK_SCHEDULE="0 */2 * * *"\nLOG_LEVEL=debug # comment\nWARN_DAYS=21\n');
  const env = environmentWithDotEnv({ WARN_DAYS: '40' }, dir);
  const config = parseConfig(env, dir);
  assert.equal(config.checkSchedule, '0 */2 * * *');
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.warnDays, 40, 'the environment wins');
  assert.deepEqual(environmentWithDotEnv({ A: '1' }, join(dir, 'missing')), { A: '1' }, 'no .env: just the environment');
});

test('config: an oversized or unreadable .env is a configuration error, read with a bound', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await symlink('/dev/zero', join(dir, '.env'));
  assert.throws(() => environmentWithDotEnv({}, dir), (e) => e instanceof ConfigError && /larger than 64 KiB/.test(e.message));
  await mkdir(join(dir, 'sub', '.env'), { recursive: true });
  assert.throws(() => environmentWithDotEnv({}, join(dir, 'sub')), (e) => e instanceof ConfigError && /cannot read \(EISDIR\)/.test(e.message));
});

test('config: REDIS_URL must be a redis:// or rediss:// URL the Redis client accepts, and is never echoed', () => {
  // The Redis client throws "Invalid protocol" / "Invalid pathname" at start-up for these,
  // which named no variable and exited 1 after the store was opened.
  for (const value of ['http://u:hunter2secret@127.0.0.1:6379', 'https://hunter2secret.example', 'rediss://u:hunter2secret@h:6380/abc', 'redis://:hunter2secret@h/0/1', 'redis://:hunter2secret%zz@h', 'redis://hunter2secret%E0%A4%A:pw@h']) {
    const problems = problemsOf({ REDIS_URL: value });
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['REDIS_URL'], value);
    assert.match(problems[0]!, /redis:\/\//);
    assert.doesNotMatch(problems.join('\n'), /hunter2secret/);
  }
  for (const value of ['redis://127.0.0.1:6379', 'redis://:pw@h/2', 'rediss://user:pw@[::1]:6380/', 'redis://h', 'redis://:p%40ss%2Fword@h']) {
    assert.equal(parseConfig({ REDIS_URL: value }).redisUrl, value);
  }
});

test('config: DNS_SERVERS entries are checked as the resolver reads them, so a bad one is a configuration problem', () => {
  // These passed the old pattern and then stopped start-up with a message naming no variable.
  for (const value of ['1.2.3.4:99999', '999.1.1.1', '::::::::::::', '[::1]:0', '8.8.8.8,1.2.3.4:70000']) {
    assert.deepEqual(problemsOf({ DNS_SERVERS: value }).map((p) => p.replace(/\.\d+:.*/, '')), ['DNS_SERVERS'], value);
  }
  assert.deepEqual(parseConfig({ DNS_SERVERS: '127.0.0.1:5353, ::1, [2001:db8::53]:53, ::ffff:192.0.2.1' }).dnsServers, ['127.0.0.1:5353', '::1', '[2001:db8::53]:53', '::ffff:192.0.2.1']);
});

test('config: the Slack and Telegram API and webhook URLs must be http:// or https://', () => {
  // Any scheme passed before: the bot then retried "Invalid URL" or "Only HTTP(S) protocols are
  // supported" forever instead of stopping at start-up with the variable named.
  const problems = problemsOf({ SLACK_API_URL: 'ftp://slack.example/api/', TELEGRAM_API_ROOT: 'javascript:alert(1)', TELEGRAM_WEBHOOK_URL: 'file:///etc/passwd', TELEGRAM_WEBHOOK_SECRET: 'abc', TELEGRAM_BOT_TOKEN: '1:abc' });
  assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['SLACK_API_URL', 'TELEGRAM_API_ROOT', 'TELEGRAM_WEBHOOK_URL']);
  for (const p of problems) assert.match(p, /http:\/\/ or https:\/\//);
  const c = parseConfig({ SLACK_API_URL: 'https://slack-gov.com/api/', TELEGRAM_API_ROOT: 'http://localhost:8081', TELEGRAM_WEBHOOK_URL: 'https://bot.example/tg', TELEGRAM_WEBHOOK_SECRET: 'abc', TELEGRAM_BOT_TOKEN: '1:abc' });
  assert.equal(c.slack.apiUrl, 'https://slack-gov.com/api/');
  assert.equal(c.telegram.apiRoot, 'http://localhost:8081');
  assert.equal(c.telegram.webhookUrl, 'https://bot.example/tg');
});

test('config: thresholds and the signing secret are refused in words, not with zod\'s messages', () => {
  assert.deepEqual(problemsOf({ ALERT_THRESHOLDS: ',,,' }), ['ALERT_THRESHOLDS: expected a comma-separated list of days, e.g. 30,14,7']);
  assert.deepEqual(problemsOf({ ALERT_THRESHOLDS: '30,9999' }), ['ALERT_THRESHOLDS.1: expected whole days from 0 to 3650']);
  assert.deepEqual(problemsOf({ ALERT_THRESHOLDS: '30,x' }), ['ALERT_THRESHOLDS.1: expected whole days from 0 to 3650']);
  const secret = problemsOf({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'hunt2' });
  assert.deepEqual(secret, ['SLACK_SIGNING_SECRET: too short for a Slack signing secret']);
});

test('config: HTTP_HOST must be an IP address or a host name', () => {
  // "not a host!" passed and stopped start-up with "getaddrinfo ENOTFOUND", naming no variable.
  for (const value of ['not a host!', 'http://0.0.0.0', '0.0.0.0:9090', '[::]', 'a..b']) {
    assert.deepEqual(problemsOf({ HTTP_HOST: value }), ['HTTP_HOST: expected an IP address or a host name, e.g. 0.0.0.0, :: or localhost'], value);
  }
  for (const value of ['0.0.0.0', '::', '127.0.0.1', 'fd00::1', 'localhost', 'metrics.internal.example', 'host-1.']) {
    assert.equal(parseConfig({ HTTP_HOST: value }).httpHost, value);
  }
});
