// The checks every adapter runs on an incoming command before the dispatcher sees it: who is
// asking, how long the input is, and whether an on-demand check is within its rate limit.
// Refusals happen here, so nothing is stored or probed for a refused request.
import { normalizeCommandName } from '../chat/command-name.ts';
import type { IncomingCommand, Reply } from '../chat/types.ts';
import type { AccessCheck } from './access.ts';
import type { CheckRateLimiter } from './rate-limit.ts';

/** Settings for createCommandGuard. */
export interface GuardOptions {
  access?: AccessCheck;
  limiter?: CheckRateLimiter;
  /** Commands that probe on demand and so spend rate-limit tokens (default: check, add). */
  limitedCommands?: readonly string[];
  /** Longest accepted argument text in characters (default 1000). */
  maxArgLength?: number;
  /** Text of the refusal shown to users outside the allow-lists. */
  refusal?: string | ((cmd: IncomingCommand) => string);
}

/** Returns a refusal for a command that must not run, or null to dispatch it. */
export type CommandGuard = (cmd: IncomingCommand) => Reply | null;

const defaultRefusal = 'This bot is not enabled for this chat. Ask its operator to add this chat to the allow-list.';

/** Builds the guard used by the Slack and Telegram adapters. */
export function createCommandGuard(options: GuardOptions = {}): CommandGuard {
  const limited = new Set(options.limitedCommands ?? ['check', 'add']);
  const maxArg = options.maxArgLength ?? 1000;
  return (cmd) => {
    if (options.access && !options.access({ channelId: cmd.channel.channelId, userId: cmd.user.id })) {
      const title = typeof options.refusal === 'function' ? options.refusal(cmd) : (options.refusal ?? defaultRefusal);
      return { title, status: 'error', ephemeral: true };
    }
    if (cmd.name.length > 32 || cmd.text.length > maxArg) {
      return { title: `That command is too long (at most ${maxArg} characters of arguments).`, status: 'error', ephemeral: true };
    }
    // The dispatcher's own spelling rule: "CHECK" or "check@bot" runs a check, so it is counted as one.
    if (options.limiter && limited.has(normalizeCommandName(cmd.name))) {
      const channelKey = `${cmd.channel.platform}:${cmd.channel.channelId}`;
      const decision = options.limiter.take(`${cmd.channel.platform}:${cmd.user.id}`, channelKey);
      if (!decision.ok) {
        const secs = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        const who = decision.scope === 'user' ? 'You are' : 'This channel is';
        return { title: `${who} running checks too often. Try again in ${secs} s.`, status: 'warning', ephemeral: true };
      }
    }
    return null;
  };
}
