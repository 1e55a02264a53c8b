// What the search page shows differently for spans: their cells (duration, status), the row's
// colour from its status, and the links from a row to its trace and from a span to its logs.
import type { ComponentChildren } from 'preact';

import type { Source } from './api';
import { rowTime, text } from './rows';
import type { Row, Severity } from './rows';
import { formatNs } from './traceApi';

export function sourceText(source: Source): string {
  return source === 'traces' ? 'spans' : 'logs';
}

// A span row is coloured as an error when its status is Error; others keep `fallback`.
export function rowClass(row: Row, fallback: Severity): Severity {
  return text(row.StatusCode) === 'Error' ? 'error' : fallback;
}

export function SpanCell({ name, row, fallback }: { name: string; row: Row; fallback: ComponentChildren }) {
  if (name === 'Duration') return <span class="num">{formatNs(Number(row.Duration))}</span>;
  if (name === 'StatusCode') {
    const s = text(row.StatusCode);
    return <span class={`badge status-${s.toLowerCase() || 'unset'}`}>{s || 'Unset'}</span>;
  }
  return <>{fallback}</>;
}

// The URL of log search for the logs of a trace (or of one span of it), around `atMs`.
export function logsUrl(traceId: string, spanId: string | null, atMs: number): string {
  const q = spanId ? `trace_id:${traceId} span_id:${spanId}` : `trace_id:${traceId}`;
  const p = new URLSearchParams({ q, from: String(Math.floor(atMs - 3600e3)), to: String(Math.ceil(atMs + 3600e3)) });
  return `/?${p.toString()}`;
}

export function traceUrl(traceId: string, spanId?: string): string {
  return `/trace/${traceId}${spanId ? `?span=${spanId}` : ''}`;
}

// The detail panel's links: a log or a span with a TraceId opens its trace (at its span); a span
// opens its logs.
export function TraceLinks({ row, source }: { row: Row; source: Source }) {
  const traceId = text(row.TraceId);
  if (!traceId) return null;
  const spanId = text(row.SpanId);
  return (
    <div class="trace-links">
      <a class="btn" href={traceUrl(traceId, spanId || undefined)} data-testid="open-trace">
        Open trace ›
      </a>
      {source === 'traces' && spanId && (
        <a class="btn" href={logsUrl(traceId, spanId, rowTime(row))} data-testid="span-logs">
          Logs of this span
        </a>
      )}
    </div>
  );
}
