import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { UsageError } from './args.ts';

/**
 * Reads a user-named file (or `stdin` for "-") as UTF-8, refusing more than maxBytes.
 * Streams rather than stat-ing, so named pipes and /dev/stdin work and /dev/zero cannot
 * exhaust memory. Failures are UsageErrors naming the option and the file.
 */
export async function readBounded(option: string, path: string, maxBytes: number, stdin: Readable): Promise<string> {
  const name = path === '-' ? 'stdin' : path;
  const stream = path === '-' ? stdin : createReadStream(path);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > maxBytes) throw new UsageError(`${option} ${name}: larger than ${Math.round(maxBytes / 1024)} KiB`);
      chunks.push(buf);
    }
  } catch (err) {
    if (path !== '-') stream.destroy();
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? (err as Error).message);
    throw new UsageError(`${option} ${name}: cannot read (${why})`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
