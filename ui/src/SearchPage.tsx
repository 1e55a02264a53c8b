// The log search page, and with source "traces" the span search page: query, time range,
// histogram, results with infinite scroll, a row's detail, live tail and CSV export. Its whole
// state is in the URL (state.ts).
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { histogram, search, tail, timeNs } from './api';
import type { Column, HistogramResponse, QueryMode, Source } from './api';
import { Histogram, statusGroups } from './Histogram';
import { TopBar } from './Nav';
import { SpanCell, TraceLinks, rowClass, sourceText } from './spanRows';
import { cell, clause, csv, mapColumns, rowKey, rowTime, severityClass, text, toRows } from './rows';
import type { Row } from './rows';
import { SavedSearches } from './SavedSearches';
import { defaultColumns, defaultColumnsOf, loadHistory, readState, remember, stateQuery } from './state';
import type { SearchState } from './state';
import { formatDuration, formatStoredTime, formatTime, isRelative, resolveTime } from './time';
import type { TimeZone } from './time';

const pageSize = 100;
const tailRetryMs = 2000;
const histEveryMs = 5000;
const tailKeep = 1000;

interface Range {
  from: number;
  to: number;
}

function resolveRange(s: SearchState, now = Date.now()): Range | string {
  const from = resolveTime(s.from, s.tz, now);
  const to = resolveTime(s.to, s.tz, now);
  if (from === null) return `"${s.from}" is not a time: try 15m ago, 2026-12-04 03:00 or now`;
  if (to === null) return `"${s.to}" is not a time: try now or 2026-12-04 04:00`;
  if (from >= to) return 'the range starts after it ends';
  return { from, to };
}

