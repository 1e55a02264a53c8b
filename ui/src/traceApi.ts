// The trace and services API (GET /api/v1/traces/<id>, POST /api/v1/services,
// POST /api/v1/services/operations), through the same call() as every API request.
import { call } from './api';

export interface SpanEvent {
  timeUnixNano: string;
  name: string;
  attributes: Record<string, string>;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Record<string, string>;
}

export interface Span {
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  startUnixNano: string; // epoch ns as decimal text (past 2^53)
  durationNano: string;
  statusCode: string; // "Unset" | "Ok" | "Error"
  statusMessage: string;
  kind: string;
  scope: string;
  traceState: string;
  events: SpanEvent[];
  links: SpanLink[];
  attributes: Record<string, string>;
  resourceAttributes: Record<string, string>;
}

export interface TraceLog {
  timeUnixNano: string;
  spanId: string;
  service: string;
  severityText: string;
  severityNumber: number;
  body: string;
  attributes: Record<string, string>;
  resourceAttributes: Record<string, string>;
  scope: string;
}

export interface Trace {
  traceId: string;
  spans: Span[];
  logs: TraceLog[];
  truncated: boolean;
  logsTruncated: boolean;
  elapsed_ms: number;
}

export const isTraceId = (id: string) => /^[0-9a-fA-F]{32}$/.test(id);

export function getTrace(traceId: string, signal?: AbortSignal): Promise<Trace> {
  return call<Trace>('GET', `/api/v1/traces/${encodeURIComponent(traceId)}`, undefined, signal);
}

export interface Figures {
  spans: number;
  errors: number;
  rate: number; // spans per second over the range
  errorRate: number; // errors / spans
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface ServiceFigures extends Figures {
  service: string;
}

export interface OperationFigures extends Figures {
  name: string;
}

export interface SlowSpan {
  traceId: string;
  spanId: string;
  name: string;
  startUnixNano: string;
  durationNano: string;
  statusCode: string;
}

export function services(req: { from: number; to: number }, signal?: AbortSignal): Promise<{ services: ServiceFigures[]; elapsed_ms: number }> {
  return call('POST', '/api/v1/services', req, signal);
}

export function operations(
  req: { service: string; from: number; to: number },
  signal?: AbortSignal,
): Promise<{ service: string; operations: OperationFigures[]; slowest: SlowSpan[]; elapsed_ms: number }> {
  return call('POST', '/api/v1/services/operations', req, signal);
}

// A duration in nanoseconds as people read it: 850 ns, 12.4 µs, 3.52 ms, 1.25 s, 2m 5s.
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (ns === 0) return '0';
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (ns < 60e9) return `${(ns / 1e9).toPrecision(3)} s`;
  const s = Math.round(ns / 1e9);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}
