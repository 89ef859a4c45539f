// Finds the stored target a user means: by id, by the text it was added with, by label, or by
// the endpoint it parses to. Only this channel's targets are visible: another channel's id is
// answered exactly like an unknown one, so ids cannot be probed across channels.
import type { ChannelRef } from '../chat/types.ts';
import type { Services, TargetRecord } from '../core/services.ts';
import { parseTarget, TargetError, withoutUserinfo } from '../probe/target.ts';
import { ID_PATTERN } from './ids.ts';
import { UserError } from './types.ts';

/** Whether a record belongs to a channel (forum topics and threads share their chat's targets). */
export function ownedBy(record: TargetRecord, channel: ChannelRef): boolean {
  return record.channel.platform === channel.platform && record.channel.channelId === channel.channelId;
}

/** The channel's target named by `ref`, or undefined. */
export async function findTarget(services: Services, channel: ChannelRef, ref: string): Promise<TargetRecord | undefined> {
  const text = ref.trim();
  const lower = text.toLowerCase();
  if (ID_PATTERN.test(lower)) {
    const byId = await services.repo.getTarget(lower);
    if (byId !== undefined && ownedBy(byId, channel)) return byId;
  }
  const mine = (await services.repo.listTargets(channel)).filter((r) => ownedBy(r, channel));
  const byInput = mine.find((r) => r.target.input.toLowerCase() === lower);
  if (byInput !== undefined) return byInput;
  const byLabel = mine.filter((r) => r.label?.toLowerCase() === lower);
  if (byLabel.length === 1) return byLabel[0];
  let parsed;
  try {
    parsed = parseTarget(text);
  } catch (err) {
    if (err instanceof TargetError) return undefined;
    throw err;
  }
  // "mail.example.com:587" names the target on that endpoint; when several are stored there
  // (different --protocol or --servername), only the one matching the parsed defaults.
  const onEndpoint = mine.filter((r) => r.target.host === parsed.host && r.target.port === parsed.port);
  if (onEndpoint.length === 1) return onEndpoint[0];
  const same = onEndpoint.filter(
    (r) => r.target.protocol === parsed.protocol && r.target.mode === parsed.mode && r.target.servername === parsed.servername,
  );
  return same.length === 1 ? same[0] : undefined;
}

/** Like findTarget, but answers the user when nothing matches. */
export async function requireTarget(services: Services, channel: ChannelRef, ref: string, prefix: string): Promise<TargetRecord> {
  const found = await findTarget(services, channel, ref);
  if (found === undefined) {
    throw new UserError(`No target "${withoutUserinfo(ref)}" in this channel. ${prefix}list shows the ids.`);
  }
  return found;
}
