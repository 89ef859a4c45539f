// What a chat command is and what it may touch. One file per command under commands/
// default-exports a definition; src/commands/registry.ts lists them once.
import type { z } from 'zod';
import type { ChannelRef, Respond, UserRef } from '../chat/types.ts';
import type { Services } from '../core/services.ts';

/** Argument text split into positional words and `--name value` options. */
export interface ParsedArgs {
  positional: string[];
  options: Record<string, string>;
}

/** The subset of a pino logger commands use (pino's Logger satisfies it). */
export interface CommandLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Everything a command's `run` receives. */
export interface CommandContext<A> {
  args: A;
  channel: ChannelRef;
  user: UserRef;
  services: Services;
  respond: Respond;
  log: CommandLogger;
  /** How a user types a command here: "/" in Telegram and the console, "/cert " in Slack. */
  prefix: string;
  /** The registry, so `help` can describe every command without importing it (no cycle). */
  commands: readonly CommandDefinition[];
}

/** One chat command. `args` validates the parsed tokens and turns them into typed arguments. */
export interface CommandDefinition<A = unknown> {
  /** Lower-case name, also the Telegram menu entry: [a-z0-9_]{1,32}. */
  name: string;
  /** Usage without the prefix, e.g. "mute <target|id> <duration>". */
  usage: string;
  /** One line, at most 256 characters (Telegram's command description limit). */
  summary: string;
  /** Extra lines shown by `help <command>`: details and examples. */
  details?: readonly string[];
  /** Whether the command probes endpoints: the adapters' guard rate-limits these (src/security/guard.ts). */
  probes?: boolean;
  /** Validates the `ParsedArgs` of one invocation and turns them into typed arguments. */
  args: z.ZodType<A>;
  run(ctx: CommandContext<A>): Promise<void>;
}

/** Typed helper so each command file gets inference from its schema. */
export function defineCommand<A>(def: CommandDefinition<A>): CommandDefinition<A> {
  return def;
}

/**
 * A failure whose message is meant for the user (bad id, limit reached...). The dispatcher
 * answers it as is; any other error is answered with a generic line and logged.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  /** Whether to append the command's usage line to the reply. */
  readonly showUsage: boolean;

  constructor(message: string, showUsage = false) {
    super(message);
    this.showUsage = showUsage;
  }
}
