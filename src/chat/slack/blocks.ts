// Renders a neutral Reply as a Slack message: a title section, then a coloured attachment
// holding paragraphs, fields, list items and buttons as Block Kit. Every string from a
// server or user goes through escapeMrkdwn, and text objects are `verbatim` so Slack does not
// turn host names into links or "@here" into a mention.
import type { types } from '@slack/bolt';
import type { Reply, ReplyStatus } from '../types.ts';

/** Escapes Slack's control characters (&, <, >); "<!channel>" or "<http://x|y>" cannot be formed. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const statusEmoji: Record<ReplyStatus, string> = {
  ok: ':white_check_mark:',
  warning: ':warning:',
  critical: ':red_circle:',
  error: ':x:',
  info: ':information_source:',
};

const statusColour: Record<ReplyStatus, string> = {
  ok: '#2eb67d',
  warning: '#ecb22e',
  critical: '#e01e5a',
  error: '#7a1f1f',
  info: '#1d9bd1',
};

/** Prefix of every button's action_id; the app routes presses on it. */
export const ACTION_PREFIX = 'certwatch_run';

// Block Kit limits: section text 3000, field 2000, 10 fields per section, 50 blocks per
// message, button text 75 and value 2000 characters, 25 elements per actions block.
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const MAX_BLOCKS = 50;

const mrkdwn = (text: string): types.MrkdwnElement => ({ type: 'mrkdwn', text, verbatim: true });
const section = (text: string): types.SectionBlock => ({ type: 'section', text: mrkdwn(text) });
const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Joins escaped lines into sections of at most 3000 characters. */
function sections(lines: readonly string[]): types.SectionBlock[] {
  const out: types.SectionBlock[] = [];
  let current = '';
  for (const raw of lines) {
    const line = clip(raw, SECTION_MAX);
    if (current !== '' && current.length + 1 + line.length > SECTION_MAX) {
      out.push(section(current));
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') out.push(section(current));
  return out;
}

/** A chat.postMessage / response_url payload for a Reply. */
export interface SlackMessage {
  /** Notification and screen-reader fallback. */
  text: string;
  blocks: types.KnownBlock[];
  attachments: types.MessageAttachment[];
}

/** Renders a Reply as blocks plus a coloured attachment. */
export function renderMessage(reply: Reply): SlackMessage {
  const status = reply.status ?? 'info';
  const title = clip(escapeMrkdwn(reply.title), SECTION_MAX - 60);
  const body: types.KnownBlock[] = [];
  for (const p of reply.text ?? []) body.push(...sections(escapeMrkdwn(p).split('\n')));
  const fields = (reply.fields ?? []).map((f) => mrkdwn(clip(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, FIELD_MAX)));
  for (let i = 0; i < fields.length; i += 10) body.push({ type: 'section', fields: fields.slice(i, i + 10) });
  if (reply.items !== undefined && reply.items.length > 0) body.push(...sections(reply.items.map((item) => `• ${escapeMrkdwn(item)}`)));

  const buttons = (reply.buttons ?? []).slice(0, 25).map(
    (b, i): types.Button => ({
      type: 'button',
      action_id: `${ACTION_PREFIX}_${i}`,
      text: { type: 'plain_text', text: clip(b.label, 75) || '…' },
      // The press runs this command line in the channel (see app.ts); it is re-checked there.
      value: clip(b.command, 2000),
      ...(b.style === undefined ? {} : { style: b.style }),
    }),
  );
  // Room for the title block, the status context and the actions block.
  const room = MAX_BLOCKS - 1 - 1 - (buttons.length > 0 ? 1 : 0);
  if (body.length > room) {
    const dropped = body.length - (room - 1);
    body.splice(room - 1);
    body.push({ type: 'context', elements: [mrkdwn(`… ${dropped} more sections not shown`)] });
  }
  body.push({ type: 'context', elements: [mrkdwn(`Status: ${status}`)] });
  if (buttons.length > 0) body.push({ type: 'actions', elements: buttons });

  return {
    text: clip(escapeMrkdwn(reply.title), 300),
    blocks: [section(`${statusEmoji[status]} *${title}*`)],
    attachments: [{ color: statusColour[status], blocks: body, fallback: clip(escapeMrkdwn(reply.title), 300) }],
  };
}
