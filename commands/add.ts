// add <target> [label] [options]: store a target in this channel, probe it at once, reply.
// A target whose first probe fails is still stored: a monitor's job is to report that the
// endpoint is down (it may be a new server not yet up), and the reply says so. The exception
// is BLOCKED_TARGET: an address the SSRF policy refuses will be refused at every probe, so
// the target is removed again and the reply explains why.
import { z } from 'zod';
import { endpoint, formatLatest, formatResults } from '../src/chat/format.ts';
import { channelLockKey } from '../src/commands/channel-lock.ts';
import { newTargetId } from '../src/commands/ids.ts';
import { MAX_LABEL, targetOptions, thresholdList } from '../src/commands/schemas.ts';
import { defineCommand, UserError } from '../src/commands/types.ts';
import type { TargetRecord } from '../src/core/services.ts';
import { addMailCommand } from '../src/mail/commands.ts';
import { parseTarget } from '../src/probe/target.ts';

export default defineCommand({
  name: 'add',
  usage: 'add <target> [label] [--protocol p] [--mode implicit|starttls] [--servername name] [--thresholds 30,14,7] | add mail <domain> [label] [--thresholds 30,14,7]',
  summary: 'Watch an endpoint in this channel and check it now',
  details: [
    'Targets: host, host:port, [ipv6]:port or scheme://host[:port]; the port picks the protocol (587 → SMTP STARTTLS, 993 → IMAPS, other ports → TLS).',
    'A target that cannot be reached is still added and reported, so a server that is down is noticed.',
    'Examples: add mail.example.com:587 "Mail relay" · add ldap.example.com --mode starttls · add db.internal:5432 --servername db.example.com',
    '"add mail example.com" watches a mail domain: its MX and SRV hosts, re-resolved every run, with DANE, MTA-STS and TLS-RPT; it counts as one entry of the channel limit.',
  ],
  probes: true,
  args: z
    .object({
      positional: z.array(z.string()).min(1, 'missing <target>'),
      options: targetOptions.extend({ thresholds: thresholdList.optional() }).strict(),
    })
    .transform(({ positional, options }) => {
      const label = positional.slice(1).join(' ').trim();
      return { target: positional[0]!, label: label === '' ? undefined : label, ...options };
    })
    .refine((a) => a.label === undefined || a.label.length <= MAX_LABEL, `the label is longer than ${MAX_LABEL} characters`),
  async run({ args, channel, user, services, respond, prefix, log }) {
    if (args.target.toLowerCase() === 'mail' && args.label !== undefined) {
      if (args.protocol !== undefined || args.mode !== undefined || args.servername !== undefined) throw new UserError('"add mail" takes only a domain, a label and --thresholds', true);
      const [domain = '', ...rest] = args.label.split(' ');
      await addMailCommand(domain, rest.length === 0 ? undefined : rest.join(' '), args.thresholds, { channel, user, services, respond, prefix, log });
      return;
    }
    const target = parseTarget(args.target, { protocol: args.protocol, mode: args.mode, servername: args.servername });
    // Duplicate check, count and store under the channel's lock: concurrent adds in this
    // process (four users, or one pasting many lines) must not all pass the same count.
    const admitted = await services.channelLock.run(channelLockKey(channel), async () => {
      const existing = await services.repo.findDuplicate(channel, target);
      if (existing !== undefined) return { existing, record: undefined };
      // A watched mail domain counts as one entry (docs/mail.md).
      const domains = services.mailWatch === undefined ? 0 : (await services.mailWatch.repo.list(channel)).length;
      const count = (await services.repo.listTargets(channel)).length + domains;
      const max = services.limits.maxTargetsPerChannel;
      if (count >= max) {
        throw new UserError(`This channel already watches ${count} targets, the limit is ${max}. Remove one first (${prefix}remove <id>).`);
      }
      const record: TargetRecord = {
        id: await newTargetId(services.repo),
        target,
        channel,
        addedBy: user,
        addedAt: services.now().toISOString(),
      };
      if (args.label !== undefined) record.label = args.label;
      if (args.thresholds !== undefined) record.thresholds = args.thresholds;
      await services.repo.addTarget(record);
      return { existing: undefined, record };
    });
    const { existing, record } = admitted;
    if (existing !== undefined) {
      await respond({
        title: `${endpoint(target)} is already watched here as ${existing.id}`,
        status: 'info',
        text: [`Nothing was added. ${prefix}check ${existing.id} checks it now.`],
      });
      return;
    }

    let latest;
    try {
      latest = await services.checks.checkStored(record);
    } catch (err) {
      // Stored already; the scheduler will probe it. Say so rather than a bare failure.
      log.error({ event: 'add_first_check_failed', targetId: record.id, err }, 'first check failed');
      await respond(formatLatest(record, undefined, services.now(), `Added as ${record.id}, but the first check could not run; it will be checked on schedule.`));
      return;
    }
    if (latest.results.length > 0 && latest.results.every((r) => r.error?.code === 'BLOCKED_TARGET')) {
      await services.repo.removeTarget(record.id);
      await respond(formatResults(target, latest.results, { title: `${endpoint(target)} was not added: its address is not allowed` }));
      return;
    }
    const down = latest.results.every((r) => r.certificate === null);
    const note = down
      ? `Added as ${record.id}. The first check obtained no certificate; the target stays watched and you will hear when that changes.`
      : `Added as ${record.id}.`;
    await respond(formatResults(target, latest.results, { record, note, now: services.now() }));
  },
});
