// The metrics API (POST /api/v1/metrics/names, /attributes, /query; the README documents it).

import { ApiError, post } from './api';

export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

export interface MetricInfo {
  name: string;
  type: MetricType;
  monotonic?: boolean;
  temporality?: 'cumulative' | 'delta';
  unit: string;
  description: string;
  aggregations: string[]; // the first is the default
  series?: number;
  points?: number;
}

export interface AttributeKey {
  key: string;
  source: 'attribute' | 'resource';
  series: number;
  values: string[];
}

// What a chart shows. `from`/`to` are epoch milliseconds; `step` is milliseconds or 'auto'.
export interface MetricQuery {
  metric: string;
  type?: MetricType;
  temporality?: 'cumulative' | 'delta';
  monotonic?: boolean;
  aggregation?: string; // absent: the type's default (rate, sum, avg, last or p99)
  where?: string; // the search language over the metric's attributes
  groupBy?: string[]; // up to three attribute keys
  from: number;
  to: number;
  step?: number | 'auto';
  comparePrevious?: boolean;
}

export interface MetricSeries {
  labels: Record<string, string>;
  points: [number, number][]; // [unixMillis, value]
}

export interface MetricResult extends Omit<MetricInfo, 'name' | 'series' | 'points'> {
  metric: string;
  aggregation: string;
  groupBy: string[];
  from: number;
  to: number;
  step: number;
  series: MetricSeries[];
  previous?: MetricSeries[]; // with comparePrevious: the range before, on this range's time axis
  elapsed_ms: number;
}

// The query service answers 429 when every slot is busy (a page asks for the catalogue, the
// attribute keys and the chart at once, and a dashboard for many charts): wait as told and ask
// again, a few times.
async function postRetrying<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await post<T>(path, body, signal);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 429 || attempt >= 4 || signal?.aborted) throw e;
      const waitMs = (e.retryAfterSeconds ?? 1) * 1000 * (0.5 + Math.random() * 0.5);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

export async function metricNames(from: number, to: number, query = '', signal?: AbortSignal): Promise<MetricInfo[]> {
  const a = await postRetrying<{ metrics?: MetricInfo[] }>('/api/v1/metrics/names', { from, to, query }, signal);
  return a.metrics ?? [];
}

export async function metricAttributes(
  metric: string,
  type: MetricType | undefined,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<AttributeKey[]> {
  const a = await postRetrying<{ attributes?: AttributeKey[] }>('/api/v1/metrics/attributes', { metric, type, from, to }, signal);
  return a.attributes ?? [];
}

export function queryMetric(q: MetricQuery, signal?: AbortSignal): Promise<MetricResult> {
  return postRetrying<MetricResult>('/api/v1/metrics/query', q, signal);
}
