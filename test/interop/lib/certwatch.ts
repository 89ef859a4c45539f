// Runs the real CLI (`node bin/certwatch.js check --json`) on every endpoint in one invocation.
import { join } from 'node:path';
import type { Endpoint } from './context.ts';
import { run } from './run.ts';

/** The fields of one `--json` result the suite asserts on (the CLI contract in the README). */
export interface CheckResult {
  target: { input: string; host: string; port: number; protocol: string; mode: string; servername: string | null };
  address: string | null;
  status: string;
  problems: { code: string; severity: string; message: string }[];
  notes?: { code: string; message: string }[];
  error: { code: string; message: string } | null;
  certificate: { notAfter: string; fingerprint256: string } | null;
  chain: unknown[];
  trusted: boolean | null;
}

export function targetOf(e: Endpoint): string {
  return `${e.scheme}://127.0.0.1:${e.port}`;
}

/** Checks all endpoints; returns results keyed by port (each endpoint has its own port). */
export async function checkAll(repo: string, rootCa: string, servername: string, endpoints: Endpoint[]): Promise<Map<number, CheckResult>> {
  const args = [join(repo, 'bin/certwatch.js'), 'check', '--json', '--ca', rootCa, '--servername', servername];
  args.push('--timeout', '20000', '--concurrency', '6', ...endpoints.map(targetOf));
  const r = await run(process.execPath, args, 180_000);
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new Error(`certwatch check printed no JSON (exit ${r.code})\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(-4000)}`);
  }
  if (!Array.isArray(parsed)) throw new Error('certwatch check --json did not print an array');
  // Nagios-style exit: 0..2 mean it checked; 3 would mean nothing could be checked for some target.
  if (r.code === null || r.code > 3) throw new Error(`certwatch check exited ${r.code}\n${r.stderr.slice(-4000)}`);
  const byPort = new Map<number, CheckResult>();
  for (const item of parsed as CheckResult[]) byPort.set(item.target.port, item);
  return byPort;
}
