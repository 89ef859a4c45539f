// `npm start`'s entry point as a process: bad configuration, and SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const main = new URL('../../src/main.ts', import.meta.url).pathname;

function start(env: Record<string, string>) {
  const proc = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { proc, exited, out: () => stdout, err: () => stderr };
}

test('process: a bad environment lists every problem, hides secret values and exits 78', async () => {
  const { exited } = start({ FAIL_AFTER: 'zero', CHECK_SCHEDULE: 'often', TELEGRAM_BOT_TOKEN: 'oops-TOPSECRET' });
  const { code, stderr } = await exited;
  assert.equal(code, 78);
  for (const key of ['FAIL_AFTER', 'CHECK_SCHEDULE', 'TELEGRAM_BOT_TOKEN']) assert.match(stderr, new RegExp(key));
  assert.doesNotMatch(stderr, /TOPSECRET/);
});

test('process: SIGTERM shuts the bot down gracefully with exit status 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-proc-'));
  try {
    const bot = start({ DATA_DIR: dir, CONSOLE: 'on', LOG_LEVEL: 'info' });
    // Started once the startup log line is out (on stderr: in console mode stdout is the conversation).
    while (!bot.err().includes('bot.started')) {
      const early = await Promise.race([bot.exited, new Promise((r) => setTimeout(r, 50))]);
      if (early !== undefined) assert.fail(`exited early: ${JSON.stringify(early)}`);
    }
    bot.proc.kill('SIGTERM');
    const { code, stdout, stderr } = await bot.exited;
    assert.equal(code, 0);
    assert.match(stderr, /bot\.stopped/);
    assert.doesNotMatch(stdout, /"level"/, 'no log line on the console output');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
