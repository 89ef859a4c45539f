// A mail report as a chat reply: the domain in the title, the hosts as a small tree of items.
import type { Reply } from '../chat/types.ts';
import type { MailReport } from './check.ts';
import { domainHeadline, hostDetails, hostLine } from './render.ts';

const clip = (text: string, max = 200): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The reply for `check mail <domain>`; adapters escape every string. */
export function mailReply(r: MailReport, note?: string): Reply {
  const items: string[] = [];
  for (const f of r.findings) items.push(`${f.code} (${f.severity}): ${clip(f.message)}`);
  r.hosts.forEach((h, i) => {
    const last = i === r.hosts.length - 1;
    items.push(`${last ? '└' : '├'} ${hostLine(h, clip)}`);
    for (const d of hostDetails(h, clip).slice(0, 6)) items.push(`${last ? '   ' : '│  '} ${d}`);
  });
  return {
    title: domainHeadline(r, clip),
    status: r.status,
    items,
    ...(note === undefined ? {} : { text: [note] }),
  };
}
