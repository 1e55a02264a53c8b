// Saved searches, dashboards, alerts and the metrics query: the JSON API calls of those pages
// (README, "API").
import { call } from './api';
import type { QueryMode } from './api';

export type Source = 'logs' | 'traces';

export interface TimeRange {
  from: string; // a time expression (time.ts)
  to: string;
}

interface Owned {
  id: number;
  name: string;
  owner: string;
  shared: boolean;
  createdAt: number;
  updatedAt: number;
  editable: boolean;
  deletable: boolean;
}

export interface SavedSearch extends Owned {
  source: Source;
  query: string;
  mode: QueryMode;
  columns: string[];
  timeRange: TimeRange;
}

export type SavedSearchBody = Omit<SavedSearch, keyof Owned> & { name: string; shared?: boolean };

export interface SearchTileConfig {
  source: Source;
  query: string;
  mode: QueryMode;
  columns: string[];
}
export interface CountTileConfig {
  source: Source;
  query: string;
  mode: QueryMode;
}
export interface MarkdownTileConfig {
  text: string;
}
export type MetricDisplay = 'line' | 'bar' | 'number' | 'table';
// The request shape of POST /api/v1/metrics/query, without the time range (the dashboard's).
export interface MetricTileConfig {
  metric: string;
  aggregation?: string;
  where?: string;
  groupBy?: string[];
  step?: number; // seconds
  display: MetricDisplay;
}

interface TileBase {
  id: string;
  title: string;
  x: number;
  y: number;
  w: number;
  h: number;
}
export type Tile =
  | (TileBase & { kind: 'search'; search: SearchTileConfig })
  | (TileBase & { kind: 'count'; count: CountTileConfig })
  | (TileBase & { kind: 'markdown'; markdown: MarkdownTileConfig })
  | (TileBase & { kind: 'metric'; metric: MetricTileConfig });
export type TileKind = Tile['kind'];

export interface DashboardBody {
  name: string;
  shared?: boolean;
  timeRange: TimeRange;
  filter: string;
  tiles: Tile[];
}
export type Dashboard = Owned & DashboardBody;

export const listSearches = async () => (await call<{ searches: SavedSearch[] }>('GET', '/api/v1/searches')).searches;
export const createSearch = (b: SavedSearchBody) => call<SavedSearch>('POST', '/api/v1/searches', b);
export const deleteSearch = (id: number) => call<unknown>('DELETE', `/api/v1/searches/${id}`);

export const listDashboards = async () => (await call<{ dashboards: Dashboard[] }>('GET', '/api/v1/dashboards')).dashboards;
export const getDashboard = (id: number) => call<Dashboard>('GET', `/api/v1/dashboards/${id}`);
export const createDashboard = (b: DashboardBody) => call<Dashboard>('POST', '/api/v1/dashboards', b);
export const saveDashboard = (id: number, b: DashboardBody) => call<Dashboard>('PUT', `/api/v1/dashboards/${id}`, b);
export const deleteDashboard = (id: number) => call<unknown>('DELETE', `/api/v1/dashboards/${id}`);
export const exportDashboard = (id: number) => call<unknown>('GET', `/api/v1/dashboards/${id}/export`);
export const importDashboard = (doc: unknown) => call<Dashboard>('POST', '/api/v1/dashboards/import', doc);

// POST /api/v1/metrics/query (served by the metrics page's API).
export interface MetricSeries {
  labels: Record<string, string>;
  points: [number, number | null][];
}
export async function metricsQuery(
  req: MetricTileConfig & { from: number; to: number },
  signal?: AbortSignal,
): Promise<MetricSeries[]> {
  const { display: _display, ...body } = req;
  const a = await call<{ series?: MetricSeries[] }>('POST', '/api/v1/metrics/query', body, signal);
  return Array.isArray(a.series) ? a.series : [];
}

export interface CountBucket {
  start: number;
  count: number;
}
export async function countOverTime(
  req: { source: Source; query: string; mode: QueryMode; from: number; to: number; buckets?: number },
  signal?: AbortSignal,
): Promise<{ buckets: CountBucket[]; total: number }> {
  const a = await call<{ buckets?: { start: number; count: number }[]; total?: number }>('POST', '/api/v1/search/histogram', req, signal);
  const buckets = (a.buckets ?? []).map((b) => ({ start: Number(b.start), count: Number(b.count) }));
  return { buckets, total: Number(a.total ?? 0) };
}

export type AlertState = 'OK' | 'ALERT' | 'INSUFFICIENT_DATA' | 'DISABLED';
export type ThresholdOp = 'above' | 'below' | 'between';
export interface AlertBody {
  name: string;
  kind: 'search' | 'chart';
  source?: Source;
  query?: string;
  groupBy?: string | string[];
  metric?: string;
  aggregation?: string;
  where?: string;
  window: string;
  threshold: { op: ThresholdOp; value: number; value2?: number };
  consecutiveWindows?: number;
  channel: { type: 'webhook' | 'slack'; url?: string; template?: string };
}
export interface Alert extends AlertBody {
  id: number;
  owner: string;
  state: AlertState;
  enabled: boolean;
  silenced: boolean;
  silencedUntil: number | null;
  lastWindowEnd: number | null;
  lastError: string;
}
export interface AlertHistoryEntry {
  windowStart: number;
  windowEnd: number;
  group: string;
  value: number | null;
  state: AlertState;
  error: string;
  evaluatedAt: number;
}
export interface AlertAttempt {
  attempt: number;
  at: number;
  outcome: string;
  httpStatus: number;
  message: string;
  durationMs: number;
}
export interface AlertDelivery {
  id: number;
  event: 'fire' | 'resolve';
  group: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  createdAt: number;
  attemptLog: AlertAttempt[];
}
export interface AlertDetail extends Alert {
  groups: { group: string; streak: number; alerting: boolean; value: number }[];
  history: AlertHistoryEntry[];
  deliveries: AlertDelivery[];
}

export const listAlerts = async () => (await call<{ alerts: Alert[] }>('GET', '/api/v1/alerts')).alerts;
export const getAlert = (id: number) => call<AlertDetail>('GET', `/api/v1/alerts/${id}`);
export const createAlert = (b: AlertBody) => call<Alert>('POST', '/api/v1/alerts', b);
export const updateAlert = (id: number, b: AlertBody) => call<Alert>('PUT', `/api/v1/alerts/${id}`, b);
export const deleteAlert = (id: number) => call<unknown>('DELETE', `/api/v1/alerts/${id}`);
export const silenceAlert = (id: number, until: number | null) => call<Alert>('POST', `/api/v1/alerts/${id}/silence`, { until });
export const enableAlert = (id: number, enabled: boolean) => call<Alert>('POST', `/api/v1/alerts/${id}/enabled`, { enabled });
