// Result rows as the search API sends them (arrays in the order of `columns`), and the values the
// table, the detail panel and the CSV export show.
import { parseTime } from './api';
import type { Column } from './api';

export type Row = Record<string, unknown>;

export function toRows(columns: Column[], rows: unknown[][]): Row[] {
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]])));
}

export const mapColumns = ['LogAttributes', 'ResourceAttributes', 'ScopeAttributes', 'SpanAttributes'];

// "LogAttributes.http.method" reads a key of a map column; other names read a column.
export function cell(row: Row, name: string): unknown {
  if (name in row) return row[name];
  for (const m of mapColumns) {
    if (name.startsWith(`${m}.`)) {
      const map = row[m];
      return map && typeof map === 'object' ? (map as Record<string, unknown>)[name.slice(m.length + 1)] : undefined;
    }
  }
  return undefined;
}

export function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function rowTime(row: Row): number {
  return parseTime(row.Timestamp ?? row.TimestampTime ?? 0);
}

// A stable identity of a row, to merge pages and live-tail polls without duplicates.
export function rowKey(row: Row): string {
  return `${text(row.Timestamp)}|${text(row.ServiceName)}|${text(row.TraceId)}|${text(row.SpanId)}|${text(row.Body).slice(0, 200)}`;
}

const severities = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type Severity = (typeof severities)[number] | 'other';

// The severity class of a SeverityText ("ERROR", "Warning", "err", "E") or a number.
export function severityClass(v: unknown): Severity {
  const s = text(v).toLowerCase();
  if (/^(fatal|crit|critical|emerg|alert|panic)/.test(s)) return 'fatal';
  if (/^(err|error|e$)/.test(s)) return 'error';
  if (/^(warn|warning|w$)/.test(s)) return 'warn';
  if (/^(info|notice|information|i$)/.test(s)) return 'info';
  if (/^(debug|d$)/.test(s)) return 'debug';
  if (/^(trace|t$)/.test(s)) return 'trace';
  return 'other';
}

export const severityOrder: Severity[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'other'];

export function csv(columns: string[], rows: Row[]): string {
  const esc = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [columns.map(esc).join(',')];
  for (const r of rows) lines.push(columns.map((c) => esc(text(cell(r, c)))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

// The query clause that selects records whose `key` is `value` (or not): an attribute map key is
// written bare (looked up in the record's attributes, then its resource's), columns by name.
export function clause(key: string, value: unknown, negate: boolean): string {
  const v = text(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const k = /^[A-Za-z0-9_.\-]+$/.test(key) ? key : `"${key.replace(/"/g, '\\"')}"`;
  return `${negate ? '-' : ''}${k}:"${v}"`;
}
