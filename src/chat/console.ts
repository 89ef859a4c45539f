// The console adapter: the bot in a terminal (or driven through a pipe). Each input line is
// one command, with or without the slash ("/add smtp.example.com:587" or "add ..."); replies
// and scheduled alerts print as plain text. Lines run one after another, in order, so a piped
// script behaves like a person typing. EOF ends the session once every line is answered.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { clean } from './format.ts';
import { DeliveryError, type ChannelRef, type ChannelSender, type CommandDispatcher, type Reply, type UserRef } from './types.ts';

/** The one channel of the console. */
export const CONSOLE_CHANNEL: ChannelRef = { platform: 'console', channelId: 'console' };

/** Longest accepted input line; longer lines are refused, not run truncated. */
const MAX_LINE = 2000;

/** What startConsole needs. */
export interface ConsoleOptions {
  input: Readable;
  output: Writable;
  dispatcher: CommandDispatcher;
  /** Who types (default: the local operator). */
  user?: UserRef;
  /** Show a "certwatch> " prompt (use when input is a TTY). */
  prompt?: boolean;
}

/** A running console session. */
export interface ConsoleHandle {
  /** Prints alerts for platform "console" (register it with the notifier/outbox). */
  sender: ChannelSender;
  /** Resolves after EOF (or close()) once every command read so far has been answered. */
  closed: Promise<void>;
  /** Stops reading input (shutdown); `closed` resolves after pending commands finish. */
  close(): void;
}

/** Starts reading commands from `input` and printing replies to `output`. */
export function startConsole(opts: ConsoleOptions): ConsoleHandle {
  const user = opts.user ?? { id: 'console', name: 'console' };
  const write = (text: string): void => {
    if (!opts.output.writable) return;
    opts.output.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  const rl = createInterface({ input: opts.input, crlfDelay: Infinity, terminal: false });
  const prompt = (): void => {
    if (opts.prompt === true) opts.output.write('certwatch> ');
  };
  let queue = Promise.resolve();
  const run = async (line: string): Promise<void> => {
    const command = parseLine(line);
    if (command === null) return;
    if (command === 'too-long') {
      write(renderPlain({ title: `Line longer than ${MAX_LINE} characters; ignored.`, status: 'error' }));
      return;
    }
    await opts.dispatcher({ channel: CONSOLE_CHANNEL, user, name: command.name, text: command.text }, async (reply) => {
      write(renderPlain(reply));
    });
  };
  rl.on('line', (line) => {
    // Chained, not concurrent: "/add x" must be stored before the next line's "/list" runs.
    queue = queue.then(() => run(line)).catch(() => {}).then(prompt);
  });
  const closed = new Promise<void>((resolve) => {
    rl.once('close', () => {
      void queue.then(resolve);
    });
  });
  prompt();
  return {
    sender: {
      platform: 'console',
      async send(channel: ChannelRef, message: Reply): Promise<void> {
        if (channel.platform !== 'console') {
          throw new DeliveryError(`console cannot deliver to ${channel.platform}`, { permanent: true });
        }
        write(renderPlain(message, 'alert'));
      },
    },
    closed,
    close: () => rl.close(),
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
