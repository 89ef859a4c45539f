// THE list of chat commands. Help, Telegram's menu and Slack's usage text derive from it;
// adding a command is one file in commands/ and one line here.
import add from '../../commands/add.ts';
import check from '../../commands/check.ts';
import help from '../../commands/help.ts';
import list from '../../commands/list.ts';
import mute from '../../commands/mute.ts';
import remove from '../../commands/remove.ts';
import settings from '../../commands/settings.ts';
import unmute from '../../commands/unmute.ts';
import type { CommandDefinition } from './types.ts';

/** Every command, in the order help shows them. */
export const commands: readonly CommandDefinition[] = [add, list, check, remove, mute, unmute, settings, help];

/** The command called `name` (lower case, no slash), if any. */
export function findCommand(name: string, table: readonly CommandDefinition[] = commands): CommandDefinition | undefined {
  return table.find((c) => c.name === name);
}
