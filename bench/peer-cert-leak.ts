// Evidence for a native memory leak: N handshakes reading the peer chain with
// getPeerX509Certificate() (the read that would keep the wire order) versus getPeerCertificate(true),
// each variant in a fresh process with a forced GC every 500 handshakes, so that any growth
// left is native memory that is never freed. Usage: node bench/peer-cert-leak.ts [n]
import { fork, type ChildProcess } from 'node:child_process';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { mapLimit } from '../src/util/concurrency.ts';
import type { BenchServers } from './servers.ts';

type Variant = 'x509' | 'legacy' | 'none';
interface Job {
  port: number;
  n: number;
  variant: Variant;
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const child = (file: string, args: string[]): ChildProcess =>
  fork(here(file), args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const answer = <T>(c: ChildProcess): Promise<T> => new Promise((resolve) => c.once('message', (m) => resolve(m as T)));

function readChain(tls: ReturnType<typeof tlsConnect>, variant: Variant): number {
  let count = 0;
  if (variant === 'x509') {
    for (let c = tls.getPeerX509Certificate(); c !== undefined && count < 20; c = c.issuerCertificate) if (c.raw.length > 0) count++;
  } else if (variant === 'legacy') {
    const seen = new Set<string>();
    for (let c = tls.getPeerCertificate(true); c?.raw !== undefined && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
      seen.add(c.fingerprint256);
      count++;
    }
  }
  return count;
}

async function worker(job: Job): Promise<number> {
  const context = createSecureContext();
  const gc = (globalThis as { gc?: () => void }).gc;
  let done = 0;
  await mapLimit(Array.from({ length: job.n }), 100, () =>
    new Promise<void>((resolve, reject) => {
      const tls = tlsConnect({ host: '127.0.0.1', port: job.port, servername: 'localhost', secureContext: context, rejectUnauthorized: false });
      tls.once('error', reject);
      tls.once('secureConnect', () => {
        readChain(tls, job.variant);
        tls.on('error', () => {});
        tls.end();
        if (++done % 500 === 0) gc?.();
        resolve();
      });
    }),
  );
  return process.resourceUsage().maxRSS * 1024;
}

if (process.argv[2] === '--worker') {
  process.once('message', (job: Job) => void worker(job).then((rss) => process.send?.(rss, () => process.exit(0))));
} else {
  const n = Number(process.argv[2] ?? 20_000);
  const servers = child('./servers.ts', []);
  const { implicitPort } = await answer<BenchServers>(servers);
  console.log(`${n} handshakes per variant, concurrency 100, GC forced every 500 (node ${process.version})`);
  for (const variant of ['none', 'legacy', 'x509'] as const) {
    const w = child('./peer-cert-leak.ts', ['--worker']);
    w.send({ port: implicitPort, n, variant } satisfies Job);
    const rss = await answer<number>(w);
    const what = { none: 'no certificate read', legacy: 'getPeerCertificate(true)', x509: 'getPeerX509Certificate() + issuerCertificate' }[variant];
    console.log(`  ${what.padEnd(46)} peak RSS ${(rss / 1024 / 1024).toFixed(1)} MiB`);
  }
  servers.disconnect();
}
