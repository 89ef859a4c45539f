// check <target|id|all>: probe now and reply. A stored target is checked and recorded
// (feeding the alert policy); anything else is checked ad hoc and nothing is stored.
// "all" checks this channel's targets a few at a time and reports progress as it goes.
import { z } from 'zod';
import { endpoint, expirySortKey, formatListItem, formatResults } from '../src/chat/format.ts';
import type { ChannelRef, Respond } from '../src/chat/types.ts';
import { findTarget } from '../src/commands/resolve.ts';
import { targetOptions } from '../src/commands/schemas.ts';
import { defineCommand, UserError, type CommandLogger } from '../src/commands/types.ts';
import type { LatestResults, Services, TargetRecord } from '../src/core/services.ts';
import { worstStatus, type Status } from '../src/probe/result.ts';
import { channelMailDomains, checkMailCommand, mailListEntries, mailRefCommand } from '../src/mail/commands.ts';
import { parseTarget } from '../src/probe/target.ts';

/** Probes run at once by "check all": bounded so one channel cannot monopolise the prober. */
export const CHECK_ALL_CONCURRENCY = 4;
/** Lines in the final "check all" summary; the rest are one `list` away. */
const MAX_SUMMARY_ITEMS = 40;

export default defineCommand({
  name: 'check',
  usage: 'check <target|id|all> [--protocol p] [--mode implicit|starttls] [--servername name] | check mail <domain>',
  summary: 'Check a target now (stored or not), or all of this channel\'s targets and mail domains',
  details: [
    'A target that is not watched here is checked once and not stored.',
    'Examples: check k3x9p2 · check all · check imap.example.com:143 · check example.org:8443 --protocol https',
    '"check mail example.com" checks a mail domain: its MX hosts (port 25, STARTTLS), SRV services, DANE, MTA-STS and TLS-RPT.',
  ],
  probes: true,
  args: z
    .object({
      positional: z.tuple([z.string()], z.string()).refine((p) => p.length === 1 || (p.length === 2 && p[0].toLowerCase() === 'mail'), {
        error: 'check takes one target, id or "all" (or: check mail <domain>)',
      }),
      options: targetOptions,
    })
    .transform(({ positional, options }) => ({ ref: positional[0], ...(positional[1] === undefined ? {} : { domain: positional[1] }), ...options })),
  async run(ctx) {
    const { args, channel, services, respond, prefix, log } = ctx;
    const hasOptions = args.protocol !== undefined || args.mode !== undefined || args.servername !== undefined;
    if (args.domain !== undefined) {
      await checkMailCommand(args.domain, services, respond, channel, prefix);
      return;
    }
    if (!hasOptions && args.ref.toLowerCase() !== 'all' && (await mailRefCommand('check', args.ref, ctx))) return;
    if (args.ref.toLowerCase() === 'all') {
      if (hasOptions) throw new UserError('"check all" takes no options', true);
      await checkAll(channel, services, respond, prefix, log);
      return;
    }
    let record = hasOptions ? undefined : await findTarget(services, channel, args.ref);
    const target = record?.target ?? parseTarget(args.ref, { protocol: args.protocol, mode: args.mode, servername: args.servername });
    record ??= await services.repo.findDuplicate(channel, target);
    if (record !== undefined) {
      const latest = await services.checks.checkStored(record);
      await respond(formatResults(record.target, latest.results, { record, now: services.now() }));
      return;
    }
    const results = await services.checks.checkAdHoc(target);
    await respond(formatResults(target, results, { note: `Checked once; not watched here (${prefix}${addCommand(target.input, args)} watches it).` }));
  },
});

/** The `add` line that watches what was just checked, with the options that shaped the check. */
function addCommand(input: string, options: { protocol?: string | undefined; mode?: string | undefined; servername?: string | undefined }): string {
  const parts = ['add', quoteArg(input)];
  if (options.protocol !== undefined) parts.push('--protocol', quoteArg(options.protocol));
  if (options.mode !== undefined) parts.push('--mode', quoteArg(options.mode));
  if (options.servername !== undefined) parts.push('--servername', quoteArg(options.servername));
  return parts.join(' ');
}

/** A word as the tokenizer reads it back: quoted when it holds spaces or quotes. */
function quoteArg(word: string): string {
  return /^[^\s"'“”‘’„]+$/.test(word) ? word : `"${word.replace(/"/g, '')}"`;
}

async function checkAll(channel: ChannelRef, services: Services, respond: Respond, prefix: string, log: CommandLogger): Promise<void> {
  const records = await services.repo.listTargets(channel);
  // Watched mail domains are entries of the channel too: checked after the targets.
  const domains = await channelMailDomains(services, channel);
  if (records.length === 0 && domains.length === 0) {
    await respond({ title: 'No targets in this channel yet', status: 'info', text: [`Add one with ${prefix}add host:port`] });
    return;
  }
  const n = records.length;
  const what = `${n} target${n === 1 ? '' : 's'}${domains.length === 0 ? '' : ` and ${domains.length} mail domain${domains.length === 1 ? '' : 's'}`}`;
  await respond({ title: `Checking ${what}…`, status: 'info' });
  // At most about five progress updates, whatever the number of targets.
  const every = Math.max(5, Math.ceil(n / 5));
  const done: { record: TargetRecord; latest: LatestResults | undefined }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < records.length) {
      const record = records[next++]!;
      let latest: LatestResults | undefined;
      try {
        latest = await services.checks.checkStored(record);
      } catch (err) {
        log.error({ event: 'check_all_target_failed', targetId: record.id, err }, 'check failed');
      }
      done.push({ record, latest });
      if (done.length % every === 0 && done.length < n) {
        await respond({ title: `Checked ${done.length} of ${n}…`, status: 'info' });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_ALL_CONCURRENCY, n) }, worker));
  for (const d of domains) {
    try {
      await services.mailWatch!.check(d);
    } catch (err) {
      log.error({ event: 'check_all_domain_failed', domainId: d.id, err }, 'check failed');
    }
  }
  const mail = domains.length === 0 ? [] : await mailListEntries(services, channel, services.now());

  const statuses = [...done.map((d) => d.latest?.status ?? 'error'), ...mail.map((m) => m.status ?? 'error')];
  const counts = (['critical', 'error', 'warning', 'ok'] as const satisfies readonly Status[])
    .map((s) => [s, statuses.filter((x) => x === s).length] as const)
    .filter(([, c]) => c > 0)
    .map(([s, c]) => `${c} ${s}`);
  done.sort((a, b) => expirySortKey(a.latest) - expirySortKey(b.latest));
  const now = services.now();
  const shown = done.slice(0, MAX_SUMMARY_ITEMS);
  await respond({
    title: `Checked ${what}: ${counts.join(', ')}`,
    status: worstStatus(statuses),
    items: [
      ...shown.map((d) => (d.latest === undefined ? `[ERROR] ${d.record.id} ${endpoint(d.record.target)} — the check could not run` : formatListItem(d.record, d.latest, now))),
      ...mail.flatMap((m) => m.lines),
    ],
    ...(n > shown.length ? { text: [`The ${shown.length} soonest to expire are shown; ${prefix}list pages through all.`] } : {}),
  });
}
