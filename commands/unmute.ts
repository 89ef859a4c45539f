// unmute <target|id>: alerts resume at once.
import { z } from 'zod';
import { endpoint } from '../src/chat/format.ts';
import { lockedChange } from '../src/commands/channel-lock.ts';
import { requireTarget } from '../src/commands/resolve.ts';
import { noOptions } from '../src/commands/schemas.ts';
import { defineCommand } from '../src/commands/types.ts';
import { mailRefCommand } from '../src/mail/commands.ts';

export default defineCommand({
  name: 'unmute',
  usage: 'unmute <target|id>',
  summary: 'Resume alerts for a muted target',
  args: z
    .object({ positional: z.tuple([z.string()], z.never({ error: 'unmute takes one target or id' })), options: noOptions })
    .transform(({ positional }) => ({ ref: positional[0] })),
  run(ctx) {
    return lockedChange(ctx, async (c) => {
      const { args, channel, services, respond, prefix } = c;
      if (await mailRefCommand('unmute', args.ref, c)) return;
      const record = await requireTarget(services, channel, args.ref, prefix);
      const wasMuted = record.mutedUntil !== undefined && Date.parse(record.mutedUntil) > services.now().getTime();
      const { mutedUntil: _, ...rest } = record;
      await services.repo.updateTarget(rest);
      await respond({
        title: wasMuted ? `Unmuted ${endpoint(record.target)} (${record.id})` : `${endpoint(record.target)} (${record.id}) was not muted`,
        status: 'info',
      });
    });
  },
});
