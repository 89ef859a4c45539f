// Splits a command's argument text into words and `--name value` options.
// Chat clients rewrite what users type: macOS and iOS turn quotes into “curly” ones and
// "--" into an em dash, and Slack wraps links as <url|text>. All of these are undone here.
import { UserError, type ParsedArgs } from './types.ts';

/** Bounds on argument text: everything typed in a chat comes from an untrusted user. */
export const argLimits = { maxText: 1000, maxTokens: 24, maxToken: 300 } as const;

const OPEN_QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '„': '“' };

/** Words of `text`, honouring "double", 'single' and curly quotes and backslash escapes in double quotes. */
export function tokenize(text: string): string[] {
  if (text.length > argLimits.maxText) {
    throw new UserError(`arguments longer than ${argLimits.maxText} characters`, true);
  }
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let word = '';
    let quoted = false;
    while (i < text.length && !/\s/.test(text[i]!)) {
      const ch = text[i]!;
      const close = OPEN_QUOTES[ch];
      if (close === undefined) {
        word += ch;
        i++;
        continue;
      }
      quoted = true;
      i++;
      const end = scanQuoted(text, i, close, ch === '"');
      word += end.value;
      i = end.next;
    }
    tokens.push(quoted ? word : unwrapSlackLink(word));
    if (tokens.length > argLimits.maxTokens) throw new UserError(`more than ${argLimits.maxTokens} arguments`, true);
  }
  for (const t of tokens) {
    if (t.length > argLimits.maxToken) throw new UserError(`an argument is longer than ${argLimits.maxToken} characters`, true);
  }
  return tokens;
}

function scanQuoted(text: string, start: number, close: string, escapes: boolean): { value: string; next: number } {
  let value = '';
  let i = start;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === close) return { value, next: i + 1 };
    if (escapes && ch === '\\' && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  throw new UserError(`missing closing quote ${close}`, true);
}

/** Slack sends auto-linked text as <http://host|host> or <mailto:x|x>: keep what the user typed. */
function unwrapSlackLink(word: string): string {
  const m = /^<([^<>|]+)(?:\|([^<>]*))?>$/.exec(word);
  if (m === null) return word;
  return m[2] !== undefined && m[2] !== '' ? m[2] : m[1]!;
}

/**
 * Splits tokens into positional words and options. `--name value` and `--name=value` are
 * options (an em or en dash counts as "--"); a lone `--` ends options. An option at the end
 * with no value throws, unless `missingValue` is given: then its name is pushed there and its
 * value is "", so the caller can first tell an unknown option from a known one without value.
 */
export function parseArgs(tokens: readonly string[], missingValue?: string[]): ParsedArgs {
  const positional: string[] = [];
  // Option names match [a-z][a-z0-9-]*, so "__proto__" cannot be one.
  const options: Record<string, string> = {};
  let onlyPositional = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (onlyPositional) {
      positional.push(token);
      continue;
    }
    if (token === '--') {
      onlyPositional = true;
      continue;
    }
    const m = /^(?:--|[—–])([a-z][a-z0-9-]*)(?:=(.*))?$/i.exec(token);
    if (m === null) {
      positional.push(token);
      continue;
    }
    const name = m[1]!.toLowerCase();
    if (Object.hasOwn(options, name)) throw new UserError(`option --${name} given twice`, true);
    let value = m[2];
    if (value === undefined) {
      value = tokens[i + 1];
      if (value === undefined) {
        if (missingValue === undefined) throw new UserError(`option --${name} needs a value`, true);
        missingValue.push(name);
        value = '';
      }
      i++;
    }
    options[name] = value;
  }
  return { positional, options };
}
