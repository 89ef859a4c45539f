// Who may talk to the bot. A public Telegram bot can be found and added to any group, so the
// operator names the chats (and on Slack optionally the channels and users) it serves.

/** Allow-lists; an absent or empty list does not restrict unless `denyWhenEmpty` is set. */
export interface AccessOptions {
  /** Telegram chat ids or Slack channel ids; "*" allows every channel. */
  channels?: readonly string[];
  /** An empty channel list allows nobody (secure default for a bot anyone can find). */
  denyWhenEmpty?: boolean;
  /** Slack user ids (or Telegram user ids). */
  users?: readonly string[];
}

/** Says whether a user in a channel may use the bot. */
export type AccessCheck = (who: { channelId: string; userId: string }) => boolean;

/** Builds an access check from allow-lists (ids are compared as trimmed strings). */
export function createAccessControl(options: AccessOptions = {}): AccessCheck {
  const set = (list: readonly string[] | undefined): Set<string> | null => {
    const ids = (list ?? []).map((id) => id.trim()).filter((id) => id !== '');
    return ids.length === 0 ? null : new Set(ids);
  };
  const channels = set(options.channels);
  const users = set(options.users);
  const anyChannel = channels === null ? options.denyWhenEmpty !== true : channels.has('*');
  return ({ channelId, userId }) => (anyChannel || channels?.has(channelId) === true) && (users === null || users.has(userId));
}
