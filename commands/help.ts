// help [command]: what the bot can do, or the details of one command.
import { z } from 'zod';
import { commandHelpReply, helpReply } from '../src/commands/help.ts';
import { noOptions } from '../src/commands/schemas.ts';
import { defineCommand, UserError } from '../src/commands/types.ts';

export default defineCommand({
  name: 'help',
  usage: 'help [command]',
  summary: 'Show the commands, or the details of one',
  args: z
    .object({ positional: z.tuple([z.string().max(40, 'no command has a name that long').optional()], z.never({ error: 'help takes at most one command name' })), options: noOptions })
    .transform(({ positional }) => ({ topic: positional[0]?.replace(/^\//, '').toLowerCase() })),
  async run({ args, commands, prefix, respond }) {
    if (args.topic === undefined) {
      await respond(helpReply(commands, prefix));
      return;
    }
    const def = commands.find((c) => c.name === args.topic);
    if (def === undefined) throw new UserError(`No command "${args.topic}". ${prefix}help lists them.`);
    await respond(commandHelpReply(def, prefix));
  },
});
