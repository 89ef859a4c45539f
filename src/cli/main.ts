import { readFileSync, realpathSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { TrustStore, TrustStoreError } from '../cert/trust.ts';
import { formatHostPort } from '../probe/errors.ts';
import { Prober } from '../probe/probe.ts';
import { HttpClient } from '../net/http-client.ts';
import { Revocation } from '../revocation/index.ts';
import { createAddressPolicy } from '../security/address-policy.ts';
import type { ProbeResult } from '../probe/result.ts';
import { TargetError, parseTarget, type Target } from '../probe/target.ts';
import { UsageError, parseCli, type CheckArgs } from './args.ts';
import { streamCheck, targetKey, type CheckProgress } from './check.ts';
import { exitStatus, StatusTally } from './exit-status.ts';
import { cell, JsonArrayWriter, TableBuilder } from './format.ts';
import { runMailCheck } from './mail.ts';
import { checkHelp, mainHelp } from './help.ts';
import { readBounded } from './read-bounded.ts';
import { streamTargetList, type ListedTarget } from './target-list.ts';

/** A writable the CLI prints to; tests pass a collector, the entry passes process streams. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** tty.WriteStream.hasColors: false when NO_COLOR/NODE_DISABLE_COLORS is set or TERM=dumb. */
  hasColors?(): boolean;
  /** Present on real streams: after write() returned false, wait for 'drain'. */
  once?(event: 'drain', listener: () => void): unknown;
}

/** Everything the CLI touches outside itself. */
export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Read for `-f -`. */
  stdin: Readable;
}

/** A CA bundle larger than this is refused (the whole Mozilla bundle is about 220 KiB). */
const maxCaBytes = 1024 * 1024;

/** Runs one command line (argv without node and script) and returns the exit status. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    const command = parseCli(argv);
    switch (command.kind) {
      case 'help':
        io.stdout.write(command.topic === 'check' ? checkHelp() : mainHelp());
        return exitStatus.ok;
      case 'version':
        io.stdout.write(`certwatch ${version()} (Node.js ${process.versions.node})\n`);
        return exitStatus.ok;
      case 'check':
        return await runCheck(command, io);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`certwatch: ${cell(err.message, 2000)}\n`);
      return exitStatus.unknown;
    }
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr.write(`certwatch: internal error: ${detail}\n`);
    return exitStatus.unknown;
  }
}

async function runCheck(args: CheckArgs, io: CliIO): Promise<number> {
  if (args.mail !== undefined) {
    if (args.targets.length > 0 || args.files.length > 0) throw new UsageError('--mail checks domains; give targets in a separate run');
    const caPems = await Promise.all(args.caFiles.map((f) => readBounded('--ca', f, maxCaBytes, io.stdin)));
    return runMailCheck({ args, caPems, write: (t) => io.stdout.write(t) });
  }
  // Everything is validated before the first probe: a typo on line 900 of a list must not
  // surface after 899 probes. Targets are kept (about 200 bytes each); results are not.
  const targets = await loadTargets(args, io.stdin);
  if (targets.length === 0) throw new UsageError(`no target found in ${args.files.join(', ')}`);
  const trust = await loadTrust(args.caFiles, io.stdin);
  // The CLI probes what its user names, private hosts included, so certificate URLs may be
  // private too (a private PKI's CRL server); cloud metadata stays refused.
  const revocation = args.noRevocation === true ? undefined : new Revocation({ http: new HttpClient({ addressPolicy: createAddressPolicy({ allowPrivate: true }) }) });
  const prober = new Prober({ trust, ...(revocation === undefined ? {} : { revocation }) });
  const progress = io.stderr.isTTY === true && targets.length > 1 ? progressLine(io.stderr) : undefined;
  const tally = new StatusTally();
  // JSON goes out as results arrive (in target order); the table needs every row's width
  // first, so it keeps each row's rendered cells and prints at the end.
  const json = args.json ? new JsonArrayWriter() : null;
  const table = args.json ? null : new TableBuilder();
  await streamCheck(
    targets,
    { prober, concurrency: args.concurrency, timeoutMs: args.timeoutMs, warnDays: args.warnDays, critDays: args.critDays, ...(args.family === undefined ? {} : { family: args.family }) },
    async (results) => {
      tally.add(results);
      if (json !== null) await write(io.stdout, json.next(results));
      else table?.add(results);
    },
    progress,
  );
  if (progress !== undefined) io.stderr.write('\r\u001b[K');
  if (json !== null) await write(io.stdout, json.end());
  for (const chunk of table?.render({ color: colorOn(io.stdout) }) ?? []) await write(io.stdout, chunk);
  return tally.exitStatus();
}

/** Writes and, when the stream says its buffer is full, waits for it to drain. */
async function write(out: OutputStream, text: string): Promise<void> {
  if (text === '' || out.write(text) !== false || out.once === undefined) return;
  await new Promise<void>((resolve) => out.once?.('drain', resolve));
}

