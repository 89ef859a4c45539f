// Renders a neutral Reply as Telegram HTML (Bot API "HTML style" formatting). Every string
// is escaped: certificate subjects, server errors and user arguments are attacker-chosen,
// and the API rejects the whole message on one stray "<" or "&".
import type { Reply, ReplyStatus } from '../types.ts';

const statusEmoji: Record<ReplyStatus, string> = {
  ok: '✅',
  warning: '⚠️',
  critical: '🔴',
  error: '❌',
  info: 'ℹ️',
};

/**
 * Longest run of plain text on one rendered line. Escaping can grow text fivefold ("&" →
 * "&amp;"), so 700 characters stay under the 4096 limit even in the worst case and every
 * line fits in one message.
 */
const MAX_LINE = 700;

/** Escapes text for Telegram HTML, including quotes so it is safe inside attributes too. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Cuts plain text into lines of at most `max` characters (splitting on newlines first). */
function wrap(text: string, max = MAX_LINE): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.length <= max) {
      out.push(line);
      continue;
    }
    for (let i = 0; i < line.length; i += max) out.push(line.slice(i, i + max));
  }
  return out;
}

/** The reply as HTML lines; each line is self-contained (no tag spans two lines). */
export function renderHtmlLines(reply: Reply): string[] {
  const lines: string[] = [];
  const emoji = reply.status === undefined ? '' : `${statusEmoji[reply.status]} `;
  const [first = '', ...restTitle] = wrap(reply.title);
  lines.push(`${emoji}<b>${escapeHtml(first)}</b>`, ...restTitle.map((l) => `<b>${escapeHtml(l)}</b>`));
  for (const paragraph of reply.text ?? []) {
    lines.push('', ...wrap(paragraph).map(escapeHtml));
  }
  if (reply.fields !== undefined && reply.fields.length > 0) {
    lines.push('');
    for (const f of reply.fields) {
      const [head = '', ...rest] = wrap(f.value, MAX_LINE - Math.min(f.label.length, 100));
      lines.push(`<b>${escapeHtml(f.label.slice(0, 100))}:</b> ${escapeHtml(head)}`, ...rest.map(escapeHtml));
    }
  }
  if (reply.items !== undefined && reply.items.length > 0) {
    lines.push('');
    for (const item of reply.items) {
      const [head = '', ...rest] = wrap(item, MAX_LINE - 2);
      lines.push(`• ${escapeHtml(head)}`, ...rest.map(escapeHtml));
    }
  }
  return lines;
}

/** Telegram's limit on a message's text. */
export const TELEGRAM_TEXT_LIMIT = 4096;

/**
 * Splits HTML lines into messages on line boundaries. Measures the raw HTML, which is never
 * shorter than the text Telegram counts after parsing entities, so every part is accepted.
 */
export function splitLines(lines: readonly string[], limit = TELEGRAM_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let current = '';
  for (const line of lines) {
    const candidate = current === '' ? line : `${current}\n${line}`;
    if (candidate.length <= limit) {
      current = candidate;
      continue;
    }
    if (current.trim() !== '') parts.push(current);
    current = line.length <= limit ? line : line.slice(0, limit);
  }
  if (current.trim() !== '') parts.push(current);
  return parts.length === 0 ? ['…'] : parts;
}

/** The reply rendered and split into Telegram-sized HTML messages. */
export function renderHtmlMessages(reply: Reply, limit = TELEGRAM_TEXT_LIMIT): string[] {
  return splitLines(renderHtmlLines(reply), limit);
}
