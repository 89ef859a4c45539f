import { protocolNames, protocols, wellKnown } from '../probe/protocols/index.ts';
import { limits } from './args.ts';

/** `certwatch help`: the commands. */
export function mainHelp(): string {
  return `certwatch: watch TLS certificates on every protocol

Usage:
  certwatch check [options] <target...>   check endpoints now and exit with a Nagios status
  certwatch bot                           run the chat bot (Slack, Telegram or console; npm start)
  certwatch help [check]                  show this text, or the options of check
  certwatch --version                     print certwatch's version and the Node.js version

Run "certwatch check --help" for the options, protocols and exit statuses.
`;
}

/** `certwatch check --help`; protocols and schemes come from the protocol table. */
export function checkHelp(): string {
  const width = Math.max(...protocolNames.map((n) => n.length));
  const protocolLines = protocolNames.map((n) => `  ${n.padEnd(width)}  ${protocols[n].summary}`).join('\n');
  const schemes = wellKnown
    .filter((r) => r.scheme !== null)
    .map((r) => `${r.scheme}:// (${r.port}${r.mode === 'starttls' ? ', starttls' : ''})`);
  return `Usage: certwatch check [options] <target...>

Targets: host[:port], [ipv6]:port or scheme://host[:port]. Without a scheme, the port picks
the protocol (25 smtp, 143 imap, ...; any other port is implicit TLS; no port means 443).
Schemes, with the port and mode they imply:
${wrap(schemes, 88, '  ')}

Options:
  --json                 print one JSON array, one object per probed address
  --ca <file>            also trust the CA certificates in this PEM file (repeatable)
  --servername <name>    name sent as SNI and checked against the certificate
  --protocol <name>      protocol to speak (see below), overriding the port's default
  --mode <mode>          implicit (TLS from the first byte) or starttls
  --timeout <ms>         deadline per address (default ${limits.timeoutMs.default})
  --warn-days <n>        warning when the certificate expires within n days (default ${limits.warnDays.default})
  --crit-days <n>        critical when it expires within n days (default ${limits.critDays.default})
  -f, --file <path>      read targets from a file, one per line, # comments; - is stdin
  -4, -6                 probe only the IPv4 (A) or IPv6 (AAAA) addresses of host names
  --no-revocation        skip revocation (stapled OCSP, CRLs, OCSP responders) and AIA fetching
  --concurrency <n>      targets probed at once (default ${limits.concurrency.default}, at most ${limits.concurrency.max})
  --mail <domain>        check a mail domain instead: MX (port 25 STARTTLS), SRV services,
                         DANE, MTA-STS, TLS-RPT; printed as a tree (repeatable)
  --dns-server <a[:p]>   resolver for --mail, validating for DANE (default: /etc/resolv.conf)
  -h, --help             show this text

Protocols:
${protocolLines}

Exit status: 0 ok, 1 warning, 2 critical, 3 could not check (or bad usage).
With mixed results the status is critical if any address is critical, else 3 if any
address could not be checked, else warning if any is, else ok.
`;
}

/** Joins items with ", " into indented lines of at most `width` characters. */
function wrap(items: readonly string[], width: number, indent: string): string {
  const lines: string[] = [];
  let line = indent;
  for (const item of items) {
    if (line !== indent && line.length + item.length + 2 > width) {
      lines.push(`${line},`);
      line = indent + item;
    } else {
      line = line === indent ? indent + item : `${line}, ${item}`;
    }
  }
  lines.push(line);
  return lines.join('\n');
}
