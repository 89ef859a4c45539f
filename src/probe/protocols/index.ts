import { ftp } from './ftp.ts';
import { imap } from './imap.ts';
import { irc } from './irc.ts';
import { ldap } from './ldap.ts';
import { lmtp } from './lmtp.ts';
import { mysql } from './mysql.ts';
import { nntp } from './nntp.ts';
import { pop3 } from './pop3.ts';
import { postgres } from './postgres.ts';
import { sieve } from './sieve.ts';
import { smtp } from './smtp.ts';
import type { Mode, ProtocolSpec } from './types.ts';
import { xmppClient, xmppServer } from './xmpp.ts';

export type { Dialect, Mode, ProtocolSpec } from './types.ts';

/**
 * Every protocol certwatch speaks. Adding one: a file in this folder and one line here
 * (plus its ports below). The zod enum, help text and port defaults derive from this table.
 */
export const protocols = {
  tls: { dialect: null, summary: 'TLS from the first byte (any port)' },
  https: { dialect: null, summary: 'HTTPS (implicit TLS)' },
  smtp: { dialect: smtp, summary: 'SMTP: EHLO, STARTTLS (RFC 3207)' },
  lmtp: { dialect: lmtp, summary: 'LMTP: LHLO, STARTTLS (RFC 2033)' },
  imap: { dialect: imap, summary: 'IMAP: tagged STARTTLS (RFC 9051)' },
  pop3: { dialect: pop3, summary: 'POP3: STLS (RFC 2595)' },
  ftp: { dialect: ftp, summary: 'FTP: AUTH TLS, 234 (RFC 4217)' },
  ldap: { dialect: ldap, summary: 'LDAP: StartTLS extended operation (RFC 4511)' },
  postgres: { dialect: postgres, summary: 'PostgreSQL: SSLRequest' },
  mysql: { dialect: mysql, summary: 'MySQL/MariaDB: CLIENT_SSL in the handshake' },
  xmpp: { dialect: xmppClient, summary: 'XMPP client-to-server: <starttls/> (RFC 6120)' },
  'xmpp-server': { dialect: xmppServer, summary: 'XMPP server-to-server: <starttls/> (RFC 6120)' },
  nntp: { dialect: nntp, summary: 'NNTP: STARTTLS, 382 (RFC 4642)' },
  sieve: { dialect: sieve, summary: 'ManageSieve: STARTTLS (RFC 5804)' },
  irc: { dialect: irc, summary: 'IRC: STARTTLS, 670 (IRCv3)' },
} as const satisfies Record<string, ProtocolSpec>;

export type ProtocolName = keyof typeof protocols;

export const protocolNames = Object.keys(protocols) as [ProtocolName, ...ProtocolName[]];

/** A scheme or well-known port and what it implies. */
export interface PortRow {
  /** URL scheme naming this row, or null for a port known only by number. */
  scheme: string | null;
  port: number;
  protocol: ProtocolName;
  mode: Mode;
}

/**
 * Schemes and well-known ports. The first row for a port is the one a bare `host:port` gets;
 * the first row for a protocol and mode gives its default port.
 */
export const wellKnown: readonly PortRow[] = [
  { scheme: 'https', port: 443, protocol: 'https', mode: 'implicit' },
  { scheme: null, port: 8443, protocol: 'https', mode: 'implicit' },
  { scheme: 'smtp', port: 25, protocol: 'smtp', mode: 'starttls' },
  { scheme: 'submission', port: 587, protocol: 'smtp', mode: 'starttls' },
  { scheme: 'smtps', port: 465, protocol: 'smtp', mode: 'implicit' },
  { scheme: 'submissions', port: 465, protocol: 'smtp', mode: 'implicit' },
  { scheme: 'lmtp', port: 24, protocol: 'lmtp', mode: 'starttls' },
  { scheme: 'imap', port: 143, protocol: 'imap', mode: 'starttls' },
  { scheme: 'imaps', port: 993, protocol: 'imap', mode: 'implicit' },
  { scheme: 'pop3', port: 110, protocol: 'pop3', mode: 'starttls' },
  { scheme: 'pop3s', port: 995, protocol: 'pop3', mode: 'implicit' },
  { scheme: 'ftp', port: 21, protocol: 'ftp', mode: 'starttls' },
  { scheme: 'ftps', port: 990, protocol: 'ftp', mode: 'implicit' },
  { scheme: 'ldap', port: 389, protocol: 'ldap', mode: 'starttls' },
  { scheme: 'ldaps', port: 636, protocol: 'ldap', mode: 'implicit' },
  { scheme: 'postgres', port: 5432, protocol: 'postgres', mode: 'starttls' },
  { scheme: 'postgresql', port: 5432, protocol: 'postgres', mode: 'starttls' },
  { scheme: 'mysql', port: 3306, protocol: 'mysql', mode: 'starttls' },
  { scheme: 'xmpp', port: 5222, protocol: 'xmpp', mode: 'starttls' },
  { scheme: 'xmpp-server', port: 5269, protocol: 'xmpp-server', mode: 'starttls' },
  { scheme: 'xmpps', port: 5223, protocol: 'xmpp', mode: 'implicit' },
  { scheme: 'nntp', port: 119, protocol: 'nntp', mode: 'starttls' },
  { scheme: 'nntps', port: 563, protocol: 'nntp', mode: 'implicit' },
  { scheme: 'sieve', port: 4190, protocol: 'sieve', mode: 'starttls' },
  { scheme: 'irc', port: 6667, protocol: 'irc', mode: 'starttls' },
  { scheme: 'ircs', port: 6697, protocol: 'irc', mode: 'implicit' },
  { scheme: 'tls', port: 443, protocol: 'tls', mode: 'implicit' },
];

export function rowForScheme(scheme: string): PortRow | undefined {
  return wellKnown.find((r) => r.scheme === scheme);
}

export function rowForPort(port: number): PortRow | undefined {
  return wellKnown.find((r) => r.port === port);
}

/** Default port of a protocol in a mode, if it has one. */
export function defaultPort(protocol: ProtocolName, mode: Mode): number | undefined {
  return wellKnown.find((r) => r.protocol === protocol && r.mode === mode)?.port;
}

export function isProtocolName(name: string): name is ProtocolName {
  return Object.hasOwn(protocols, name);
}

/** Whether a protocol can be probed in a mode (implicit TLS works for all). */
export function supportsMode(protocol: ProtocolName, mode: Mode): boolean {
  return mode === 'implicit' || protocols[protocol].dialect !== null;
}