/**
 * Reads, parses and de-duplicates every target (arguments first, then each file in order),
 * streaming the files: one parsed target per distinct endpoint is kept, nothing else.
 */
async function loadTargets(args: CheckArgs, stdin: Readable): Promise<Target[]> {
  const overrides = {
    ...(args.protocol === undefined ? {} : { protocol: args.protocol }),
    ...(args.mode === undefined ? {} : { mode: args.mode }),
    ...(args.servername === undefined ? {} : { servername: args.servername }),
  };
  const seen = new Set<string>();
  const out: Target[] = [];
  const take = ({ input, source }: ListedTarget): void => {
    let target: Target;
    try {
      target = parseTarget(input, overrides);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      // Arguments are named by the message itself; file lines need their path and line.
      throw new UsageError(source.startsWith('argument') ? err.message : `${source}: ${err.message}`);
    }
    const key = targetKey(target);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(target);
  };
  args.targets.forEach((input, i) => take({ input, source: `argument ${i + 1}` }));
  for (const file of args.files) for await (const listed of streamTargetList(file, stdin)) take(listed);
  return out;
}

async function loadTrust(caFiles: readonly string[], stdin: Readable): Promise<TrustStore> {
  let trust = TrustStore.bundled();
  for (const file of caFiles) {
    const pem = await readBounded('--ca', file, maxCaBytes, stdin);
    try {
      trust = trust.withExtra(pem, `--ca ${file}`);
    } catch (err) {
      if (err instanceof TrustStoreError) throw new UsageError(err.message);
      throw err;
    }
  }
  return trust;
}

/** `[12/40] host:port` rewritten in place on a TTY; cleared before the table is printed. */
function progressLine(stderr: OutputStream): CheckProgress {
  return (done, total, target: Target, results: readonly ProbeResult[]) => {
    const where = cell(formatHostPort(target.host, target.port), 60);
    const status = results.map((r) => r.status).join(',');
    stderr.write(`\r\u001b[K[${done}/${total}] ${where} ${status}`);
  };
}

function colorOn(stdout: OutputStream): boolean {
  return stdout.isTTY === true && stdout.hasColors?.() === true;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** The thin process entry: the only place that touches process streams and the exit code. */
export async function runAsProcess(): Promise<void> {
  // `certwatch check ... | head -1` closes the pipe early: that is not a crash, and needs no
  // word. Any other failure (a full disk) is one line, and never a status that claims a
  // check ran: the output the caller asked for is lost, so 3.
  const outputFailed = (err: NodeJS.ErrnoException): never => {
    if (err.code !== 'EPIPE') process.stderr.write(`certwatch: cannot write the output (${cell(err.code ?? err.message)})\n`);
    process.exit(exitStatus.unknown);
  };
  process.stdout.on('error', outputFailed);
  const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
  // Exit once stdout has flushed: a large --json array piped to another program must not be
  // cut short, and a TLS socket still closing must not hold the process open. A write that
  // failed earlier reports here (the 'error' event may come after this callback).
  process.stdout.write('', (err) => (err ? outputFailed(err) : process.exit(code)));
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntry()) await runAsProcess();
