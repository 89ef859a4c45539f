import { notOffered, printable, protocolError, rejected } from '../errors.ts';
import type { DialectIO } from '../reader.ts';
import { notProtocol } from './line-replies.ts';
import type { Dialect } from './types.ts';

/** Capability lines accepted in the greeting (RFC 5804 section 1.7 lists about ten). */
const MAX_CAPABILITY_LINES = 100;
/** Largest literal accepted before TLS; capability values fit well below it. */
const MAX_LITERAL = 4096;
/** Literals accepted within one response. */
const MAX_LITERALS = 10;

/** A token of a ManageSieve response: a string (quoted or literal) or an atom / parenthesis. */
type Token = { kind: 'string'; value: string } | { kind: 'atom'; value: string };

/**
 * Reads one response as tokens (RFC 5804 section 4 ABNF): atoms, quoted strings with `\"`
 * and `\\` escapes, and literals `{n}` / `{n+}` at the end of a line, whose n octets follow
 * the CRLF and whose response continues on the next line.
 */
async function readResponse(io: DialectIO): Promise<{ tokens: Token[]; text: string }> {
  const tokens: Token[] = [];
  let text = '';
  for (let literals = 0; ; literals++) {
    const line = await io.readLine();
    text += line;
    const literal = tokenize(line, tokens, io.step);
    if (literal === null) return { tokens, text };
    if (literal > MAX_LITERAL) {
      throw protocolError(`ManageSieve server sent a literal of ${literal} bytes before TLS (at most ${MAX_LITERAL} accepted)`, io.step);
    }
    if (literals >= MAX_LITERALS) throw protocolError(`ManageSieve response with more than ${MAX_LITERALS} literals`, io.step);
    const value = (await io.readExact(literal)).toString('utf8');
    tokens.push({ kind: 'string', value });
    text += value;
  }
}

/** Appends the tokens of `line`; returns the size of a trailing literal, or null. */
function tokenize(line: string, out: Token[], step: string): number | null {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ') {
      i++;
    } else if (c === '"') {
      let value = '';
      for (i++; ; i++) {
        if (i >= line.length) throw notProtocol('sieve', 'a ManageSieve response (unterminated string)', line, step);
        const d = line[i];
        if (d === '"') break;
        if (d === '\\') {
          const next = line[++i];
          if (next !== '"' && next !== '\\') throw notProtocol('sieve', 'a ManageSieve response (bad escape)', line, step);
          value += next;
        } else {
          value += d;
        }
      }
      i++;
      out.push({ kind: 'string', value: Buffer.from(value, 'latin1').toString('utf8') });
    } else if (c === '{') {
      const m = /^\{(\d{1,10})\+?\}$/.exec(line.slice(i));
      if (m === null) throw notProtocol('sieve', 'a ManageSieve response (bad literal)', line, step);
      return Number(m[1]);
    } else if (c === '(' || c === ')') {
      out.push({ kind: 'atom', value: c });
      i++;
    } else {
      const m = /^[^\s"(){}]+/.exec(line.slice(i));
      const atom = m?.[0] ?? '';
      if (atom === '') throw notProtocol('sieve', 'a ManageSieve response', line, step);
      out.push({ kind: 'atom', value: atom });
      i += atom.length;
    }
  }
  return null;
}

/** The response keyword (OK, NO, BYE; case-insensitive per RFC 5234 strings), or null. */
function status(tokens: Token[]): string | null {
  const first = tokens[0];
  if (first?.kind !== 'atom') return null;
  const word = first.value.toUpperCase();
  return word === 'OK' || word === 'NO' || word === 'BYE' ? word : null;
}

/** ManageSieve with STARTTLS (RFC 5804 sections 1.7 and 2.2). */
export const sieve: Dialect = async (io) => {
  // The greeting is the capability list itself, one `"NAME" ["value"]` per line, ended by OK.
  io.step = 'greeting';
  const capabilities: string[] = [];
  for (;;) {
    if (capabilities.length >= MAX_CAPABILITY_LINES) {
      throw protocolError(`greeting longer than ${MAX_CAPABILITY_LINES} capability lines`, io.step);
    }
    const { tokens, text } = await readResponse(io);
    const word = status(tokens);
    if (word === 'OK') break;
    if (word !== null) throw protocolError(`ManageSieve server refused the session: ${printable(text)}`, io.step);
    const name = tokens[0];
    if (name?.kind !== 'string' || tokens.length > 2 || tokens[1]?.kind === 'atom') {
      throw notProtocol('sieve', 'a ManageSieve capability line', text, io.step);
    }
    capabilities.push(name.value.toUpperCase());
  }
  if (!capabilities.includes('STARTTLS')) {
    throw notOffered('ManageSieve', 'STARTTLS is not among the capabilities', io.step);
  }

  io.step = 'STARTTLS';
  io.write('STARTTLS\r\n');
  const { tokens, text } = await readResponse(io);
  const word = status(tokens);
  if (word === 'OK') return;
  if (word === 'NO' || word === 'BYE') throw rejected('ManageSieve', text, io.step);
  throw notProtocol('sieve', 'a ManageSieve reply to STARTTLS', text, io.step);
};
