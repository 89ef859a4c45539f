// mute <target|id> <duration>: no alerts for a target until the time runs out.
import { z } from 'zod';
import { endpoint, formatTime } from '../src/chat/format.ts';
import { lockedChange } from '../src/commands/channel-lock.ts';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../src/commands/duration.ts';
import { requireTarget } from '../src/commands/resolve.ts';
import { noOptions } from '../src/commands/schemas.ts';
import { defineCommand } from '../src/commands/types.ts';
import { muteMailCommand } from '../src/mail/commands.ts';

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text.slice(0, 20)}" is not a duration: write e.g. 30m, 12h, 7d or 2w (at most ${formatDuration(MAX_DURATION_MS)})` });
    return z.NEVER;
  }
  return ms;
});

export default defineCommand({
  name: 'mute',
  usage: 'mute <target|id> <duration>',
  summary: 'Silence alerts for a target for a while (e.g. 7d, 12h)',
  details: ['Durations: 30m, 12h, 7d, 2w or combined like 1d12h; at most a year. "unmute" ends it early.'],
  args: z
    .object({
      positional: z.tuple([z.string(), duration], z.never({ error: 'mute takes a target and a duration' })),
      options: noOptions,
    })
    .transform(({ positional: [ref, ms] }) => ({ ref, ms })),
  run(ctx) {
    return lockedChange(ctx, async (c) => {
      const { args, channel, services, respond, prefix } = c;
      if (await muteMailCommand(args.ref, args.ms, c)) return;
      const record = await requireTarget(services, channel, args.ref, prefix);
      const until = new Date(services.now().getTime() + args.ms).toISOString();
      await services.repo.updateTarget({ ...record, mutedUntil: until });
      await respond({
        title: `Muted ${endpoint(record.target)} (${record.id}) for ${formatDuration(args.ms)}`,
        status: 'info',
        text: [`No alerts until ${formatTime(until)}. ${prefix}unmute ${record.id} ends it early.`],
      });
    });
  },
});
