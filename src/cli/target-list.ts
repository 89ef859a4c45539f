import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { UsageError } from './args.ts';

/** One target line from a file, with where it came from (for error messages). */
export interface ListedTarget {
  input: string;
  /** `path:line`, e.g. `hosts.txt:12`. */
  source: string;
}

/**
 * A target list larger than this is refused. The list is streamed, never held as text; what
 * stays in memory is one parsed target per distinct line (about 200 bytes each), so the cap
 * bounds that too: 16 MiB is several hundred thousand targets.
 */
export const maxListBytes = 16 * 1024 * 1024;

/** A line longer than this is refused (a host name is at most 253 characters). */
export const maxLineBytes = 4096;

/**
 * Targets in a list file: one per line; `#` starts a comment (a target never contains
 * `#`: parseTarget refuses it), blank lines are skipped, CRLF and a UTF-8 BOM are accepted.
 */
export function parseTargetList(text: string, name: string): ListedTarget[] {
  const out: ListedTarget[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const listed = listedLine(raw, name, i + 1);
      if (listed !== null) out.push(listed);
    });
  return out;
}

/** One raw line (without its line end) as a target, null when blank or a comment. */
function listedLine(raw: string, name: string, lineNo: number): ListedTarget | null {
  const hash = raw.indexOf('#');
  const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
  if (line === '') return null;
  const source = `${name}:${lineNo}`;
  if (/\s/.test(line)) throw new UsageError(`${source}: one target per line, found "${line}"`);
  return { input: line, source };
}

/**
 * Streams the targets of a list file (or stdin for `-`) line by line, refusing files over
 * maxListBytes and lines over maxLineBytes as soon as they are seen. Only the current line is
 * buffered, so a 100,000-line list costs no more memory than a short one (issue 9: the old
 * reader held the whole text and its split lines).
 */
export async function* streamTargetList(path: string, stdin: Readable): AsyncGenerator<ListedTarget> {
  const name = path === '-' ? 'stdin' : path;
  const stream = path === '-' ? stdin : createReadStream(path);
  const decoder = new StringDecoder('utf8');
  let size = 0;
  let lineNo = 0;
  let partial = '';
  let first = true;
  const lines = function* (text: string, final: boolean): Generator<ListedTarget> {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const raw = partial + text.slice(start, nl);
      partial = '';
      start = nl + 1;
      lineNo++;
      if (Buffer.byteLength(raw) > maxLineBytes) throw new UsageError(`-f ${name}:${lineNo}: line longer than ${maxLineBytes} bytes`);
      const listed = listedLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw, name, lineNo);
      if (listed !== null) yield listed;
    }
    partial += text.slice(start);
    if (Buffer.byteLength(partial) > maxLineBytes) {
      throw new UsageError(`-f ${name}:${lineNo + 1}: line longer than ${maxLineBytes} bytes`);
    }
    if (final && partial !== '') {
      lineNo++;
      const listed = listedLine(partial, name, lineNo);
      partial = '';
      if (listed !== null) yield listed;
    }
  };
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > maxListBytes) throw new UsageError(`-f ${name}: larger than ${Math.round(maxListBytes / 1024)} KiB`);
      let text = decoder.write(buf);
      if (first && text !== '') {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      yield* lines(text, false);
    }
    yield* lines(decoder.end(), true);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? (err as Error).message);
    throw new UsageError(`-f ${name}: cannot read (${why})`);
  } finally {
    // Stop reading at the first bad line, not at the end of a huge file (stdin stays open).
    if (path !== '-') stream.destroy();
  }
}

/** Reads and parses a whole list file (or stdin for `-`); see streamTargetList. */
export async function readTargetList(path: string, stdin: Readable): Promise<ListedTarget[]> {
  const out: ListedTarget[] = [];
  for await (const listed of streamTargetList(path, stdin)) out.push(listed);
  return out;
}
