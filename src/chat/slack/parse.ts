// Turns Slack text into command names and arguments: "/cert add host:587" arrives as the
// slash command's text "add host:587"; a mention arrives as "<@U0BOT> add host:587".
// Slack sends what users type with &, < and > as &amp;, &lt; and &gt; (its control
// characters, api.slack.com/docs/formatting); they are read back here, once, so a label
// "R&D" is stored as typed and escaped again only when a reply is rendered.

/** Name and argument text of a command line; an empty line means help. */
export function splitCommandLine(line: string): { name: string; text: string } {
  const trimmed = line.trim();
  const m = /^(\S+)\s*([^]*)$/.exec(trimmed);
  if (m === null) return { name: 'help', text: '' };
  return { name: unescapeSlack(m[1] ?? '').toLowerCase().replace(/^\//, ''), text: unescapeSlack((m[2] ?? '').trim()) };
}

/** Slack's three entities back to characters; &amp; last, so "&amp;lt;" stays "&lt;". */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
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
