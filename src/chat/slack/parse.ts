// Turns Slack text into command names and arguments: "/cert add host:587" arrives as the
// slash command's text "add host:587"; a mention arrives as "<@U0BOT> add host:587".

/** Name and argument text of a command line; an empty line means help. */
export function splitCommandLine(line: string): { name: string; text: string } {
  const trimmed = line.trim();
  const m = /^(\S+)\s*([^]*)$/.exec(trimmed);
  if (m === null) return { name: 'help', text: '' };
  return { name: (m[1] ?? '').toLowerCase().replace(/^\//, ''), text: (m[2] ?? '').trim() };
}

/** Mention text without the leading bot mention (and any other leading mentions). */
export function stripMention(text: string, botUserId: string | undefined): string {
  let rest = text.trim();
  const own = botUserId === undefined ? null : new RegExp(`^<@${botUserId}(\\|[^>]*)?>\\s*`);
  if (own !== null && own.test(rest)) return rest.replace(own, '');
  // Slack may deliver the mention anywhere in the text; drop the first user mention.
  rest = rest.replace(/<@[A-Z0-9]+(\|[^>]*)?>\s*/, '');
  return rest;
}
