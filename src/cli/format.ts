import { formatHostPort } from '../probe/errors.ts';
import type { ProbeResult, Status } from '../probe/result.ts';

/** Output for `--json`: one array, one object per probed address, nothing else. */
export function formatJson(results: readonly ProbeResult[]): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}

/**
 * `--json` written one result at a time, byte for byte what formatJson prints for the same
 * results: an element of `JSON.stringify(array, null, 2)` is the element's own two-space
 * rendering indented by two more (JSON strings never contain a raw newline).
 */
export class JsonArrayWriter {
  private count = 0;

  /** The text for the next results (to append to what was written before). */
  next(results: readonly ProbeResult[]): string {
    let text = '';
    for (const r of results) {
      text += `${this.count === 0 ? '[\n  ' : ',\n  '}${JSON.stringify(r, null, 2).replace(/\n/g, '\n  ')}`;
      this.count++;
    }
    return text;
  }

  /** The closing text. */
  end(): string {
    return this.count === 0 ? '[]\n' : '\n]\n';
  }
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

/** One table row: its cells already rendered and escaped (a few hundred bytes, not the result). */
interface Row {
  status: Status;
  cells: string[];
  more: string[];
}

/**
 * The human table: one row per address; extra problems continue on the next lines under
 * DETAILS. Every cell passes through `cell()`: subjects, issuers and messages quote what a
 * hostile server sent, and must not reach a terminal as escape sequences.
 *
 * Column widths depend on every row, so the table is printed at the end; the builder keeps
 * only the rendered cells of each row, never the results (issue 9: 100,000 targets).
 */
export class TableBuilder {
  private readonly rows: Row[] = [];
  private readonly widths: number[] = headers.map((h) => h.length);
  private readonly counts: Record<Status, number> = { ok: 0, warning: 0, critical: 0, error: 0 };

  add(results: readonly ProbeResult[]): void {
    for (const r of results) {
      const row: Row = { status: r.status, cells: rowCells(r), more: details(r).slice(1) };
      row.cells.forEach((c, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, c.length)));
      this.rows.push(row);
      this.counts[r.status]++;
    }
  }

  /** The table as text chunks of a bounded number of lines each (to write one by one). */
  *render(opts: TableOptions): Generator<string> {
    const widths = this.widths;
    const last = headers.length - 1;
    const line = (cells: readonly string[]): string =>
      cells.map((c, i) => (i === last ? c : i === daysColumn ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    const indent = widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
    let out = [line(headers)];
    for (const row of this.rows) {
      let text = line(row.cells);
      if (opts.color) {
        const word = label[row.status];
        text = `\u001b[${ansi[row.status]}m${word}\u001b[0m${text.slice(word.length)}`;
      }
      out.push(text);
      for (const extra of row.more) out.push(' '.repeat(indent) + extra);
      if (out.length >= 1000) {
        yield `${out.join('\n')}\n`;
        out = [];
      }
    }
    out.push('', summary(this.counts, this.rows.length));
    yield `${out.join('\n')}\n`;
  }
}

/** The whole table for `results` (see TableBuilder). */
export function formatTable(results: readonly ProbeResult[], opts: TableOptions): string {
  const table = new TableBuilder();
  table.add(results);
  return [...table.render(opts)].join('');
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

function summary(counts: Record<Status, number>, n: number): string {
  const parts = [`${counts.ok} ok`, `${counts.warning} warning`, `${counts.critical} critical`, `${counts.error} could not be checked`];
  return `${n} address${n === 1 ? '' : 'es'} checked: ${parts.join(', ')}`;
}