export function SearchPage({ email, onLogout, source = 'logs' }: { email: string; onLogout: () => void; source?: Source }) {
  const [state, setStateRaw] = useState<SearchState>(() => readState(location.search, source));
  const [draft, setDraft] = useState(state.q);
  const [rows, setRows] = useState<Row[]>([]);
  const [columns, setColumns] = useState<Column[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [elapsed, setElapsed] = useState<number | null>(null);
  const [hist, setHist] = useState<HistogramResponse | null>(null);
  const [histFailed, setHistFailed] = useState(false);
  const [range, setRange] = useState<Range>({ from: Date.now() - 15 * 60e3, to: Date.now() });
  const [selected, setSelected] = useState<Row | null>(null);
  const [showHint, setShowHint] = useState(false);
  const [showCols, setShowCols] = useState(false);
  const [history, setHistory] = useState<string[]>(() => loadHistory());
  const [generation, setGeneration] = useState(0); // bumps to rerun the search
  const [histTick, setHistTick] = useState(0); // bumps to redraw the histogram (live tail)
  const lastHistAt = useRef(0);
  const input = useRef<HTMLInputElement>(null);
  const colsAnchor = useRef<HTMLDivElement>(null);
  useDismiss(colsAnchor, showCols, () => setShowCols(false));
  const abort = useRef<AbortController | null>(null);

  // Every state change is a URL change: push for a new search, so Back returns to the last one.
  const setState = useCallback((next: SearchState, push = true) => {
    setStateRaw(next);
    const url = `${location.pathname}${stateQuery(next, defaultColumnsOf(source))}`;
    if (push) pushUrl(url);
    else window.history.replaceState(null, '', url);
  }, []);

  useEffect(() => {
    const onPop = () => {
      const s = readState(location.search, source);
      setStateRaw(s);
      setDraft(s.q);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  // "/" focuses the search bar, Escape closes the detail panel.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
      if (e.key === '/' && !typing) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      } else if (e.key === 'Escape') {
        setSelected(null);
        setShowHint(false);
        setShowCols(false);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // The search itself: first page and histogram, whenever the query or range changes.
  useEffect(() => {
    const r = resolveRange(state);
    if (typeof r === 'string') {
      setError(r);
      return;
    }
    setRange(r);
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setLoading(true);
    setError(null);
    setSelected(null);
    setHist(null);
    search({ source, query: state.q, mode: state.mode, from: r.from, to: r.to, limit: pageSize }, ctl.signal)
      .then((a) => {
        setColumns(a.columns);
        setRows(toRows(a.columns, a.rows));
        setCursor(a.cursor);
        setElapsed(a.elapsed_ms);
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        setRows([]);
        setCursor(null);
        setElapsed(null);
        setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [state.q, state.mode, state.from, state.to, state.tz, generation]);

  // The histogram: with the search, and again (on a relative range, moved to now) while the live
  // tail brings rows, at most every 5 s.
  useEffect(() => {
    const r = resolveRange(state);
    if (typeof r === 'string') return undefined;
    if (histTick > 0) setRange(r);
    const ctl = new AbortController();
    histogram({ source, query: state.q, mode: state.mode, from: r.from, to: r.to }, ctl.signal)
      .then((h) => {
        setHist(h);
        setHistFailed(false);
      })
      .catch(() => {
        if (ctl.signal.aborted) return;
        setHist(null);
        setHistFailed(true);
      });
    return () => ctl.abort();
  }, [state.q, state.mode, state.from, state.to, state.tz, generation, histTick]);

  const loadMore = useCallback(() => {
    if (!cursor || loading) return;
    const ctl = abort.current;
    setLoading(true);
    search({ source, query: state.q, mode: state.mode, from: range.from, to: range.to, limit: pageSize, cursor }, ctl?.signal)
      .then((a) => {
        const more = toRows(a.columns.length ? a.columns : columns, a.rows);
        setRows((old) => {
          const seen = new Set(old.map(rowKey));
          return [...old, ...more.filter((r) => !seen.has(rowKey(r)))];
        });
        setCursor(a.cursor);
      })
      .catch((e: unknown) => {
        if (!ctl?.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => setLoading(false));
  }, [cursor, loading, state.q, state.mode, range, columns]);

  // Infinite scroll: the next page loads when the end of the table comes into view.
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el) return undefined;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [loadMore]);

  // Live tail: long polls of /api/v1/search/tail from the newest row shown; what comes goes on top.
  const newestRef = useRef<Row | undefined>(undefined);
  newestRef.current = rows[0];
  useEffect(() => {
    if (!state.live) return undefined;
    let stopped = false;
    const ctl = new AbortController();
    const run = async () => {
      let after = newestRef.current ? (timeNs(newestRef.current.Timestamp) ?? undefined) : undefined;
      while (!stopped) {
        try {
          const req: Parameters<typeof tail>[0] = { source, query: state.q, mode: state.mode, limit: 500, timeout_ms: 20000 };
          if (after) req.after = after;
          const a = await tail(req, ctl.signal);
          if (stopped) return;
          after = a.after || after;
          if (a.rows.length) {
            const fresh = toRows(a.columns, a.rows);
            if (a.columns.length) setColumns((old) => (old.length ? old : a.columns));
            setRows((old) => {
              const seen = new Set(old.map(rowKey));
              const add = fresh.filter((r) => !seen.has(rowKey(r)));
              return add.length ? [...add, ...old].slice(0, tailKeep) : old;
            });
            if (Date.now() - lastHistAt.current > histEveryMs) {
              lastHistAt.current = Date.now();
              setHistTick((n) => n + 1);
            }
          }
          setError(null);
        } catch (e) {
          if (stopped) return;
          setError(`live tail: ${e instanceof Error ? e.message : String(e)}; retrying`);
          await new Promise((r) => setTimeout(r, tailRetryMs));
        }
      }
    };
    void run();
    return () => {
      stopped = true;
      ctl.abort();
    };
  }, [state.live, state.q, state.mode, generation]);

  const submit = (q: string, mode: QueryMode = state.mode) => {
    setHistory(remember(q));
    setDraft(q);
    if (q === state.q && mode === state.mode) setGeneration((g) => g + 1);
    else setState({ ...state, q, mode });
  };

  const addClause = (key: string, value: unknown, negate: boolean) => {
    const c = clause(key, value, negate);
    // A clicked filter is written in the search language: a SQL-mode query is left for a new one.
    const current = state.mode === 'sql' ? '' : state.q.trim();
    // AND binds tighter than OR: "a OR b" plus a clause must become "(a OR b) clause".
    const base = /\bOR\b/.test(current) ? `(${current})` : current;
    const q = base ? `${base} ${c}` : c;
    submit(q, 'search');
  };

  const zoom = (from: number, to: number) => {
    setState({ ...state, from: String(from), to: String(to), live: false });
  };

  const allColumns = useMemo(() => {
    const names = columns.map((c) => c.name);
    const keys = new Set<string>();
    for (const r of rows.slice(0, 200)) {
      for (const m of mapColumns) {
        const v = r[m];
        if (v && typeof v === 'object') for (const k of Object.keys(v)) keys.add(`${m}.${k}`);
      }
    }
    return [...names, ...[...keys].sort()];
  }, [columns, rows]);

  const shown = state.cols;
  const exportCsv = () => {
    const blob = new Blob([csv(shown, rows)], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `stackhouse-${source === 'traces' ? 'spans' : 'logs'}-${formatTime(Date.now(), 'utc', false).replace(/[ :]/g, '-')}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  return (
    <div class={`page search-page${selected ? ' with-detail' : ''}`}>
      <TopBar email={email} onLogout={onLogout} />

      <div class="searchbar">
        <form
          class="query-box"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            submit(draft);
          }}
        >
          <input
            ref={input}
            class="query"
            type="search"
            name="q"
            list="search-history"
            autocomplete="off"
            spellcheck={false}
            placeholder={
              source === 'traces'
                ? state.mode === 'sql'
                  ? "ClickHouse WHERE expression: StatusCode = 'Error' AND Duration > 500e6"
                  : 'Search spans: checkout service:api status:error duration:>500   ( / to focus )'
                : state.mode === 'sql'
                  ? "ClickHouse WHERE expression: SeverityText = 'ERROR' AND Body ILIKE '%timeout%'"
                  : 'Search logs: error service:api level:warn "connection reset"   ( / to focus )'
            }
            aria-label="Search query"
            data-testid="query"
            value={draft}
            onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
          />
          <datalist id="search-history">
            {history.map((h) => (
              <option key={h} value={h} />
            ))}
          </datalist>
          <select
            class="mode"
            aria-label="Query language"
            title="The search language (Lucene-like, as HyperDX), or a ClickHouse WHERE expression"
            data-testid="mode"
            value={state.mode}
            onChange={(e) => submit(draft, (e.target as HTMLSelectElement).value as QueryMode)}
          >
            <option value="search">Lucene</option>
            <option value="sql">SQL</option>
          </select>
          <button type="button" class="btn icon" title="Search syntax" aria-label="Search syntax" aria-expanded={showHint} onClick={() => setShowHint(!showHint)}>
            ?
          </button>
          <button type="submit" class="btn primary" data-testid="search">
            Search
          </button>
        </form>
        <TimePicker state={state} range={range} onChange={(s) => setState(s)} />
        {showHint && <SyntaxHint onClose={() => setShowHint(false)} />}
      </div>

      <Histogram
        data={hist}
        failed={histFailed}
        from={range.from}
        to={range.to}
        tz={state.tz}
        onZoom={zoom}
        {...(source === 'traces' ? { groups: statusGroups } : {})}
      />

      <div class="toolbar">
        <span class="status" data-testid="status">
          {loading ? 'Searching…' : `${rows.length.toLocaleString('en-US')} shown${cursor ? ', more below' : ''}`}
          {elapsed !== null && !loading ? ` · ${Math.round(elapsed)} ms` : ''}
        </span>
        {error && (
          <span class="error" role="alert" data-testid="error">
            {error}
          </span>
        )}
        <span class="spacer" />
        <SavedSearches state={state} onOpen={(s) => (setDraft(s.q), setState(s))} />
        <label class={`btn toggle${state.live ? ' on' : ''}`} data-testid="live">
          <input
            type="checkbox"
            checked={state.live}
            onChange={(e) => setState({ ...state, live: (e.target as HTMLInputElement).checked, to: 'now', from: isRelative(state.from) ? state.from : '15m ago' })}
          />
          <span class="dot" /> Live tail
        </label>
        <div class="menu-anchor" ref={colsAnchor}>
          <button type="button" class="btn" onClick={() => setShowCols(!showCols)} aria-expanded={showCols} data-testid="columns">
            Columns
          </button>
          {showCols && (
            <ColumnPicker
              all={allColumns}
              shown={shown}
              onChange={(cols) => setState({ ...state, cols }, false)}
              defaults={defaultColumnsOf(source)}
              onClose={() => setShowCols(false)}
            />
          )}
        </div>
        <button type="button" class="btn" onClick={exportCsv} disabled={rows.length === 0} data-testid="csv">
          Export CSV
        </button>
      </div>

      <main class="results-area">
        <div class="results" data-testid="results">
          <table>
            <thead>
              <tr>
                {shown.map((c) => (
                  <th key={c} class={`col-${colClass(c)}`} title={c}>
                    {label(c)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const sev = rowClass(r, severityClass(r.SeverityText ?? r.SeverityNumber));
                const key = rowKey(r);
                return (
                  <tr
                    key={key}
                    class={`sev-${sev}${selected && rowKey(selected) === key ? ' selected' : ''}`}
                    onClick={() => setSelected(r)}
                    tabIndex={0}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter') setSelected(r);
                    }}
                    data-testid="row"
                  >
                    {shown.map((c) => (
                      <td key={c} class={`col-${colClass(c)}`}>
                        {source === 'traces' ? <SpanCell name={c} row={r} fallback={<Cell name={c} row={r} tz={state.tz} />} /> : <Cell name={c} row={r} tz={state.tz} />}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
          {!loading && rows.length === 0 && !error && (
            <p class="empty">
              No {sourceText(source)} match in {describeRange(state, range)}. Widen the time range or loosen the query.
            </p>
          )}
          <div ref={sentinel} class="sentinel">
            {cursor ? (loading ? 'Loading more…' : '') : rows.length > 0 ? 'End of results' : ''}
          </div>
        </div>
        {selected && (
          <Detail row={selected} columns={columns} tz={state.tz} onClose={() => setSelected(null)} onFilter={addClause} source={source} />
        )}
      </main>
    </div>
  );
}

// Closes a popover on Escape or on a press outside `ref`.
function useDismiss(ref: { current: HTMLElement | null }, open: boolean, close: () => void) {
  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e: Event) => {
      if (ref.current && !ref.current.contains(e.target as Node)) close();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close();
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
}

function pushUrl(url: string) {
  if (url !== `${location.pathname}${location.search}`) window.history.pushState(null, '', url);
}

function colClass(c: string) {
  if (c === 'SpanName') return 'body';
  if (c === 'StatusCode') return 'sev';
  if (c === 'Duration') return 'duration';
  return c === 'Timestamp' ? 'time' : c === 'SeverityText' ? 'sev' : c === 'ServiceName' ? 'service' : c === 'Body' ? 'body' : 'other';
}

// A column's heading: short names for the usual ones, an attribute's own key for map entries.
function label(c: string) {
  if (c === 'Timestamp') return 'Time';
  if (c === 'SpanName') return 'Span';
  if (c === 'StatusCode') return 'Status';
  if (c === 'SeverityText') return 'Severity';
  if (c === 'ServiceName') return 'Service';
  const map = mapColumns.find((m) => c.startsWith(`${m}.`));
  return map ? c.slice(map.length + 1) : c;
}

function describeRange(s: SearchState, r: Range) {
  if (isRelative(s.from) && isRelative(s.to) && s.to.trim() === 'now') return `the last ${formatDuration(r.to - r.from)}`;
  return `${formatTime(r.from, s.tz, false)} – ${formatTime(r.to, s.tz, false)}`;
}

function Cell({ name, row, tz }: { name: string; row: Row; tz: TimeZone }) {
  if (name === 'Timestamp') {
    const t = formatTime(rowTime(row), tz);
    return (
      <time>
        <span class="date">{t.slice(0, 11)}</span>
        {t.slice(11, 19)}
        <span class="ms">{t.slice(19)}</span>
      </time>
    );
  }
  const v = cell(row, name);
  if (name === 'SeverityText') {
    const sev = severityClass(v ?? row.SeverityNumber);
    return <span class={`badge sev-bg-${sev}`}>{text(v) || sev}</span>;
  }
  return <>{text(v)}</>;
}

function TimePicker({ state, range, onChange }: { state: SearchState; range: Range; onChange: (s: SearchState) => void }) {
  const [open, setOpen] = useState(false);
  const anchor = useRef<HTMLDivElement>(null);
  useDismiss(anchor, open, () => setOpen(false));
  const [from, setFrom] = useState(state.from);
  const [to, setTo] = useState(state.to);
  useEffect(() => {
    setFrom(state.from);
    setTo(state.to);
  }, [state.from, state.to]);
  const presets = ['15m', '1h', '24h', '7d'];
  const rel = isRelative(state.from) && state.to.trim() === 'now';
  const summary = rel ? `Last ${formatDuration(range.to - range.from)}` : `${formatTime(range.from, state.tz, false)} → ${formatTime(range.to, state.tz, false)}`;
  const apply = (f: string, t: string) => {
    onChange({ ...state, from: f, to: t });
    setOpen(false);
  };
  const absolute = (v: string) => (/^\d{12,}$/.test(v.trim()) ? formatTime(Number(v), state.tz, false) : v);
  return (
    <div class="menu-anchor timepicker" ref={anchor}>
      <button type="button" class="btn time-summary" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="time">
        {summary} <span class="tz">{state.tz === 'utc' ? 'UTC' : 'local'}</span>
      </button>
      {open && (
        <div class="popover time-popover" role="dialog" aria-label="Time range">
          <div class="presets">
            {presets.map((p) => (
              <button type="button" class="btn" key={p} onClick={() => apply(`${p} ago`, 'now')}>
                Last {p}
              </button>
            ))}
          </div>
          <form
            class="range-form"
            onSubmit={(e) => {
              e.preventDefault();
              apply(from, to);
            }}
          >
            <label>
              From
              <input value={absolute(from)} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} placeholder="1h ago" data-testid="time-from" />
            </label>
            <label>
              To
              <input value={absolute(to)} onInput={(e) => setTo((e.target as HTMLInputElement).value)} placeholder="now" data-testid="time-to" />
            </label>
            <p class="help">
              <code>15m ago</code>, <code>last 2h</code>, <code>now</code> or <code>2026-12-04 03:00</code>
            </p>
            <div class="tz-choice" role="radiogroup" aria-label="Time zone">
              {(['local', 'utc'] as TimeZone[]).map((z) => (
                <label key={z}>
                  <input type="radio" name="tz" checked={state.tz === z} onChange={() => onChange({ ...state, tz: z })} />
                  {z === 'utc' ? 'UTC' : `Local (${Intl.DateTimeFormat().resolvedOptions().timeZone})`}
                </label>
              ))}
            </div>
            <button type="submit" class="btn primary">
              Apply
            </button>
          </form>
        </div>
      )}
    </div>
  );
}

function SyntaxHint({ onClose }: { onClose: () => void }) {
  const rows: [string, string][] = [
    ['timeout', 'the word in the body (whole word, any case)'],
    ['"connection reset"', 'the phrase'],
    ['*partial*   conn*', 'substring, prefix'],
    ['service:api   level:error', 'a column or alias'],
    ['http.status_code:500', 'an attribute (log, then resource)'],
    ['key:"Exact"   key:*', 'exact match, present'],
    ['duration:>100   n:[1 TO 5]', 'numbers'],
    ['a OR b   -x   NOT (a b)', 'OR, negation, groups; a b is AND'],
  ];
  return (
    <div class="popover hint-popover" role="dialog" aria-label="Search syntax">
      <table>
        <tbody>
          {rows.map(([q, what]) => (
            <tr key={q}>
              <td>
                <code>{q}</code>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" class="btn" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

function ColumnPicker({
  all,
  shown,
  onChange,
  onClose,
  defaults = defaultColumns,
}: {
  all: string[];
  shown: string[];
  onChange: (c: string[]) => void;
  onClose: () => void;
  defaults?: string[];
}) {
  const names = [...new Set([...shown, ...all])];
  return (
    <div class="popover cols-popover" role="dialog" aria-label="Columns">
      <div class="cols-list">
        {names.map((n) => (
          <label key={n}>
            <input
              type="checkbox"
              checked={shown.includes(n)}
              onChange={(e) => onChange((e.target as HTMLInputElement).checked ? [...shown, n] : shown.filter((x) => x !== n))}
            />
            {n}
          </label>
        ))}
      </div>
      <div class="cols-actions">
        <button type="button" class="btn" onClick={() => onChange(defaults)}>
          Reset
        </button>
        <button type="button" class="btn" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}

function Detail({
  row,
  columns,
  tz,
  onClose,
  onFilter,
  source = 'logs',
}: {
  row: Row;
  columns: Column[];
  tz: TimeZone;
  onClose: () => void;
  onFilter: (key: string, value: unknown, negate: boolean) => void;
  source?: Source;
}) {
  const names = columns.length ? columns.map((c) => c.name) : Object.keys(row);
  // Time columns are shown in the chosen zone, not as stored (UTC).
  const timeColumns = new Set(columns.filter((c) => c.type.startsWith('DateTime')).map((c) => c.name));
  const isTime = (n: string) => n === 'Timestamp' || timeColumns.has(n);
  const plain = names.filter((n) => !mapColumns.includes(n));
  const maps = names.filter((n) => mapColumns.includes(n));
  const Value = ({ k, v }: { k: string; v: unknown }) => (
    <span class="attr-value">
      <button type="button" class="link" title={`Add ${clause(k, v, false)} to the query`} onClick={() => onFilter(k, v, false)} data-testid={`filter-${k}`}>
        {text(v)}
      </button>
      <button type="button" class="btn tiny" title={`Add ${clause(k, v, true)} to the query`} onClick={() => onFilter(k, v, true)} data-testid={`exclude-${k}`}>
        not
      </button>
    </span>
  );
  return (
    <aside class="detail" aria-label={source === 'traces' ? 'Span detail' : 'Log detail'} data-testid="detail">
      <div class="detail-head">
        <strong>{formatTime(rowTime(row), tz)}</strong>
        {source === 'traces' ? (
          <span class={`badge sev-bg-${rowClass(row, 'other')}`}>{text(row.StatusCode) || '—'}</span>
        ) : (
          <span class={`badge sev-bg-${severityClass(row.SeverityText ?? row.SeverityNumber)}`}>{text(row.SeverityText) || '—'}</span>
        )}
        <span class="spacer" />
        <button type="button" class="btn subtle" onClick={onClose} aria-label="Close detail">
          ✕
        </button>
      </div>
      <TraceLinks row={row} source={source} />
      <pre class="detail-body">{text(source === 'traces' ? row.SpanName : row.Body)}</pre>
      <dl class="kv">
        {plain
          .filter((n) => n !== 'Body')
          .map((n) => (
            <div key={n}>
              <dt>{n}</dt>
              <dd>
                {isTime(n) ? (
                  <span title={`${text(row[n])} UTC as stored`} data-testid={`time-${n}`}>
                    {formatStoredTime(row[n], tz) || '—'}
                  </span>
                ) : text(row[n]) === '' ? (
                  <span>—</span>
                ) : (
                  <Value k={n} v={row[n]} />
                )}
              </dd>
            </div>
          ))}
      </dl>
      {maps.map((m) => {
        const entries = Object.entries((row[m] as Record<string, unknown> | null) ?? {}).sort(([a], [b]) => a.localeCompare(b));
        return (
          <section key={m}>
            <h3>
              {m} <span class="count">{entries.length}</span>
            </h3>
            {entries.length === 0 ? (
              <p class="muted">none</p>
            ) : (
              <dl class="kv">
                {entries.map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>
                      <Value k={k} v={v} />
                    </dd>
                  </div>
                ))}
              </dl>
            )}
          </section>
        );
      })}
    </aside>
  );
}
