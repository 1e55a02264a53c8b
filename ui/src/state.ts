// The whole search state, held in the URL's query string so that a link reproduces the search:
// ?q=<query>&mode=sql&from=<expr>&to=<expr>&tz=utc&cols=a,b&live=1

import type { QueryMode, Source } from './api';
import type { TimeZone } from './time';

export interface SearchState {
  q: string;
  mode: QueryMode;
  from: string; // a time expression (time.ts), e.g. "15m ago" or "1733281200000"
  to: string;
  tz: TimeZone;
  cols: string[];
  live: boolean;
}

export const defaultColumns = ['Timestamp', 'ServiceName', 'SeverityText', 'Body'];
export const defaultSpanColumns = ['Timestamp', 'ServiceName', 'SpanName', 'Duration', 'StatusCode', 'TraceId'];

export function defaultColumnsOf(source: Source): string[] {
  return source === 'traces' ? defaultSpanColumns : defaultColumns;
}

export function readState(search = location.search, source: Source = 'logs'): SearchState {
  const p = new URLSearchParams(search);
  const cols = p.get('cols');
  return {
    q: p.get('q') ?? '',
    mode: p.get('mode') === 'sql' ? 'sql' : 'search',
    from: p.get('from') ?? '15m ago',
    to: p.get('to') ?? 'now',
    tz: p.get('tz') === 'utc' ? 'utc' : 'local',
    cols: cols ? cols.split(',').filter(Boolean) : defaultColumnsOf(source),
    live: p.get('live') === '1',
  };
}

export function stateQuery(s: SearchState, defaults = defaultColumns): string {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  if (s.mode === 'sql') p.set('mode', 'sql');
  p.set('from', s.from);
  p.set('to', s.to);
  if (s.tz === 'utc') p.set('tz', 'utc');
  if (s.cols.join(',') !== defaults.join(',')) p.set('cols', s.cols.join(','));
  if (s.live) p.set('live', '1');
  return `?${p.toString()}`;
}

const historyKey = 'stackhouse.searchHistory';

export function loadHistory(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(historyKey) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function remember(query: string): string[] {
  const q = query.trim();
  const list = loadHistory().filter((x) => x !== q);
  if (q) list.unshift(q);
  const kept = list.slice(0, 30);
  localStorage.setItem(historyKey, JSON.stringify(kept));
  return kept;
}
