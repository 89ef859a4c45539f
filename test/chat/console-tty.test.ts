// The console on a real terminal: `certwatch bot` under a pseudo-terminal (util-linux
// `script`), typed /help, /add, /list, /check all. The terminal must show the conversation
// only; the JSON log lines go to DATA_DIR/certwatch.log, which the banner names.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chooseLogDestination } from '../../src/ops/log-destination.ts';
import { startTlsServer } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

test('logs: a console sharing a terminal with stderr logs to DATA_DIR/certwatch.log, otherwise to a stream', () => {
  const base = { dataDir: '/srv/data', stdoutIsTTY: true, stderrIsTTY: true };
  assert.deepEqual(chooseLogDestination({ ...base, console: true }), { file: '/srv/data/certwatch.log' });
  assert.deepEqual(chooseLogDestination({ ...base, console: true, stdoutIsTTY: false }), { fd: 2 }, 'piped: stderr, apart from stdout');
  assert.deepEqual(chooseLogDestination({ ...base, console: true, stderrIsTTY: false }), { fd: 2 });
  assert.deepEqual(chooseLogDestination({ ...base, console: false }), { fd: 1 }, 'no console: stdout, as containers expect');
});

test('console on a terminal: /help, /add, /list and /check all show no log line; the log file has them', { skip: hasScript ? false : 'util-linux script is not installed', timeout: 60_000 }, async (t) => {
  const { root: ca, serverCreds } = await testPki();
  const server = await startTlsServer(serverCreds);
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-tty-'));
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const caFile = join(dir, 'root.pem');
  await writeFile(caFile, ca.certPem);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SLACK_|TELEGRAM_|STORE_URL|REDIS_URL|HTTP_PORT|CONSOLE|npm_)/.test(k)));
  const bot = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(root, 'bin/certwatch.js'))} bot`;
  const child = spawn('script', ['-qfec', bot, '/dev/null'], {
    cwd: dir,
    env: { ...env, LOG_LEVEL: 'info', DATA_DIR: join(dir, 'data'), ALLOW_PRIVATE_TARGETS: 'true', EXTRA_CA_FILE: caFile },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  t.after(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  let screen = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (c: Buffer): void => {
    screen += c.toString('utf8');
    for (const w of [...waiters]) if (w.re.test(screen)) waiters.splice(waiters.indexOf(w), 1), w.resolve();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const waitFor = (re: RegExp): Promise<void> => (re.test(screen) ? Promise.resolve() : new Promise((resolve) => waiters.push({ re, resolve })));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  await waitFor(/certwatch> /);
  for (const [line, answer] of [
    ['/help', /Ctrl-D/],
    [`/add 127.0.0.1:${server.port} "Local TLS"`, /Added as \w+/],
    ['/list', /1 target in this channel/],
    ['/check all', /Checked 1 target/],
    ['/quit', /Bye\./],
  ] as const) {
    child.stdin.write(`${line}\n`);
    await waitFor(answer);
  }
  assert.equal(await exited, 0, screen);
  const logFile = join(dir, 'data', 'certwatch.log');
  assert.match(screen, new RegExp(`Logs are written to ${logFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.doesNotMatch(screen, /"level"|"msg"|\{"/, 'no JSON log line on the terminal');
  const log = await readFile(logFile, 'utf8');
  assert.match(log, /"msg":"bot\.started"/);
  assert.match(log, /"command":"check"/);
});
