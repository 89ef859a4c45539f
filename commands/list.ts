// list [page]: this channel's targets, soonest expiry first, with status and days left.
import { z } from 'zod';
import { expirySortKey, formatListItem } from '../src/chat/format.ts';
import { latestFor } from '../src/commands/latest.ts';
import { noOptions, pageNumber } from '../src/commands/schemas.ts';
import { defineCommand, UserError } from '../src/commands/types.ts';
import { mailListEntries } from '../src/mail/commands.ts';

/** Lines per page: keeps a page well under Telegram's 4096 characters and Slack's block limits. */
export const PAGE_SIZE = 20;

export default defineCommand({
  name: 'list',
  usage: 'list [page]',
  summary: "List this channel's targets, soonest expiry first",
  details: [`Shows ${PAGE_SIZE} targets per page with status, id and days left; "list 2" shows the second page.`],
  args: z
    .object({ positional: z.tuple([pageNumber.optional()], z.never({ error: 'list takes at most one page number' })), options: noOptions })
    .transform(({ positional }) => ({ page: positional[0] ?? 1 })),
  async run({ args, channel, services, respond, prefix }) {
    const records = await services.repo.listTargets(channel);
    // Watched mail domains: one entry each (its hosts as lines under it), sorted among the targets.
    const mail = await mailListEntries(services, channel, services.now());
    if (records.length === 0 && mail.length === 0) {
      await respond({ title: 'No targets in this channel yet', status: 'info', text: [`Add one with ${prefix}add host:port`] });
      return;
    }
    const latest = await latestFor(services.repo, records.map((r) => r.id));
    const rows = records.map((record) => ({ record, latest: latest.get(record.id) }));
    rows.sort((a, b) => expirySortKey(a.latest) - expirySortKey(b.latest) || a.record.target.host.localeCompare(b.record.target.host));
    const now = services.now();
    const entries = rows.map((r) => ({ sortKey: expirySortKey(r.latest), lines: [formatListItem(r.record, r.latest, now)] }));
    for (const m of mail) {
      const at = entries.findIndex((e) => e.sortKey > m.sortKey);
      entries.splice(at === -1 ? entries.length : at, 0, m);
    }
    const pages = Math.ceil(entries.length / PAGE_SIZE);
    if (args.page > pages) throw new UserError(`There ${pages === 1 ? 'is 1 page' : `are ${pages} pages`} of targets.`);
    const shown = entries.slice((args.page - 1) * PAGE_SIZE, args.page * PAGE_SIZE);
    // The header is neutral: the command succeeded. Each line carries its entry's status, and
    // the header counts them ("9 targets in this channel: 2 error, 7 ok").
    const counts = new Map<string, number>();
    for (const s of [...rows.map((r) => r.latest?.status), ...mail.map((m) => m.status)]) counts.set(s ?? 'new', (counts.get(s ?? 'new') ?? 0) + 1);
    const order = ['critical', 'error', 'warning', 'ok', 'new'];
    const summary = [...counts].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])).map(([s, n]) => `${n} ${s}`);
    const text = pages > 1 ? [`Page ${args.page} of ${pages}.${args.page < pages ? ` ${prefix}list ${args.page + 1} shows more.` : ''}`] : [];
    await respond({
      title: `${rows.length} target${rows.length === 1 ? '' : 's'}${mail.length === 0 ? '' : ` and ${mail.length} mail domain${mail.length === 1 ? '' : 's'}`} in this channel: ${summary.join(', ')}`,
      status: 'info',
      items: shown.flatMap((e) => e.lines),
      ...(text.length > 0 ? { text } : {}),
    });
  },
});
