import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import {
  defaultPort,
  isProtocolName,
  protocolNames,
  rowForPort,
  rowForScheme,
  supportsMode,
  wellKnown,
  type Mode,
  type ProtocolName,
} from './protocols/index.ts';

/** A fully resolved endpoint to probe. */
export interface Target {
  /** What the user typed. */
  input: string;
  /** Host name in ASCII (punycode), or an IP literal without brackets. */
  host: string;
  port: number;
  protocol: ProtocolName;
  mode: Mode;
  /** SNI and the name certificates are checked against; empty for a bare IP. */
  servername: string;
}

/** Overrides the user may give next to a target. */
export interface TargetOverrides {
  protocol?: string;
  mode?: string;
  servername?: string;
}

/** Bad target input; the message names what is wrong and how to write it. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
  readonly code = 'BAD_TARGET';
}

const MAX_INPUT = 300;
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * `text` with everything up to its last "@" (a URL's user:password) replaced by "…", so an
 * error or reply that quotes what the user typed never repeats a password. No host name or
 * address contains "@", so nothing a target needs is hidden.
 */
export function withoutUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^]*@/i, '$1…@');
}

/** Parses `host`, `host:port`, `[v6]:port`, `v6`, or `scheme://host[:port]` and applies overrides. */
export function parseTarget(input: string, overrides: TargetOverrides = {}): Target {
  const raw = input.trim();
  if (raw === '') throw new TargetError('empty target: expected host[:port], [ipv6]:port or scheme://host[:port]');
  if (raw.length > MAX_INPUT) throw new TargetError(`target longer than ${MAX_INPUT} characters`);
  // Before any message quotes `raw`: "user:secret@host" (no scheme) would otherwise be
  // answered as host "user" with port "secret@host", the password in the reply.
  if (raw.includes('@')) throw new TargetError(`"${withoutUserinfo(raw)}": user names and passwords do not belong in a target`);

  let rest = raw;
  let scheme: string | undefined;
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(raw);
  if (m !== null) {
    scheme = m[1]!.toLowerCase();
    rest = m[2]!.replace(/\/$/, '');
    if (rest.includes('/') || rest.includes('?') || rest.includes('#')) {
      throw new TargetError(`"${raw}": only scheme://host[:port] is accepted, without a path`);
    }
  }
  const { host, port: explicitPort } = splitHostPort(rest, raw);

  let protocol: ProtocolName;
  let mode: Mode;
  let port: number;
  if (scheme !== undefined) {
    const row = rowForScheme(scheme);
    if (row === undefined) {
      const known = [...new Set(wellKnown.map((r) => r.scheme).filter((s) => s !== null))].join(', ');
      throw new TargetError(`unknown scheme "${scheme}://"; known schemes: ${known}`);
    }
    ({ protocol, mode } = row);
    port = explicitPort ?? row.port;
  } else {
    port = explicitPort ?? 443;
    const row = rowForPort(port);
    protocol = row?.protocol ?? 'tls';
    mode = row?.mode ?? 'implicit';
  }

  if (overrides.protocol !== undefined) {
    const p = overrides.protocol.toLowerCase();
    if (!isProtocolName(p)) {
      throw new TargetError(`unknown protocol "${overrides.protocol}"; known: ${protocolNames.join(', ')}`);
    }
    protocol = p;
    if (overrides.mode === undefined) {
      const sameRow = wellKnown.find((r) => r.protocol === p && r.port === port);
      mode = sameRow?.mode ?? (supportsMode(p, 'starttls') ? 'starttls' : 'implicit');
    }
    if (explicitPort === undefined && scheme === undefined) port = defaultPort(p, mode) ?? port;
  }
  if (overrides.mode !== undefined) {
    if (overrides.mode !== 'implicit' && overrides.mode !== 'starttls') {
      throw new TargetError(`unknown mode "${overrides.mode}"; use implicit or starttls`);
    }
    mode = overrides.mode;
    if (explicitPort === undefined && scheme === undefined) port = defaultPort(protocol, mode) ?? port;
  }
  if (!supportsMode(protocol, mode)) {
    throw new TargetError(`${protocol} has no STARTTLS dialect; use --mode implicit or name a protocol with --protocol`);
  }

  let servername = isIP(host) === 0 ? host : '';
  if (overrides.servername !== undefined && overrides.servername !== '') {
    servername = normalizeHostName(overrides.servername, overrides.servername);
  }
  return { input: raw, host, port, protocol, mode, servername };
}

function splitHostPort(text: string, raw: string): { host: string; port: number | undefined } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new TargetError(`"${raw}": missing "]" after the IPv6 address`);
    const host = text.slice(1, close);
    if (isIP(host) !== 6) throw new TargetError(`"${raw}": "${host}" is not an IPv6 address`);
    const after = text.slice(close + 1);
    if (after === '') return { host, port: undefined };
    if (!after.startsWith(':')) throw new TargetError(`"${raw}": expected ":port" after "]"`);
    return { host, port: parsePort(after.slice(1), raw) };
  }
  const colons = text.split(':').length - 1;
  if (colons > 1) {
    if (isIP(text) === 6) return { host: text, port: undefined };
    throw new TargetError(`"${raw}": write IPv6 addresses with a port as [address]:port`);
  }
  if (colons === 1) {
    const i = text.indexOf(':');
    return { host: normalizeHostName(text.slice(0, i), raw), port: parsePort(text.slice(i + 1), raw) };
  }
  return { host: normalizeHostName(text, raw), port: undefined };
}

function parsePort(text: string, raw: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new TargetError(`"${raw}": port "${text}" is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new TargetError(`"${raw}": port ${port} is outside 1-65535`);
  return port;
}

/** Whether `text` is an IP literal or a host name a target may carry (as --servername must be). */
export function isHostName(text: string): boolean {
  try {
    normalizeHostName(text, text);
    return true;
  } catch {
    return false;
  }
}

/** IP literals pass through; names become lower-case ASCII (IDN to punycode) and are validated. */
function normalizeHostName(text: string, raw: string): string {
  if (text === '') throw new TargetError(`"${raw}": missing host name`);
  if (isIP(text) !== 0) return text;
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  // domainToASCII silently drops what follows "/", "?" or "#": refuse such characters first.
  if (/[^\p{L}\p{M}\p{N}._-]/u.test(name)) throw new TargetError(`"${raw}": "${text}" is not a valid host name`);
  const ascii = domainToASCII(name);
  if (ascii === '' || ascii.length > 253 || !ascii.split('.').every((l) => LABEL.test(l))) {
    throw new TargetError(`"${raw}": "${text}" is not a valid host name`);
  }
  return ascii;
}
