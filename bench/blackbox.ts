// The third side of `npm run bench`: Prometheus blackbox_exporter (Debian's
// prometheus-blackbox-exporter) probing the same endpoints, driven by HTTP /probe requests at
// the same concurrency. Its CPU is read from /proc/<pid>/stat, so only the exporter's own work
// (HTTP, probe, TLS, verification, metrics) is counted. Nothing is installed: when the binary
// is absent the bench prints a note and goes on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapLimit } from '../src/util/concurrency.ts';

/** Module names in the generated configuration. */
export type BlackboxModule = 'tls_connect' | 'smtp_starttls';

/** A running exporter. */
export interface Blackbox {
  version: string;
  /** One /probe request; resolves true when the exporter reports probe_success 1. */
  probe(module: BlackboxModule, port: number): Promise<boolean>;
  /** The exporter's user+system CPU so far, in milliseconds. */
  cpuMs(): number;
  stop(): void;
}

const binaries = ['prometheus-blackbox-exporter', 'blackbox_exporter'];

/**
 * Both modules verify the chain against the bench root and the name "localhost", as
 * certwatch judges trust and host name: the same work on both sides. The SMTP module is the
 * query_response STARTTLS exchange from blackbox's own example configuration.
 */
function config(caFile: string): string {
  const tls = `      tls_config:\n        ca_file: ${JSON.stringify(caFile)}\n        server_name: localhost\n`;
  return [
    'modules:',
    '  tls_connect:',
    '    prober: tcp',
    '    timeout: 10s',
    '    tcp:',
    '      tls: true',
    tls,
    '  smtp_starttls:',
    '    prober: tcp',
    '    timeout: 10s',
    '    tcp:',
    '      query_response:',
    '        - expect: "^220 "',
    '        - send: "EHLO prober\\r"',
    '        - expect: "^250 STARTTLS"',
    '        - send: "STARTTLS\\r"',
    '        - expect: "^220"',
    '          starttls: true',
    tls,
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function waitReady(child: ChildProcess, port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) return reject(new Error(`blackbox_exporter exited (${child.exitCode})`));
      const req = get({ host: '127.0.0.1', port, path: '/-/healthy', timeout: 1000 }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve();
        else retry();
      });
      req.on('error', retry);
    };
    const retry = (): void => {
      if (Date.now() > until) reject(new Error('blackbox_exporter did not become ready'));
      else setTimeout(attempt, 100);
    };
    attempt();
  });
}

/** Starts the exporter on loopback, or returns why it cannot (not installed). */
export async function startBlackbox(rootPem: string): Promise<Blackbox | string> {
  const binary = binaries.find((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status === 0);
  if (binary === undefined) return 'blackbox_exporter not installed (Debian: apt-get install prometheus-blackbox-exporter)';
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const version = /version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-blackbox-'));
  const caFile = join(dir, 'root.pem');
  writeFileSync(caFile, rootPem);
  writeFileSync(join(dir, 'blackbox.yml'), config(caFile));
  const port = await freePort();
  const child = spawn(binary, [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = (): void => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(child, port, 10_000);
  } catch (err) {
    stop();
    return `blackbox_exporter did not start: ${(err as Error).message}`;
  }
  const pid = child.pid as number;
  const ticksPerSec = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  return {
    version,
    probe: (module, target) =>
      new Promise((resolve) => {
        const path = `/probe?module=${module}&target=127.0.0.1:${target}`;
        const req = get({ host: '127.0.0.1', port, path, agent, timeout: 15_000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (body.length < 100_000) body += c;
          });
          res.on('end', () => resolve(/^probe_success 1$/m.test(body)));
          res.on('error', () => resolve(false));
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
      }),
    cpuMs: () => {
      // /proc/<pid>/stat: fields 14 and 15 (utime, stime) after the parenthesised name.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) / ticksPerSec) * 1000;
    },
    stop: () => {
      agent.destroy();
      stop();
    },
  };
}

/** n probes at the given concurrency; resolves the number that failed. */
export async function blackboxBatch(bb: Blackbox, module: BlackboxModule, port: number, n: number, concurrency: number): Promise<number> {
  const ok = await mapLimit(Array.from({ length: n }), concurrency, () => bb.probe(module, port));
  return ok.filter((x) => !x).length;
}
