import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONSOLE_CHANNEL, LineSplitter, MAX_LINE, TOO_LONG, parseLine, renderPlain, startConsole } from '../../src/chat/console.ts';
import { DeliveryError } from '../../src/chat/types.ts';
import { harness } from '../commands/fakes.ts';
import { startTlsServer } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';

function session() {
  const h = harness();
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (c: Buffer) => (printed += c.toString('utf8')));
  const handle = startConsole({ input, output, dispatcher: h.dispatch });
  return { h, input, handle, printed: () => printed };
}

test('console: runs typed commands in order, with or without a slash, and exits on EOF', async () => {
  const { h, input, handle, printed } = session();
  input.write('/add mail.example.com:587 "Mail relay"\n');
  input.write('\n# a comment\n');
  input.end('list\n');
  await handle.closed;
  const out = printed();
  assert.match(out, /^\[OK\] Mail relay \(mail\.example\.com:587\): ok, 90 days left$/m);
  assert.match(out, /^ {2}Protocol: smtp, STARTTLS$/m);
  assert.match(out, /^\[OK\] Mail relay \(mail\.example\.com:587\): ok, 90 days left\n {2}Added as \w+\.$/m);
  assert.match(out, /^1 target in this channel: 1 ok$/m);
  assert.match(out, /^ {2}- \[OK\] \w+ mail\.example\.com:587 \(smtp STARTTLS\) — ok, 90 days left — Mail relay$/m);
  assert.ok(out.indexOf('Added as') < out.indexOf('1 target in this channel'), 'replies in input order');
  const [record] = await h.repo.listTargets(CONSOLE_CHANNEL);
  assert.equal(record?.channel.platform, 'console');
  assert.equal(record?.addedBy.id, 'console');
});

test('console: unknown commands and bad arguments are answered and the session goes on', async () => {
  const { input, handle, printed } = session();
  input.write('/frobnicate\n');
  input.write('/mute\n');
  input.end('/help\n');
  await handle.closed;
  const out = printed();
  assert.match(out, /^\[ERROR\] Unknown command "frobnicate"$/m);
  assert.match(out, /^\[ERROR\] missing argument\n {2}Usage: \/mute <target\|id> <duration>$/m);
  assert.match(out, /^certwatch: TLS certificate monitoring$/m);
});

test('console: refuses an over-long line without running it', async () => {
  const { h, input, handle, printed } = session();
  input.end(`/add ${'a'.repeat(5000)}\n`);
  await handle.closed;
  assert.match(printed(), /Line longer than 2000 characters; ignored/);
  assert.deepEqual(h.checks.stored, []);
});

test('console: the line splitter never holds more than one bounded line, however long the input line', () => {
  const splitter = new LineSplitter(10);
  const held = (): number => (splitter as unknown as { length: number }).length;
  const out: (string | typeof TOO_LONG)[] = [];
  out.push(...splitter.push('ab'));
  for (let i = 0; i < 1000; i++) {
    out.push(...splitter.push('x'.repeat(4096)));
    assert.ok(held() <= 11, `holds ${held()} characters`);
  }
  out.push(...splitter.push('tail\r\nlist 2\r\n/help'));
  out.push(...splitter.end());
  assert.deepEqual(out, [TOO_LONG, 'list 2', '/help']);
});

test('console: the line splitter keeps multi-byte characters split across chunks and accepts exactly MAX_LINE', () => {
  const splitter = new LineSplitter();
  const euro = Buffer.from('€\n', 'utf8');
  const lines = [...splitter.push(euro.subarray(0, 1)), ...splitter.push(euro.subarray(1)), ...splitter.push(`${'a'.repeat(MAX_LINE)}\r\n${'b'.repeat(MAX_LINE + 1)}\n`)];
  assert.deepEqual(lines, ['€', 'a'.repeat(MAX_LINE), TOO_LONG]);
});

test('console: an over-long line in a child process is refused without buffering it, and the session answers afterwards', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/console-child.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // 128 MB in one line, written in 1 MB chunks as fast as the pipe takes them.
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let i = 0; i < 128; i++) {
    if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end('\n/list\n');
  assert.equal(await exited, 0);
  assert.match(out, /^\[ERROR\] Line longer than 2000 characters; ignored\.$/m);
  assert.match(out, /No targets in this channel yet/);
  const peak = Number(/peak-rss-kb (\d+)/.exec(out)?.[1]);
  assert.ok(peak > 0 && peak < 150 * 1024, `peak RSS ${peak} kB`);
});

test('console: /quit and exit end the session without running later lines, and /help says how to leave', async () => {
  for (const word of ['/quit', 'exit', 'QUIT', '/exit']) {
    const { h, input, handle, printed } = session();
    input.write(`/help\n${word}\n/add late.example.com\n`);
    await handle.closed;
    assert.match(printed(), /Ctrl-D/);
    assert.match(printed(), /^Bye\.$/m, word);
    assert.deepEqual(await h.repo.listTargets(CONSOLE_CHANNEL), [], `nothing runs after ${word}`);
  }
});

test('console: a long pasted script is read with backpressure and every line is answered in order', async () => {
  const { input, handle, printed } = session();
  const lines = Array.from({ length: 300 }, (_, i) => `/add host${i}.example.com`);
  input.end(`${lines.join('\n')}\n/list\n`);
  await handle.closed;
  const out = printed();
  assert.equal(out.match(/Added as/g)?.length, 50, 'the harness limit is 50 targets');
  assert.equal(out.match(/the limit is 50/g)?.length, 250);
  assert.ok(out.indexOf('host49.example.com') < out.indexOf('50 targets in this channel'));
  assert.ok(out.lastIndexOf('the limit is 50') < out.indexOf('50 targets in this channel'), 'in input order');
});

