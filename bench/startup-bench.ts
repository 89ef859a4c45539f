// Start-up cost of the entry points, side by side in one run (median wall time of N runs):
// what `npx certwatch` / `npm start` spend before the first probe, against the bare runtime
// and against npx's own start. Usage: npm run bench:startup [-- runs]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 15);
const root = new URL('..', import.meta.url).pathname;
const node = process.execPath;
const data = mkdtempSync(join(tmpdir(), 'certwatch-startup-'));

interface Side {
  name: string;
  cmd: string;
  args: string[];
  input?: string;
}

const sides: Side[] = [
  { name: 'node -e 0 (the bare runtime)', cmd: node, args: ['-e', '0'] },
  { name: 'node bin/certwatch.js --version', cmd: node, args: ['bin/certwatch.js', '--version'] },
  // A refused connection on loopback: the whole CLI path (args, trust store, prober, one probe, output).
  { name: 'node bin/certwatch.js check 127.0.0.1:1', cmd: node, args: ['bin/certwatch.js', 'check', '--json', '127.0.0.1:1'] },
  // The bot to its console prompt and out again on end of input (store opened, scheduler armed).
  { name: 'node bin/certwatch.js bot (console, EOF)', cmd: node, args: ['bin/certwatch.js', 'bot'], input: '' },
  { name: 'npx node -e 0 (npx\'s own start)', cmd: 'npx', args: ['--no-install', 'node', '-e', '0'] },
  { name: 'npx certwatch --version', cmd: 'npx', args: ['--no-install', 'certwatch', '--version'] },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const results = new Map<string, number>();
for (const side of sides) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(side.cmd, side.args, {
      cwd: root,
      input: side.input ?? '',
      env: { ...process.env, DATA_DIR: data, LOG_LEVEL: 'error', CONSOLE: 'on', NO_COLOR: '1' },
      encoding: 'utf8',
    });
    times.push(performance.now() - t0);
    if (r.error !== undefined) throw r.error;
  }
  results.set(side.name, median(times));
  console.log(`${side.name.padEnd(44)} ${median(times).toFixed(0).padStart(5)} ms (median of ${runs})`);
}
rmSync(data, { recursive: true, force: true });

const bare = results.get(sides[0]!.name)!;
const npx = results.get(sides[4]!.name)!;
console.log('');
console.log(`certwatch --version beyond the bare runtime:  ${(results.get(sides[1]!.name)! - bare).toFixed(0)} ms`);
console.log(`check (one refused probe) beyond the runtime: ${(results.get(sides[2]!.name)! - bare).toFixed(0)} ms`);
console.log(`bot start and stop beyond the runtime:        ${(results.get(sides[3]!.name)! - bare).toFixed(0)} ms`);
console.log(`npx certwatch --version beyond npx's start:   ${(results.get(sides[5]!.name)! - npx).toFixed(0)} ms (target: well under 300 ms)`);
