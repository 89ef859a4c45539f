import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { withoutUserinfo } from '../probe/target.ts';

const label = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** A mail domain as typed (IDN allowed) in lower-case ASCII; throws a readable Error when it is not a domain. */
export function parseMailDomain(text: string): string {
  const raw = text.trim();
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (name === '' || isIP(name) !== 0 || /[^\p{L}\p{M}\p{N}._-]/u.test(name)) {
    throw new Error(`"${withoutUserinfo(raw).slice(0, 80)}" is not a mail domain (expected a name like example.com)`);
  }
  const ascii = domainToASCII(name);
  if (ascii === '' || ascii.length > 253 || !ascii.includes('.') || !ascii.split('.').every((l) => label.test(l))) {
    throw new Error(`"${withoutUserinfo(raw).slice(0, 80)}" is not a mail domain (expected a name like example.com)`);
  }
  return ascii;
}
