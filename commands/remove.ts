// remove <target|id>: stop watching a target; only from the channel that added it.
import { z } from 'zod';
import { endpoint } from '../src/chat/format.ts';
import { lockedChange } from '../src/commands/channel-lock.ts';
import { requireTarget } from '../src/commands/resolve.ts';
import { noOptions } from '../src/commands/schemas.ts';
import { defineCommand } from '../src/commands/types.ts';
import { mailRefCommand } from '../src/mail/commands.ts';

export default defineCommand({
  name: 'remove',
  usage: 'remove <target|id>',
  summary: 'Stop watching a target (only in the channel that added it)',
  args: z
    .object({ positional: z.tuple([z.string()], z.never({ error: 'remove takes one target or id' })), options: noOptions })
    .transform(({ positional }) => ({ ref: positional[0] })),
  run(ctx) {
    return lockedChange(ctx, async (c) => {
      const { args, channel, services, respond, prefix } = c;
      if (await mailRefCommand('remove', args.ref, c)) return;
      const record = await requireTarget(services, channel, args.ref, prefix);
      await services.repo.removeTarget(record.id);
      await respond({ title: `Removed ${endpoint(record.target)} (${record.id})`, status: 'info' });
    });
  },
});
