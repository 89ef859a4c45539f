// The command layer's public surface, for adapters and the composition root:
//   createDispatcher({ services, log })  → the CommandDispatcher every adapter calls
//   commands                             → the registry (name, usage, summary, probes)
//   telegramCommandMenu(commands)        → entries for setMyCommands
//   slackUsage(commands, '/cert')        → usage hint and text for the Slack slash command
export { createDispatcher, defaultPrefixes, describeIssues, type DispatcherOptions } from './dispatcher.ts';
export { commandHelpReply, helpReply, slackUsage, telegramCommandMenu, usageLine } from './help.ts';
export { commands, findCommand } from './registry.ts';
export { formatDuration, parseDuration } from './duration.ts';
export { argLimits, parseArgs, tokenize } from './tokenize.ts';
export { defineCommand, UserError, type CommandContext, type CommandDefinition, type CommandLogger, type ParsedArgs } from './types.ts';

import { commands } from './registry.ts';

/** Names of the commands that probe on demand (the guard's `limitedCommands`). */
export const probingCommands: readonly string[] = commands.filter((c) => c.probes === true).map((c) => c.name);
