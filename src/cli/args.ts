import { parseArgs } from 'node:util';
import { isProtocolName, protocolNames, type Mode, type ProtocolName } from '../probe/protocols/index.ts';
import { isHostName, withoutUserinfo } from '../probe/target.ts';

/** Bad command-line input; main prints the message and exits 3. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

/** What `certwatch check` was asked to do, before any file is read. */
export interface CheckArgs {
  kind: 'check';
  json: boolean;
  /** Extra trust anchors: PEM files, several certificates per file allowed. */
  caFiles: string[];
  /** Target list files (`-` is standard input). */
  files: string[];
  /** Targets given as arguments, unparsed. */
  targets: string[];
  protocol?: ProtocolName;
  mode?: Mode;
  servername?: string;
  /** -4 / -6: probe only IPv4 or IPv6 addresses of host names. */
  family?: 4 | 6;
  timeoutMs: number;
  warnDays: number;
  critDays: number;
  concurrency: number;
  /** --mail: mail domains to check (MX, SRV, DANE, MTA-STS, TLS-RPT), see src/cli/mail.ts. */
  mail?: string[];
  /** --dns-server: resolvers for --mail (default: /etc/resolv.conf). */
  dnsServers?: string[];
  /** --no-revocation: no stapled OCSP, CRL, OCSP responder or AIA fetching. */
  noRevocation?: true;
}

/** A parsed command line. */
export type CliCommand = CheckArgs | { kind: 'help'; topic: 'main' | 'check' } | { kind: 'version' };

/** Defaults and bounds of the numeric options (documented in docs/cli.md). */
export const limits = {
  timeoutMs: { default: 10_000, min: 100, max: 600_000 },
  warnDays: { default: 30, min: 0, max: 3650 },
  critDays: { default: 7, min: 0, max: 3650 },
  concurrency: { default: 10, min: 1, max: 500 },
} as const;

const checkOptions = {
  json: { type: 'boolean' },
  ca: { type: 'string', multiple: true },
  servername: { type: 'string' },
  protocol: { type: 'string' },
  mode: { type: 'string' },
  timeout: { type: 'string' },
  'warn-days': { type: 'string' },
  'crit-days': { type: 'string' },
  file: { type: 'string', short: 'f', multiple: true },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ipv4: { type: 'boolean', short: '4' },
  ipv6: { type: 'boolean', short: '6' },
  mail: { type: 'string', multiple: true },
  'dns-server': { type: 'string', multiple: true },
  'no-revocation': { type: 'boolean' },
} as const;

/** Parses argv (without node and script) into a command, or throws UsageError. */
export function parseCli(argv: readonly string[]): CliCommand {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
      throw new UsageError('missing command; try "certwatch check example.com" or "certwatch help"');
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help', topic: rest[0] === 'check' ? 'check' : 'main' };
    case 'version':
    case '--version':
    case '-V':
      return { kind: 'version' };
    case 'check':
      return parseCheck(rest);
    default:
      throw new UsageError(`unknown command "${first}"; the commands are check, bot, help and version`);
  }
}

function parseCheck(args: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: checkOptions, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(explainParseError(err, args));
  }
  const { values: v, positionals } = parsed;
  if (v.help === true) return { kind: 'help', topic: 'check' };

  const files = v.file ?? [];
  if (positionals.length === 0 && files.length === 0 && v.mail === undefined) {
    throw new UsageError('no target given; name at least one target (host[:port]) or a file with -f');
  }
  const warnDays = intOption('--warn-days', v['warn-days'], limits.warnDays);
  const critDays = intOption('--crit-days', v['crit-days'], limits.critDays);
  if (critDays > warnDays) {
    throw new UsageError(`--crit-days (${critDays}) must not exceed --warn-days (${warnDays})`);
  }
  if (v.ipv4 === true && v.ipv6 === true) throw new UsageError('-4 and -6 exclude each other; give at most one');
  return {
    kind: 'check',
    json: v.json === true,
    ...(v['no-revocation'] === true ? { noRevocation: true as const } : {}),
    ...(v.ipv4 === true ? { family: 4 as const } : v.ipv6 === true ? { family: 6 as const } : {}),
    caFiles: v.ca ?? [],
    files,
    targets: positionals,
    ...protocolOption(v.protocol),
    ...modeOption(v.mode),
    ...servernameOption(v.servername),
    timeoutMs: intOption('--timeout', v.timeout, limits.timeoutMs),
    warnDays,
    critDays,
    concurrency: intOption('--concurrency', v.concurrency, limits.concurrency),
    ...(v.mail === undefined ? {} : { mail: v.mail }),
    ...(v['dns-server'] === undefined ? {} : { dnsServers: v['dns-server'] }),
  };
}

function protocolOption(value: string | undefined): { protocol?: ProtocolName } {
  if (value === undefined) return {};
  const name = value.toLowerCase();
  if (!isProtocolName(name)) {
    throw new UsageError(`--protocol: unknown protocol "${value}"; known: ${protocolNames.join(', ')}`);
  }
  return { protocol: name };
}

function modeOption(value: string | undefined): { mode?: Mode } {
  if (value === undefined) return {};
  if (value !== 'implicit' && value !== 'starttls') {
    throw new UsageError(`--mode: unknown mode "${value}"; use implicit or starttls`);
  }
  return { mode: value };
}

/**
 * Checked here, once: left to parseTarget, an empty name was ignored (an unset shell variable
 * checked the host instead) and a bad one was blamed on the first target or list line.
 */
function servernameOption(value: string | undefined): { servername?: string } {
  if (value === undefined) return {};
  if (value.trim() === '') throw new UsageError('--servername needs a host name');
  if (!isHostName(value)) throw new UsageError(`--servername: "${withoutUserinfo(value)}" is not a valid host name`);
  return { servername: value };
}

function intOption(name: string, value: string | undefined, bounds: { default: number; min: number; max: number }): number {
  if (value === undefined) return bounds.default;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${name}: "${value}" is not a whole number`);
  const n = Number(value);
  if (n < bounds.min || n > bounds.max) {
    throw new UsageError(`${name}: ${n} is outside ${bounds.min}-${bounds.max}`);
  }
  return n;
}

const numericOptions: ReadonlySet<string> = new Set(['--timeout', '--warn-days', '--crit-days', '--concurrency']);

/** parseArgs messages mention internals ("place it at the end after '--'"); keep what matters. */
function explainParseError(err: unknown, args: readonly string[]): string {
  const message = (err as { message?: string }).message ?? String(err);
  const option = /'(-[^' ,]+)/.exec(message)?.[1] ?? 'an option';
  const code = (err as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}; see "certwatch check --help"`;
  // parseArgs calls "--timeout -5" ambiguous (is -5 an option?); for a number it is the value.
  const value = args.find((a, i) => args[i - 1] === option && a.startsWith('-'));
  if (/ambiguous/.test(message) && numericOptions.has(option) && value !== undefined && /^-\d/.test(value)) {
    return `${option}: "${value}" is not a whole number`;
  }
  if (/argument missing|ambiguous/.test(message)) return `${option} needs a value`;
  if (/does not take an argument/.test(message)) return `${option} does not take a value`;
  return message;
}
