// settings: show or change this channel's alert settings.
//   settings · settings thresholds 30,14,7 · settings failafter 3 · settings digest on|off
import { z } from 'zod';
import { channelLockKey } from '../src/commands/channel-lock.ts';
import { noOptions, thresholdList } from '../src/commands/schemas.ts';
import { defineCommand } from '../src/commands/types.ts';
import type { ChannelSettings } from '../src/core/services.ts';
import { MAX_FAIL_AFTER } from '../src/store/schema.ts';

type Change =
  | { kind: 'show' }
  | { kind: 'thresholds'; value: number[] }
  | { kind: 'failafter'; value: number }
  | { kind: 'digest'; value: boolean };

const change = z.array(z.string()).transform((words, ctx): Change => {
  const [key, ...rest] = words;
  const fail = (message: string): never => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (key === undefined) return { kind: 'show' };
  switch (key.toLowerCase()) {
    case 'thresholds': {
      if (rest.length === 0) return fail('give the thresholds in days, e.g. settings thresholds 30,14,7');
      const parsed = thresholdList.safeParse(rest.join(','));
      return parsed.success ? { kind: 'thresholds', value: parsed.data } : fail(parsed.error.issues[0]?.message ?? 'bad thresholds');
    }
    case 'failafter': {
      const n = rest.length === 1 && /^\d{1,2}$/.test(rest[0]!) ? Number(rest[0]) : Number.NaN;
      if (!(n >= 1 && n <= MAX_FAIL_AFTER)) return fail(`failafter is a whole number of checks from 1 to ${MAX_FAIL_AFTER}`);
      return { kind: 'failafter', value: n };
    }
    case 'digest': {
      const v = rest.length === 1 ? rest[0]!.toLowerCase() : '';
      if (v !== 'on' && v !== 'off') return fail('digest is on or off');
      return { kind: 'digest', value: v === 'on' };
    }
    default:
      return fail(`unknown setting "${key.slice(0, 30)}"; settings are thresholds, failafter and digest`);
  }
});

export default defineCommand({
  name: 'settings',
  usage: 'settings [thresholds 30,14,7 | failafter 3 | digest on|off]',
  summary: "Show or change this channel's alert settings",
  details: [
    'thresholds: days before expiry at which an alert is posted (once per certificate).',
    'failafter: consecutive failed checks before a problem is announced.',
    'digest: a periodic summary of this channel\'s targets.',
  ],
  args: z.object({ positional: change, options: noOptions }).transform(({ positional }) => positional),
  async run({ args, channel, services, respond }) {
    if (args.kind === 'show') {
      await respond(settingsReply('Settings for this channel', await services.repo.getChannelSettings(channel)));
      return;
    }
    // One record holds every setting: two changes read-modify-writing it at once would keep
    // only the later write, though both were answered "saved". The channel lock serializes them.
    const next = await services.channelLock.run(channelLockKey(channel), async () => {
      const changed: ChannelSettings = { ...(await services.repo.getChannelSettings(channel)) };
      if (args.kind === 'thresholds') changed.thresholds = args.value;
      else if (args.kind === 'failafter') changed.failAfter = args.value;
      else changed.digest = args.value;
      await services.repo.setChannelSettings(channel, changed);
      return changed;
    });
    await respond(settingsReply('Settings saved', next));
  },
});

function settingsReply(title: string, s: ChannelSettings): { title: string; status: 'info'; fields: { label: string; value: string }[] } {
  return {
    title,
    status: 'info',
    fields: [
      { label: 'Thresholds', value: `${s.thresholds.join(', ')} days` },
      { label: 'Fail after', value: `${s.failAfter} consecutive failed check${s.failAfter === 1 ? '' : 's'}` },
      { label: 'Digest', value: s.digest ? 'on' : 'off' },
    ],
  };
}
