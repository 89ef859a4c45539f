// `certwatch bot` (the real entry, as `npm start` runs it) against hostile dependencies: a chat
// API that refuses the token or echoes the request, one that accepts and never answers, closed
// ports for the stores and Redis, a corrupt SQLite file, an unusable DATA_DIR. Each ends with
// one line naming the setting (exit 78) or is retried and logged, within 30 s, and no secret
// appears in any output.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';

const bin = new URL('../../bin/certwatch.js', import.meta.url).pathname;
const SLACK_TOKEN = 'xoxb-1111-2222-STARTUPsecretTOKEN';
const APP_TOKEN = 'xapp-1-A1-3333-STARTUPappSECRET';
const TG_TOKEN = '123456:STARTUPtelegramSECRET_abc';
const PASSWORD = 'STARTUPdbPASSWORD';
const secrets = [SLACK_TOKEN, APP_TOKEN, TG_TOKEN, PASSWORD, 'STARTUPsecretTOKEN', 'STARTUPtelegramSECRET'];

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-startup-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createNetServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** An HTTP API that answers every request with `status` and `body`, echoing the request headers and body back. */
async function echoingApi(status: number, body: Record<string, unknown>): Promise<string> {
  const server: Server = createHttpServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ...body, echo: { url: req.url, headers: req.headers, body: raw } })));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A TCP server that accepts connections and never answers. */
async function silentServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => sockets.add(s)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Run {
  code: number | null;
  out: string;
  ms: number;
}

/** Spawns `certwatch bot`; resolves at exit, or after `until` matched the output (then SIGTERM). */
async function bot(env: Record<string, string>, until?: RegExp): Promise<Run & { matchedMs?: number }> {
  const dir = await tempDir();
  const started = Date.now();
  const proc = spawn(process.execPath, [bin, 'bot'], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dir, CONSOLE: 'off', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let matchedMs: number | undefined;
  const onData = (d: Buffer): void => {
    out += d.toString();
    if (until !== undefined && matchedMs === undefined && until.test(out)) {
      matchedMs = Date.now() - started;
      proc.kill('SIGTERM');
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const killer = setTimeout(() => proc.kill('SIGKILL'), 40_000);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(killer);
  return { code, out, ms: Date.now() - started, ...(matchedMs === undefined ? {} : { matchedMs }) };
}

function assertNoSecret(out: string): void {
  for (const s of secrets) assert.ok(!out.includes(s), `a secret appeared in the output:\n${out}`);
}

/** The exit line: exactly one line starting "certwatch: <SETTING>:". */
function assertOneLine(out: string, setting: string, detail: RegExp): void {
  const lines = out.split('\n').filter((l) => l.startsWith('certwatch: '));
  assert.equal(lines.length, 1, out);
  assert.match(lines[0]!, new RegExp(`^certwatch: ${setting}: `));
  assert.match(lines[0]!, detail);
}

test('startup: Slack refusing the bot token (the API echoing the request) exits 78 within seconds, naming SLACK_BOT_TOKEN, no token anywhere', async () => {
  const api = await echoingApi(200, { ok: false, error: 'invalid_auth' });
  const r = await bot({ SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: `${api}/api/` });
  assert.equal(r.code, 78, r.out);
  assertOneLine(r.out, 'SLACK_BOT_TOKEN', /Slack refused the token \(invalid_auth\)/);
  assert.doesNotMatch(r.out, /Bearer|unhandled|at .*\.js:\d+/);
  assertNoSecret(r.out);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
});

test('startup: Slack answering 500 with an echo of the request is retried with backoff and logged, without the token; SIGTERM ends it', async () => {
  const api = await echoingApi(500, { ok: false, error: 'fatal_error' });
  const r = await bot({ SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: `${api}/api/` }, /"attempt":2,.*"msg":"slack\.unreachable"/);
  assert.ok(r.matchedMs !== undefined && r.matchedMs < 30_000, r.out);
  assert.match(r.out, /"error":"HTTP 500"/);
  assert.equal(r.code, 0, r.out);
  assertNoSecret(r.out);
});

test('startup: a Telegram API that accepts and never answers is named within 30 s and retried; SIGTERM ends it promptly', async () => {
  const root = await silentServer();
  const r = await bot({ TELEGRAM_BOT_TOKEN: TG_TOKEN, TELEGRAM_API_ROOT: root }, /telegram\.unreachable/);
  assert.ok(r.matchedMs !== undefined && r.matchedMs < 30_000, r.out);
  assert.match(r.out, /getMe: no answer within 10000 ms/);
  assert.equal(r.code, 0, r.out);
  assert.ok(r.ms - r.matchedMs < 5000, `SIGTERM took ${r.ms - r.matchedMs} ms`);
  assertNoSecret(r.out);
});

test('startup: Telegram refusing the token (401) exits 78 naming TELEGRAM_BOT_TOKEN', async () => {
  const root = await echoingApi(401, { ok: false, error_code: 401, description: 'Unauthorized' });
  const r = await bot({ TELEGRAM_BOT_TOKEN: TG_TOKEN, TELEGRAM_API_ROOT: root });
  assert.equal(r.code, 78, r.out);
  assertOneLine(r.out, 'TELEGRAM_BOT_TOKEN', /Telegram refused the token on getMe \(401/);
  assertNoSecret(r.out);
});

test('startup: a corrupt SQLite file, an unusable DATA_DIR and an unreachable PostgreSQL each exit 78 naming the setting', async () => {
  const dir = await tempDir();
  const corrupt = join(dir, 'corrupt.sqlite');
  await writeFile(corrupt, 'this is not a database '.repeat(100));
  const file = join(dir, 'a-file');
  await writeFile(file, 'x');
  const pg = await closedPort();
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ STORE_URL: `sqlite://${corrupt}` }, 'STORE_URL', /SQLite file .*corrupt\.sqlite.*not a database/],
    [{ DATA_DIR: join(file, 'sub') }, 'DATA_DIR', /ENOTDIR/],
    [{ STORE_URL: `postgres://certwatch:${PASSWORD}@127.0.0.1:${pg}/certwatch` }, 'STORE_URL', /PostgreSQL store.*ECONNREFUSED/],
  ];
  const runs = await Promise.all(cases.map(([env]) => bot(env)));
  runs.forEach((r, i) => {
    const [, setting, detail] = cases[i]!;
    assert.equal(r.code, 78, r.out);
    assertOneLine(r.out, setting, detail);
    assert.doesNotMatch(r.out, /bot\.started/);
    assertNoSecret(r.out);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  });
});

test('startup: STORE_URL=redis:// and REDIS_URL on closed ports exit 78 within 30 s naming the setting, never hanging', async () => {
  const port = await closedPort();
  const runs = await Promise.all([
    bot({ STORE_URL: `redis://:${PASSWORD}@127.0.0.1:${port}` }),
    bot({ REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}` }),
  ]);
  const [store, coord] = runs;
  assert.equal(store!.code, 78, store!.out);
  assertOneLine(store!.out, 'STORE_URL', /Redis store/);
  assert.equal(coord!.code, 78, coord!.out);
  assertOneLine(coord!.out, 'REDIS_URL', /cannot connect to Redis/);
  for (const r of runs) {
    assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
    assertNoSecret(r.out);
  }
});
