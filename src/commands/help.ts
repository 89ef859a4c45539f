// Help text, Telegram's command menu and Slack's usage hint, all generated from the registry.
import type { Reply } from '../chat/types.ts';
import type { CommandDefinition } from './types.ts';

/** "/add <target> ..." as typed on this platform. */
export function usageLine(def: Pick<CommandDefinition, 'usage'>, prefix: string): string {
  return `${prefix}${def.usage}`;
}

/** The overview: one line per command. */
export function helpReply(commands: readonly CommandDefinition[], prefix: string): Reply {
  return {
    title: 'certwatch: TLS certificate monitoring',
    status: 'info',
    items: commands.map((c) => `${usageLine(c, prefix)} — ${c.summary}`),
    text: [`${prefix}help <command> explains one command.`],
  };
}

/** Everything about one command. */
export function commandHelpReply(def: CommandDefinition, prefix: string): Reply {
  return { title: usageLine(def, prefix), status: 'info', text: [def.summary, ...(def.details ?? [])] };
}

/** Entries for Telegram's setMyCommands (names [a-z0-9_]{1,32}, descriptions 1-256 characters). */
export function telegramCommandMenu(commands: readonly CommandDefinition[]): { command: string; description: string }[] {
  return commands.map((c) => ({ command: c.name, description: c.summary.slice(0, 256) }));
}

/** Slack's "usage hint" for the slash command and a multi-line usage text. */
export function slackUsage(commands: readonly CommandDefinition[], slashCommand = '/cert'): { hint: string; text: string } {
  return {
    hint: `${commands.map((c) => c.name).join(' | ')} ...`,
    text: commands.map((c) => `${usageLine(c, `${slashCommand} `)} — ${c.summary}`).join('\n'),
  };
}
