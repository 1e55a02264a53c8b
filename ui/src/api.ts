// The JSON API the UI uses, and nothing else (the README documents it). Every POST body is
// application/json; state-changing calls carry the session's CSRF token.

export interface User {
  email: string;
  role: string;
  mustChangePassword: boolean;
}

export interface Column {
  name: string;
  type: string;
}

// "search": the search language; "sql": a ClickHouse WHERE expression (checked like /api/v1/sql).
export type QueryMode = 'search' | 'sql';

// Which records a search reads: logs (otel_logs) or spans (otel_traces).
export type Source = 'logs' | 'traces';

export interface SearchRequest {
  source: Source;
  query: string;
  mode?: QueryMode;
  from: number;
  to: number;
  limit: number;
  select?: string[];
  cursor?: string;
}

export interface SearchResponse {
  columns: Column[];
  rows: unknown[][];
  elapsed_ms: number;
  cursor: string | null;
}

export interface HistogramBucket {
  start: number; // epoch ms
  count: number;
  bySeverity: Record<string, number>;
}

export interface HistogramResponse {
  buckets: HistogramBucket[];
  total: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
    // The error's name in the answer's body (e.g. NO_SUCH_METRIC), when it has one.
    readonly errorName?: string,
  ) {
    super(message);
  }
}

const csrfKey = 'stackhouse.csrf';
let csrfToken: string | null = sessionStorage.getItem(csrfKey);
let onUnauthorized: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
  if (token) sessionStorage.setItem(csrfKey, token);
  else sessionStorage.removeItem(csrfKey);
}

// Called when a call answers 401 (the session ended): the app shows the login page.
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

// The server runs a few queries at once per instance (clickstack.hyperdx.query.maxConcurrent,
// default 4) and answers 429 past that. A page with many charts (a dashboard) would overflow it
// from one tab, so query calls wait here for one of three slots; the live tail's long poll, which
// holds a slot only while its query runs, does not count.
const kQuerySlots = 3;
let queriesInFlight = 0;
const queryWaiters: Array<() => void> = [];

function isQueryPath(path: string): boolean {
  if (path.startsWith('/api/v1/search/tail')) return false;
  return /^\/api\/v1\/(search|metrics\/|sql|services|traces\/)/.test(path);
}

async function querySlot(signal?: AbortSignal): Promise<() => void> {
  while (queriesInFlight >= kQuerySlots) {
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
    await new Promise<void>((resolve) => queryWaiters.push(resolve));
  }
  queriesInFlight += 1;
  return () => {
    queriesInFlight -= 1;
    queryWaiters.shift()?.();
  };
}

export async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  if (!isQueryPath(path)) return send<T>(method, path, body, signal);
  const release = await querySlot(signal);
  try {
    return await send<T>(method, path, body, signal);
  } finally {
    release();
  }
}

async function send<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  }
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal) init.signal = signal;
  const res = await fetch(path, init);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // a non-JSON answer (a proxy's error page): reported below by status
  }
  if (!res.ok) {
    const err = (json as { error?: { message?: string; name?: string } } | null)?.error;
    const message = err?.message ?? (text.slice(0, 200) || `HTTP ${res.status}`);
    const retry = Number(res.headers.get('Retry-After'));
    if (res.status === 401 && !path.endsWith('/auth/login')) onUnauthorized();
    throw new ApiError(res.status, message, Number.isFinite(retry) && retry > 0 ? retry : undefined, err?.name);
  }
  return json as T;
}

interface LoginAnswer {
  user: User;
  csrfToken?: string;
}

export async function login(email: string, password: string): Promise<User> {
  const a = await call<LoginAnswer>('POST', '/api/v1/auth/login', { email, password });
  setCsrfToken(a.csrfToken ?? null);
  return a.user;
}

export async function logout(): Promise<void> {
  try {
    await call('POST', '/api/v1/auth/logout', {});
  } finally {
    setCsrfToken(null);
  }
}

export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  const a = await call<Partial<LoginAnswer> | null>('POST', '/api/v1/auth/password', {
    currentPassword,
    newPassword,
  });
  // A password change may start a new session with a new token.
  if (a?.csrfToken) setCsrfToken(a.csrfToken);
}

// The logged-in user, or null without a session.
export async function me(): Promise<User | null> {
  try {
    const a = await call<{ user?: User; csrfToken?: string } & Partial<User>>('GET', '/api/v1/auth/me');
    if (a.csrfToken) setCsrfToken(a.csrfToken);
    if (a.user) return a.user;
    if (typeof a.email === 'string') return a as User;
    return null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    // A server without the login (no auth routes): the API is open, there is no one to be.
    if (e instanceof ApiError && e.status === 404) return { email: '', role: 'admin', mustChangePassword: false };
    throw e;
  }
}

function normalizeColumns(raw: unknown): Column[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((c) =>
    typeof c === 'string' ? { name: c, type: '' } : { name: String(c.name), type: String(c.type ?? '') },
  );
}

export async function search(req: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
  const a = await call<Partial<SearchResponse> & { columns?: unknown }>('POST', '/api/v1/search', req, signal);
  return {
    columns: normalizeColumns(a.columns),
    rows: Array.isArray(a.rows) ? a.rows : [],
    elapsed_ms: Number(a.elapsed_ms ?? 0),
    cursor: a.cursor ?? null,
  };
}

