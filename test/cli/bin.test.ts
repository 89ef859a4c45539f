import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ProbeResult } from '../../src/probe/result.ts';
import { startTlsServer, type FakeServer } from '../helpers/fake-server.ts';
import { testPki } from '../helpers/pki.ts';

const bin = fileURLToPath(new URL('../../bin/certwatch.js', import.meta.url));

const mainTs = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function runBin(args: string[], entry: string[] = [bin]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...entry, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bin/certwatch.js as a child process', () => {
  let dir: string;
  let server: FakeServer;
  let caFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certwatch-bin-'));
    const pki = await testPki();
    caFile = join(dir, 'root.pem');
    await writeFile(caFile, pki.root.certPem);
    server = await startTlsServer(pki.serverCreds);
  });

  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('bin: check --json prints the JSON array on stdout and exits 0 for a valid certificate', async () => {
    const { code, stdout, stderr } = await runBin(['check', '--json', '--ca', caFile, '--servername', 'localhost', `127.0.0.1:${server.port}`]);
    assert.equal(stderr, '');
    const results = JSON.parse(stdout) as ProbeResult[];
    assert.equal(results.length, 1);
    assert.equal(results[0]?.status, 'ok');
    assert.equal(results[0]?.target.port, server.port);
    assert.equal(code, 0);
  });

  it('bin: bad usage prints one line on stderr and exits 3', async () => {
    const { code, stdout, stderr } = await runBin(['check', '--timeout', 'soon', 'example.com']);
    assert.equal(code, 3);
    assert.equal(stdout, '');
    assert.equal(stderr, 'certwatch: --timeout: "soon" is not a whole number\n');
  });

  it('bin: on a Node.js older than 22.18 it says which runtime it found and exits 3', async (t) => {
    // The system Node.js of the development machines and CI is 20: the one npm itself runs on.
    const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && Number(execFileSync(p, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' })) < 22);
    if (old === undefined) return t.skip('no Node.js older than 22 on this machine');
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(old, [bin, '--version'], { timeout: 30_000 }, (err, out, errOut) => resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout: out, stderr: errOut }));
    });
    assert.equal(code, 3);
    assert.equal(stdout, '');
    assert.match(stderr, /^certwatch: this is Node\.js 2\d\.\d+\.\d+ \(.+\); certwatch needs Node\.js 22\.18 or newer, 24 LTS recommended\.\n/);
  });

  it('entry: src/cli/main.ts run directly (npm run check) is the CLI too', async () => {
    const { code, stdout } = await runBin(['--version'], [mainTs]);
    assert.equal(code, 0);
    assert.match(stdout, /^certwatch \d+\.\d+\.\d+ \(Node\.js 2\d\.\d+\.\d+\)\n$/);
  });
});

describe('bin/certwatch.js when stdout fails', () => {
  let dir: string;
  let closedPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certwatch-out-'));
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function runTo(stdout: 'full' | 'pipe', args: string[], onStdout?: (child: ChildProcess) => void): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const fd = stdout === 'full' ? openSync('/dev/full', 'w') : undefined;
      const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', fd ?? 'pipe', 'pipe'] });
      if (fd !== undefined) closeSync(fd);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      onStdout?.(child);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('bin: a full disk on stdout is one line on stderr and exit 3, not a stack trace or exit 0/1', async (t) => {
    if (!existsSync('/dev/full')) return t.skip('no /dev/full on this system');
    const list = join(dir, 'many.txt');
    await writeFile(list, Array.from({ length: 300 }, (_, i) => `127.0.0.${(i % 250) + 1}:${closedPort}`).join('\n'));
    for (const args of [['help'], ['check', '--json', '--timeout', '2000', '-f', list], ['check', '--timeout', '2000', `127.0.0.1:${closedPort}`]]) {
      const { code, stderr } = await runTo('full', args);
      assert.equal(code, 3, `${args.join(' ')}: ${stderr}`);
      assert.equal(stderr, 'certwatch: cannot write the output (ENOSPC)\n', args.join(' '));
    }
  });

  it('bin: a reader that closes the pipe early (| head -1) ends the run quietly with exit 3', async () => {
    const list = join(dir, 'epipe.txt');
    await writeFile(list, Array.from({ length: 2000 }, (_, i) => `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}:${closedPort}`).join('\n'));
    const { code, stderr } = await runTo('pipe', ['check', '--json', '--timeout', '2000', '-f', list], (child) => {
      child.stdout!.once('data', () => child.stdout!.destroy());
    });
    assert.equal(stderr, '');
    assert.equal(code, 3);
  });
});
