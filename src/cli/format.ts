import { formatHostPort } from '../probe/errors.ts';
import type { ProbeResult, Status } from '../probe/result.ts';

/** Output for `--json`: one array, one object per probed address, nothing else. */
export function formatJson(results: readonly ProbeResult[]): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}

/** Table rendering choices. */
export interface TableOptions {
  /** ANSI colour for the status column (only when stdout is a colour TTY). */
  color: boolean;
}

const label: Record<Status, string> = { ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', error: 'UNKNOWN' };
const ansi: Record<Status, string> = { ok: '32', warning: '33', critical: '31', error: '35' };
const headers = ['STATUS', 'ENDPOINT', 'PROTOCOL', 'ADDRESS', 'DAYS', 'EXPIRES', 'ISSUER', 'DETAILS'] as const;
const daysColumn = headers.indexOf('DAYS');

/**
 * The human table: one row per address; extra problems continue on the next lines under
 * DETAILS. Every cell passes through `cell()`: subjects, issuers and messages quote what a
 * hostile server sent, and must not reach a terminal as escape sequences.
 */
export function formatTable(results: readonly ProbeResult[], opts: TableOptions): string {
  const rows = results.map((r) => ({ status: r.status, cells: rowCells(r), more: details(r).slice(1) }));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r.cells[i] ?? '').length)));
  const last = headers.length - 1;
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === last ? c : i === daysColumn ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const out = [line(headers)];
  for (const row of rows) {
    let text = line(row.cells);
    if (opts.color) {
      const word = label[row.status];
      text = `\u001b[${ansi[row.status]}m${word}\u001b[0m${text.slice(word.length)}`;
    }
    out.push(text);
    const indent = widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
    for (const extra of row.more) out.push(' '.repeat(indent) + extra);
  }
  out.push('', summary(results));
  return `${out.join('\n')}\n`;
}

function rowCells(r: ProbeResult): string[] {
  const c = r.certificate;
  return [
    label[r.status],
    cell(formatHostPort(r.target.host, r.target.port) + (sniNote(r) ?? '')),
    `${r.target.protocol}/${r.target.mode}`,
    cell(r.address ?? '-'),
    c === null ? '-' : String(c.daysLeft),
    c === null ? '-' : c.notAfter.slice(0, 10),
    c === null ? '-' : cell(shortName(c.issuer), 32),
    details(r)[0] ?? '-',
  ];
}

/** Shows the SNI name when it is not the host itself (an IP target, or --servername). */
function sniNote(r: ProbeResult): string | null {
  const sni = r.target.servername;
  return sni === '' || sni === r.target.host ? null : ` (${sni})`;
}

function details(r: ProbeResult): string[] {
  const problems = r.problems.map((p) => cell(`${p.code}: ${p.message}`, 240));
  if (r.error !== null && !r.problems.some((p) => p.code === r.error?.code)) {
    problems.push(cell(`${r.error.code}: ${r.error.message}`, 240));
  }
  // Notes (e.g. CLIENT_CERT_REQUIRED) follow the problems; they never change the status.
  for (const n of r.notes ?? []) problems.push(cell(`${n.code} (note): ${n.message}`, 240));
  return problems;
}

/** The CN of a distinguished name (either "CN=x, O=y" or Node's "C=..\nCN=x" form), else O, else all. */
export function shortName(dn: string): string {
  const attr = (name: string): string | undefined =>
    new RegExp(`(?:^|[,\\n/+]\\s*)${name}=((?:\\\\.|[^,\\n/+])+)`).exec(dn)?.[1]?.trim();
  return attr('CN') ?? attr('O') ?? dn;
}

/** Control characters escaped (no terminal escapes from server data), length capped. */
export function cell(text: string, max = 80): string {
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

function summary(results: readonly ProbeResult[]): string {
  const count = (s: Status): number => results.filter((r) => r.status === s).length;
  const parts = [`${count('ok')} ok`, `${count('warning')} warning`, `${count('critical')} critical`, `${count('error')} could not be checked`];
  const n = results.length;
  return `${n} address${n === 1 ? '' : 'es'} checked: ${parts.join(', ')}`;
}
