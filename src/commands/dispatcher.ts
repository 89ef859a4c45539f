// The one entry point every adapter calls: finds the command, validates its arguments,
// runs it, and always answers. No error escapes: a bad argument gets the usage line, a
// UserError its own message, anything else a short apology with a reference that is also
// in the log next to the full error. Stack traces and error details never reach the chat.
// Refusals often quote what the user typed ("No target ..."), so their text is cleaned of
// control characters and bidi overrides like any other untrusted text in a reply.
// Access control and rate limits run before this, in the adapters' guard (src/security).
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { normalizeCommandName } from '../chat/command-name.ts';
import { clean } from '../chat/format.ts';
import type { ChannelRef, CommandDispatcher, IncomingCommand, Reply, Respond } from '../chat/types.ts';
import type { Services } from '../core/services.ts';
import { TargetError } from '../probe/target.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import { usageLine } from './help.ts';
import { commands as registry, findCommand } from './registry.ts';
import { parseArgs, tokenize } from './tokenize.ts';
import { UserError, type CommandDefinition, type CommandLogger } from './types.ts';

/** How users type commands on each platform (Slack has one slash command, `/cert`). */
export const defaultPrefixes: Record<ChannelRef['platform'], string> = {
  slack: '/cert ',
  telegram: '/',
  console: '/',
};

/** What a dispatcher needs. */
export interface DispatcherOptions {
  services: Services;
  log: CommandLogger;
  /** Defaults to the registry in src/commands/registry.ts. */
  commands?: readonly CommandDefinition[];
  prefixes?: Partial<Record<ChannelRef['platform'], string>>;
}

/** Builds the CommandDispatcher adapters call. The returned function never rejects. */
export function createDispatcher(opts: DispatcherOptions): CommandDispatcher {
  const table = opts.commands ?? registry;
  const prefixes = { ...defaultPrefixes, ...opts.prefixes };
  const { log } = opts;

  return async (cmd: IncomingCommand, respond: Respond): Promise<void> => {
    const prefix = prefixes[cmd.channel.platform];
    const name = normalizeCommandName(cmd.name);
    const safeRespond = async (reply: Reply): Promise<void> => {
      try {
        await respond(reply);
      } catch (err) {
        log.error({ event: 'reply_failed', command: name, platform: cmd.channel.platform, err }, 'could not deliver a reply');
      }
    };
    const def = findCommand(name, table);
    if (def === undefined) {
      await safeRespond({ title: `Unknown command "${clean(name.slice(0, 32))}"`, status: 'error', text: [`${prefix}help lists the commands.`] });
      return;
    }
    const started = Date.now();
    let outcome = 'ok';
    try {
      const missingValue: string[] = [];
      const parsed = parseArgs(tokenize(cmd.text), missingValue);
      const args = def.args.safeParse(parsed);
      // "--bogus" at the end is an unknown option, not one that "needs a value".
      const unknown = args.success ? undefined : args.error.issues.find((i) => i.code === 'unrecognized_keys');
      if (missingValue.length > 0 && unknown === undefined) throw new UserError(`option --${missingValue[0]} needs a value`, true);
      if (!args.success) {
        outcome = 'bad_args';
        await safeRespond(usageReply(def, prefix, describeIssues(args.error.issues)));
        return;
      }
      // Every reply the command sends goes through safeRespond: a platform failure while
      // answering is logged, not mistaken for the command failing.
      await def.run({
        args: args.data,
        channel: cmd.channel,
        user: cmd.user,
        services: opts.services,
        respond: safeRespond,
        log,
        prefix,
        commands: table,
      });
    } catch (err) {
      if (err instanceof UserError || err instanceof TargetError) {
        outcome = 'refused';
        const showUsage = err instanceof TargetError || err.showUsage;
        await safeRespond(showUsage ? usageReply(def, prefix, err.message) : { title: clean(err.message, MAX_PROBLEM), status: 'error' });
        return;
      }
      if (err instanceof StoreUnavailableError) {
        // A temporary outage (the store server restarting): say so, not "something went wrong".
        outcome = 'store_unavailable';
        log.warn({ event: 'store_unavailable', command: def.name, platform: cmd.channel.platform, error: err.message }, 'store unavailable');
        await safeRespond({ title: 'The store is unavailable right now', status: 'error', text: [`This is temporary: try ${prefix}${def.name} again in a minute.`] });
        return;
      }
      outcome = 'failed';
      const ref = randomBytes(4).toString('hex');
      log.error({ event: 'command_failed', command: def.name, platform: cmd.channel.platform, channel: cmd.channel.channelId, ref, err }, 'command failed');
      await safeRespond({
        title: `Something went wrong running ${prefix}${def.name}`,
        status: 'error',
        text: [`The details were logged under reference ${ref}.`],
      });
    } finally {
      log.info({ event: 'command', command: def.name, platform: cmd.channel.platform, channel: cmd.channel.channelId, user: cmd.user.id, outcome, ms: Date.now() - started });
    }
  };
}

/** Longest refusal shown: room for the longest built-in one (unknown scheme, with the list of schemes). */
const MAX_PROBLEM = 500;

function usageReply(def: CommandDefinition, prefix: string, problem: string): Reply {
  return { title: clean(problem, MAX_PROBLEM), status: 'error', text: [`Usage: ${usageLine(def, prefix)}`] };
}

/** The first argument problem in words a chat user understands. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0];
  if (issue === undefined) return 'invalid arguments';
  if (issue.code === 'unrecognized_keys') return `unknown option ${issue.keys.map((k) => `--${k}`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.path[0] === 'positional' && /received undefined/.test(issue.message)) {
    return 'missing argument';
  }
  if (issue.code === 'invalid_type' && issue.path[0] === 'options') return `option --${String(issue.path[1])}: ${issue.message}`;
  return issue.message;
}