test('console: its sender prints alerts and refuses other platforms permanently', async () => {
  const { input, handle, printed } = session();
  await handle.sender.send(CONSOLE_CHANNEL, { title: 'mail.example.com:587 expires in 7 days', status: 'warning', buttons: [{ label: 'Check now', command: 'check k3x9p2' }] });
  await assert.rejects(
    handle.sender.send({ platform: 'slack', channelId: 'C1' }, { title: 'x' }),
    (e) => e instanceof DeliveryError && e.options.permanent === true,
  );
  input.end();
  await handle.closed;
  assert.equal(printed(), '[alert] [WARNING] mail.example.com:587 expires in 7 days\n  Actions: /check k3x9p2\n');
});

test('console: an alert arriving at the prompt starts on its own line and the prompt comes back', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (c: Buffer) => (printed += c.toString('utf8')));
  const handle = startConsole({ input, output, dispatcher: harness().dispatch, prompt: true });
  await handle.sender.send(CONSOLE_CHANNEL, { title: 'x expires in 7 days', status: 'warning' });
  input.end();
  await handle.closed;
  assert.equal(printed, 'certwatch> \n[alert] [WARNING] x expires in 7 days\ncertwatch> ');
});

test('console: close() stops reading and resolves once pending commands are answered', async () => {
  const { input, handle, printed } = session();
  input.write('/list\n');
  await new Promise<void>((resolve) => setImmediate(resolve));
  handle.close();
  await handle.closed;
  assert.match(printed(), /No targets in this channel yet/);
});

test('console: plain rendering strips terminal escape sequences from any reply', () => {
  const text = renderPlain({ title: 'x\u001b[31mred', text: ['a\u0007b'], fields: [{ label: 'L\u001b', value: 'v\r\n' }], items: ['\u009bz'] });
  assert.doesNotMatch(text.replace(/\n/g, ''), /[\u0000-\u001f\u007f-\u009f]/);
});

test('console: parses command lines', () => {
  assert.deepEqual(parseLine('/add  mail.example.com:587  x '), { name: 'add', text: 'mail.example.com:587  x' });
  assert.deepEqual(parseLine('LIST 2'), { name: 'list', text: '2' });
  assert.equal(parseLine('   '), null);
  assert.equal(parseLine('# note'), null);
});

// --- `npm start` in console mode, as a user runs it: a child process on stdin/stdout. ---

/** Collects a child's stdout and resolves when a pattern appears (on the data event, no polling). */
function watch(stream: NodeJS.ReadableStream) {
  let text = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const w of [...waiters]) {
      const m = w.re.exec(text);
      if (m !== null) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    text: () => text,
    waitFor: (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve) => {
        const m = re.exec(text);
        if (m !== null) resolve(m);
        else waiters.push({ re, resolve });
      }),
  };
}

/** Runs `npm start` (the README's command) with a clean chat-free environment. */
function startMain(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SLACK_|TELEGRAM_|STORE_URL|REDIS_URL|HTTP_PORT|CONSOLE|npm_)/.test(k)));
  // Its own process group, so that a failing test can kill npm and the bot under it at once.
  const child = spawn('npm', ['start', '--silent'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...clean, LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const kill = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return { child, out: watch(child.stdout), exited, stderr: () => stderr, kill };
}

test('console: npm start without chat tokens adds and lists a TLS endpoint through stdin and stdout', { timeout: 60_000 }, async (t) => {
  const { root, serverCreds } = await testPki();
  const server = await startTlsServer(serverCreds);
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-console-'));
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const caFile = join(dir, 'root.pem');
  await writeFile(caFile, root.certPem);
  const env = { DATA_DIR: join(dir, 'data'), ALLOW_PRIVATE_TARGETS: 'true', EXTRA_CA_FILE: caFile };

  const first = startMain(env);
  t.after(first.kill);
  first.child.stdin.write(`/add 127.0.0.1:${server.port} "Local TLS"\n`);
  const added = await first.out.waitFor(/^\[(\w+)\] Local TLS \(127\.0\.0\.1:\d+\): .*\n {2}Added as (\w+)\./m);
  assert.equal(added[1], 'OK', first.out.text());
  const id = added[2]!;
  assert.match(first.out.text(), /^ {2}Protocol: tls, implicit TLS$/m);
  first.child.stdin.write('/list\n');
  await first.out.waitFor(/1 target in this channel/);
  assert.match(first.out.text(), new RegExp(`^ {2}- \\[OK\\] ${id} 127\\.0\\.0\\.1:${server.port} \\(tls\\) — ok, \\d+ days left — Local TLS$`, 'm'));
  first.child.stdin.end();
  assert.equal(await first.exited, 0, first.stderr());

  // The embedded store's replica id is kept in DATA_DIR (src/store/replica-id.ts), so a
  // recreated container (another host name) still owns the alerts pending under it.
  assert.match(readFileSync(join(dir, 'data', 'replica-id'), 'utf8'), /^[A-Za-z0-9._-]{1,64}\n$/);

  // The target survived the restart: it lives in DATA_DIR's SQLite store.
  const second = startMain(env);
  t.after(second.kill);
  second.child.stdin.end('list\n');
  assert.equal(await second.exited, 0, second.stderr());
  assert.match(second.out.text(), new RegExp(`- \\[OK\\] ${id} 127\\.0\\.0\\.1:${server.port} `));
});
