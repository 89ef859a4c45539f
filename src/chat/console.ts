// The console adapter: the bot in a terminal (or driven through a pipe). Each input line is
// one command, with or without the slash ("/add smtp.example.com:587" or "add ..."); replies
// and scheduled alerts print as plain text. Lines run one after another, in order, so a piped
// script behaves like a person typing. EOF (Ctrl-D), "/quit" or "exit" ends the session once
// every line is answered.
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import { clean } from './format.ts';
import { DeliveryError, type ChannelRef, type ChannelSender, type CommandDispatcher, type Reply, type UserRef } from './types.ts';

/** The one channel of the console. */
export const CONSOLE_CHANNEL: ChannelRef = { platform: 'console', channelId: 'console' };

/** Longest accepted input line; longer lines are refused, not run truncated. */
export const MAX_LINE = 2000;
/** Complete lines waiting for their turn before input is paused (a pasted script, a pipe). */
const MAX_PENDING_LINES = 64;
/** Words that end the session, with or without the slash. */
const QUIT_WORDS = new Set(['quit', 'exit']);
/** How to leave, added to the console's help. */
export const LEAVE_HINT = 'Leave the console with /quit (or exit) or Ctrl-D at an empty prompt.';

/** What startConsole needs. */
export interface ConsoleOptions {
  input: Readable;
  output: Writable;
  dispatcher: CommandDispatcher;
  /** Who types (default: the local operator). */
  user?: UserRef;
  /** Show a "certwatch> " prompt (use when input is a TTY). */
  prompt?: boolean;
  /** Lines printed once before the first prompt (what this is, how to leave, where logs go). */
  banner?: readonly string[];
}

/** A running console session. */
export interface ConsoleHandle {
  /** Prints alerts for platform "console" (register it with the notifier/outbox). */
  sender: ChannelSender;
  /** Resolves after EOF, /quit or close() once every command read so far has been answered. */
  closed: Promise<void>;
  /** Stops reading input (shutdown); `closed` resolves after pending commands finish. */
  close(): void;
}

/**
 * Splits a byte stream into lines without ever holding more than MAX_LINE characters of one
 * line: the rest of an over-long line is dropped as it arrives (a 600 MB line must not be
 * buffered to be refused), and the line is reported as too long when its end comes.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private parts: string[] = [];
  private length = 0;
  private overflow = false;
  private readonly max: number;

  constructor(max = MAX_LINE) {
    this.max = max;
  }

  /** Feeds a chunk; returns the lines it completed ('too-long' for a refused one). */
  push(chunk: Buffer | string): (string | TooLong)[] {
    return this.split(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  }

  /** End of input: the unterminated last line, if any. */
  end(): (string | TooLong)[] {
    const out = this.split(this.decoder.end());
    if (this.overflow || this.length > 0) out.push(this.take());
    return out;
  }

  private split(text: string): (string | TooLong)[] {
    const out: (string | TooLong)[] = [];
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      this.append(text.slice(from, nl === -1 ? text.length : nl));
      if (nl === -1) return out;
      out.push(this.take());
      from = nl + 1;
    }
  }

  private append(piece: string): void {
    if (this.overflow || piece === '') return;
    if (this.length + piece.length > this.max + 1) {
      // +1 leaves room for the CR of a CRLF ending on a line of exactly MAX_LINE characters.
      this.parts = [];
      this.length = 0;
      this.overflow = true;
      return;
    }
    this.parts.push(piece);
    this.length += piece.length;
  }

  private take(): string | TooLong {
    const line = this.parts.join('').replace(/\r$/, '');
    const tooLong = this.overflow || line.length > this.max;
    this.parts = [];
    this.length = 0;
    this.overflow = false;
    return tooLong ? TOO_LONG : line;
  }
}

/** Marks a line that exceeded MAX_LINE. */
export const TOO_LONG = Symbol('too-long');
export type TooLong = typeof TOO_LONG;

