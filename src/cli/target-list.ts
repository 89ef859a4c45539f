import type { Readable } from 'node:stream';
import { UsageError } from './args.ts';
import { readBounded } from './read-bounded.ts';

/** One target line from a file, with where it came from (for error messages). */
export interface ListedTarget {
  input: string;
  /** `path:line`, e.g. `hosts.txt:12`. */
  source: string;
}

/** A target list larger than this is refused rather than read into memory. */
export const maxListBytes = 4 * 1024 * 1024;

/**
 * Targets in a list file: one per line; `#` starts a comment (a target never contains
 * `#`: parseTarget refuses it), blank lines are skipped, CRLF and a UTF-8 BOM are accepted.
 */
export function parseTargetList(text: string, name: string): ListedTarget[] {
  const out: ListedTarget[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line === '') return;
    const source = `${name}:${i + 1}`;
    if (/\s/.test(line)) throw new UsageError(`${source}: one target per line, found "${line}"`);
    out.push({ input: line, source });
  });
  return out;
}

/** Reads and parses a list file (or stdin for `-`), refusing files over maxListBytes. */
export async function readTargetList(path: string, stdin: Readable): Promise<ListedTarget[]> {
  const text = await readBounded('-f', path, maxListBytes, stdin);
  return parseTargetList(text, path === '-' ? 'stdin' : path);
}