export interface TailResponse {
  columns: Column[];
  rows: unknown[][];
  after: string; // pass back as the next poll's `after`
}

// One long poll of the live tail: rows newer than `after` (epoch ns as text, from a previous
// answer; absent: from now), answered as soon as some come or after timeoutMs with none.
export async function tail(
  req: { source: Source; query: string; mode?: QueryMode; after?: string; limit: number; timeout_ms: number },
  signal?: AbortSignal,
): Promise<TailResponse> {
  const a = await call<Partial<TailResponse> & { columns?: unknown }>('POST', '/api/v1/search/tail', req, signal);
  return {
    columns: normalizeColumns(a.columns),
    rows: Array.isArray(a.rows) ? a.rows : [],
    after: String(a.after ?? req.after ?? ''),
  };
}

// Epoch nanoseconds, as decimal text, of a ClickHouse DateTime64(9) text in UTC
// ("2026-12-04 03:20:38.123456789"), without the rounding of a JavaScript number.
export function timeNs(v: unknown): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z?$/.exec(String(v ?? ''));
  if (!m) return null;
  const seconds = Date.parse(`${m[1]}T${m[2]}Z`) / 1000;
  if (Number.isNaN(seconds)) return null;
  return (BigInt(seconds) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'))).toString();
}

const bucketKeys = new Set(['start', 'count', 'end', 'bySeverity', 'byStatus', 'severity']);

export async function histogram(
  req: { source: Source; query: string; mode?: QueryMode; from: number; to: number; buckets?: number },
  signal?: AbortSignal,
): Promise<HistogramResponse> {
  const a = await call<{ buckets?: Record<string, unknown>[]; total?: number }>(
    'POST',
    '/api/v1/search/histogram',
    req,
    signal,
  );
  const buckets = (a.buckets ?? []).map((b) => {
    let by: Record<string, number> = {};
    const nested = b.bySeverity ?? b.byStatus ?? b.severity;
    if (nested && typeof nested === 'object' && !Array.isArray(nested)) {
      for (const [k, v] of Object.entries(nested as Record<string, unknown>)) by[k] = Number(v);
    } else {
      // A flat bucket: every numeric key but the known ones is a severity.
      for (const [k, v] of Object.entries(b)) {
        if (!bucketKeys.has(k) && (typeof v === 'number' || /^\d+$/.test(String(v)))) by[k] = Number(v);
      }
    }
    const count = Number(b.count ?? Object.values(by).reduce((s, n) => s + n, 0));
    if (Object.keys(by).length === 0 && count > 0) by = { '': count };
    return { start: parseTime(b.start), count, bySeverity: by };
  });
  return { buckets, total: Number(a.total ?? buckets.reduce((s, b) => s + b.count, 0)) };
}

// Epoch milliseconds from what the API sends for a time: epoch ms or ns numbers, numeric strings,
// RFC 3339, or ClickHouse's "YYYY-MM-DD hh:mm:ss.fffffffff" (UTC).
export function parseTime(v: unknown): number {
  if (typeof v === 'number') return v > 1e15 ? v / 1e6 : v > 1e12 ? v : v * 1000;
  const s = String(v ?? '');
  if (/^\d+(\.\d+)?$/.test(s)) return parseTime(Number(s));
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m) {
    const frac = m[3] ? m[3].slice(0, 4) : '';
    return Date.parse(`${m[1]}T${m[2]}${frac}${m[4] ?? 'Z'}`);
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? 0 : t;
}

// A POST of the JSON API for the pages added beside search (metrics.ts): the same CSRF header,
// errors and 401 handling as every call above.
export function post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return call<T>('POST', path, body, signal);
}

// Administration (admin only): users and API keys.
export interface UserEntry {
  email: string;
  role: string;
  mustChangePassword: boolean;
  createdAt: number; // epoch ms
}

export interface ApiKeyEntry {
  id: number;
  name: string;
  owner: string; // "" for the CLI's key
  createdAt: number; // epoch ms
}

export async function listUsers(): Promise<UserEntry[]> {
  const a = await call<{ users?: UserEntry[] }>('GET', '/api/v1/users');
  return Array.isArray(a.users) ? a.users : [];
}

// Answers the temporary password, shown this once; it must be changed at first login.
export async function inviteUser(email: string, role: 'member' | 'admin'): Promise<{ user: User; temporaryPassword: string }> {
  return call('POST', '/api/v1/users', { email, role });
}

export async function deleteUser(email: string): Promise<void> {
  await call('POST', '/api/v1/users/delete', { email });
}

export async function revokeSessions(email: string): Promise<number> {
  const a = await call<{ revoked?: number }>('POST', '/api/v1/sessions/revoke', { email });
  return Number(a.revoked ?? 0);
}

export async function listApiKeys(): Promise<ApiKeyEntry[]> {
  const a = await call<{ apiKeys?: ApiKeyEntry[] }>('GET', '/api/v1/apikeys');
  return Array.isArray(a.apiKeys) ? a.apiKeys : [];
}

// Answers the key itself, shown this once (only its digest is kept).
export async function createApiKey(name: string): Promise<{ id: number; name: string; key: string }> {
  return call('POST', '/api/v1/apikeys', { name });
}

export async function revokeApiKey(id: number): Promise<void> {
  await call('POST', '/api/v1/apikeys/revoke', { id });
}