/** Starts reading commands from `input` and printing replies to `output`. */
export function startConsole(opts: ConsoleOptions): ConsoleHandle {
  const user = opts.user ?? { id: 'console', name: 'console' };
  const write = (text: string): void => {
    if (!opts.output.writable) return;
    opts.output.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  let ended = false;
  let quitting = false;
  const prompt = (): void => {
    if (opts.prompt === true && !ended) opts.output.write('certwatch> ');
  };
  const splitter = new LineSplitter();
  let pending = 0;
  let queue = Promise.resolve();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));

  const stopReading = (): void => {
    if (ended) return;
    ended = true;
    opts.input.off('data', onData);
    opts.input.off('end', onEnd);
    opts.input.off('error', onEnd);
    opts.input.off('close', onEnd);
    opts.input.pause();
    void queue.then(resolveClosed);
  };
  const run = async (line: string | TooLong): Promise<void> => {
    if (quitting) return; // lines after /quit are not run
    if (line === TOO_LONG) {
      write(renderPlain({ title: `Line longer than ${MAX_LINE} characters; ignored.`, status: 'error' }));
      return;
    }
    const command = parseLine(line);
    if (command === null || command === 'too-long') return;
    if (QUIT_WORDS.has(command.name) && command.text === '') {
      write('Bye.');
      quitting = true;
      stopReading();
      return;
    }
    const help = command.name === 'help' && command.text === '';
    await opts.dispatcher({ channel: CONSOLE_CHANNEL, user, name: command.name, text: command.text }, async (reply) => {
      write(renderPlain(help ? { ...reply, text: [...(reply.text ?? []), LEAVE_HINT] } : reply));
    });
  };
  const enqueue = (line: string | TooLong): void => {
    pending++;
    // Chained, not concurrent: "/add x" must be stored before the next line's "/list" runs.
    queue = queue
      .then(() => run(line))
      .catch(() => {})
      .then(() => {
        pending--;
        if (!ended) {
          if (pending === 0) prompt();
          if (pending < MAX_PENDING_LINES / 2 && opts.input.isPaused()) opts.input.resume();
        }
      });
  };
  function onData(chunk: Buffer | string): void {
    for (const line of splitter.push(chunk)) enqueue(line);
    // Backpressure: a pasted script or a pipe waits while commands run, instead of queueing.
    if (pending >= MAX_PENDING_LINES) opts.input.pause();
  }
  function onEnd(): void {
    for (const line of splitter.end()) enqueue(line);
    stopReading();
  }
  opts.input.on('data', onData);
  opts.input.once('end', onEnd);
  opts.input.once('error', onEnd);
  opts.input.once('close', onEnd);
  for (const line of opts.banner ?? []) write(line);
  prompt();
  return {
    sender: {
      platform: 'console',
      async send(channel: ChannelRef, message: Reply): Promise<void> {
        if (channel.platform !== 'console') {
          throw new DeliveryError(`console cannot deliver to ${channel.platform}`, { permanent: true });
        }
        // An alert arriving while the prompt waits starts on its own line and re-prompts.
        const atPrompt = opts.prompt === true && !ended && pending === 0;
        if (atPrompt) opts.output.write('\n');
        write(renderPlain(message, 'alert'));
        if (atPrompt) prompt();
      },
    },
    closed,
    close: stopReading,
  };
}

/** Splits "/add host:587 label" into name and argument text; null for blank lines and comments. */
export function parseLine(line: string): { name: string; text: string } | null | 'too-long' {
  if (line.length > MAX_LINE) return 'too-long';
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const m = /^\/?(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (m === null) return null;
  return { name: m[1]!.toLowerCase(), text: m[2]! };
}

const TAGS: Record<NonNullable<Reply['status']>, string> = {
  ok: '[OK] ',
  warning: '[WARNING] ',
  critical: '[CRITICAL] ',
  error: '[ERROR] ',
  info: '',
};

/** A Reply as plain text for a terminal. Everything is stripped of control characters. */
export function renderPlain(reply: Reply, kind?: 'alert'): string {
  const lines: string[] = [];
  const head = `${kind === 'alert' ? '[alert] ' : ''}${TAGS[reply.status ?? 'info']}${clean(reply.title, 500)}`;
  lines.push(head);
  for (const t of reply.text ?? []) lines.push(`  ${clean(t, 1000)}`);
  for (const f of reply.fields ?? []) lines.push(`  ${clean(f.label, 60)}: ${clean(f.value, 500)}`);
  for (const item of reply.items ?? []) lines.push(`  - ${clean(item, 500)}`);
  if (reply.buttons !== undefined && reply.buttons.length > 0) {
    lines.push(`  Actions: ${reply.buttons.map((b) => `/${clean(b.command, 100)}`).join('  ·  ')}`);
  }
  return `${lines.join('\n')}\n`;
}
