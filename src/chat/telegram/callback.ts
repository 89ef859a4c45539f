// Telegram limits callback_data to 64 bytes, so button command lines are stored in a short
// form ("c:<id>", "m:<id>:7d", "r:<id>") and expanded when pressed. The data comes back from
// the client and can be forged, so decoding yields only a command line that then goes
// through the same guard and dispatcher as typed text.
import type { ReplyButton } from '../types.ts';

/** Bot API limit on InlineKeyboardButton.callback_data, in bytes. */
export const CALLBACK_DATA_LIMIT = 64;

const shortNames: Record<string, string> = { check: 'c', mute: 'm', unmute: 'u', remove: 'r', list: 'l', help: 'h', settings: 's' };
const longNames = new Map(Object.entries(shortNames).map(([long, short]) => [short, long]));

/** Short callback data for a command line, or null when it cannot fit in 64 bytes. */
export function encodeCallback(command: string): string | null {
  const words = command.trim().split(/\s+/).filter((w) => w !== '');
  const [name = '', ...args] = words;
  const short = shortNames[name.toLowerCase()];
  let data: string;
  if (short !== undefined && args.every((a) => !a.includes(':'))) data = [short, ...args].join(':');
  else data = `/${words.join(' ')}`;
  return Buffer.byteLength(data, 'utf8') <= CALLBACK_DATA_LIMIT && words.length > 0 ? data : null;
}

/** The command line behind callback data, or null for data this bot did not make. */
export function decodeCallback(data: string): string | null {
  if (data.startsWith('/')) return data.length > 1 ? data.slice(1) : null;
  const [short = '', ...args] = data.split(':');
  const name = longNames.get(short);
  if (name === undefined || args.some((a) => a === '')) return null;
  return [name, ...args].join(' ');
}

/** An inline keyboard for reply buttons (three per row); buttons that cannot fit are left out. */
export function inlineKeyboard(buttons: readonly ReplyButton[]): { text: string; callback_data: string }[][] {
  const row: { text: string; callback_data: string }[] = [];
  for (const b of buttons) {
    const data = encodeCallback(b.command);
    if (data !== null) row.push({ text: b.label.slice(0, 64) || '…', callback_data: data });
  }
  const rows: { text: string; callback_data: string }[][] = [];
  for (let i = 0; i < row.length; i += 3) rows.push(row.slice(i, i + 3));
  return rows;
}
