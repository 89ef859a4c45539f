// A CliIO that collects what the CLI prints, for tests.
import { Readable } from 'node:stream';
import type { CliIO, OutputStream } from '../../src/cli/main.ts';

/** An output stream that records writes; `tty` makes it claim a colour terminal. */
export class Collector implements OutputStream {
  text = '';
  readonly isTTY: boolean;

  private readonly tty: boolean;

  constructor(tty: boolean = false) {
    this.tty = tty;
    this.isTTY = tty;
  }

  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }

  hasColors(): boolean {
    return this.tty;
  }
}

/** IO for one CLI run; stdin yields `input` when given. */
export function testIO(opts: { tty?: boolean; stdin?: string } = {}): CliIO & { stdout: Collector; stderr: Collector } {
  return {
    stdout: new Collector(opts.tty),
    stderr: new Collector(opts.tty),
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
  };
}
