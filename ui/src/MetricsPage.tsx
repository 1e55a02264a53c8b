// The metrics page (/metrics): pick a metric (search as you type; type and unit shown), an
// aggregation (the type's default first), a filter in the search language, up to three
// group-by attributes, the step, the previous period, and how to draw it. Its whole state is in
// the URL: ?metric=&agg=&where=&by=a,b&range=1h&step=auto&cmp=1&display=line&tz=utc
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { MetricChart, valueUnit } from './MetricChart';
import { TopBar } from './Nav';
import type { MetricDisplay } from './MetricChart';
import { metricAttributes, metricNames } from './metrics';
import type { AttributeKey, MetricInfo, MetricQuery, MetricResult } from './metrics';
import type { TimeZone } from './time';

interface PageState {
  metric: string;
  agg: string; // '' = the type's default
  where: string;
  by: string[];
  range: string; // a preset key
  step: string; // 'auto' or milliseconds
  cmp: boolean;
  display: MetricDisplay;
  tz: TimeZone;
}

const ranges: [string, string, number][] = [
  ['15m', 'last 15 minutes', 15 * 60e3],
  ['1h', 'last hour', 3600e3],
  ['6h', 'last 6 hours', 6 * 3600e3],
  ['24h', 'last 24 hours', 86400e3],
  ['7d', 'last 7 days', 7 * 86400e3],
];
const steps: [string, string][] = [
  ['auto', 'auto'],
  ['10000', '10 s'],
  ['30000', '30 s'],
  ['60000', '1 min'],
  ['300000', '5 min'],
  ['900000', '15 min'],
  ['3600000', '1 h'],
];
const displays: [MetricDisplay, string][] = [
  ['line', 'Line'],
  ['bar', 'Stacked bars'],
  ['number', 'Number'],
  ['table', 'Table'],
];
const typeNames: Record<string, string> = {
  gauge: 'gauge',
  sum: 'sum',
  histogram: 'histogram',
  exponential_histogram: 'exp. histogram',
  summary: 'summary',
};
const aggregationNames: Record<string, string> = {
  rate: 'rate (per second)',
  increase: 'increase (per step)',
  sum: 'sum',
  last: 'last value',
  avg: 'average',
  min: 'minimum',
  max: 'maximum',
  p50: 'p50',
  p90: 'p90',
  p95: 'p95',
  p99: 'p99',
};

function readPage(search = location.search): PageState {
  const p = new URLSearchParams(search);
  const display = p.get('display') as MetricDisplay | null;
  return {
    metric: p.get('metric') ?? '',
    agg: p.get('agg') ?? '',
    where: p.get('where') ?? '',
    by: (p.get('by') ?? '').split(',').filter(Boolean).slice(0, 3),
    range: ranges.some(([k]) => k === p.get('range')) ? p.get('range')! : '1h',
    step: steps.some(([k]) => k === p.get('step')) ? p.get('step')! : 'auto',
    cmp: p.get('cmp') === '1',
    display: displays.some(([k]) => k === display) ? display! : 'line',
    tz: p.get('tz') === 'utc' ? 'utc' : 'local',
  };
}

function pageQuery(s: PageState): string {
  const p = new URLSearchParams();
  if (s.metric) p.set('metric', s.metric);
  if (s.agg) p.set('agg', s.agg);
  if (s.where) p.set('where', s.where);
  if (s.by.length) p.set('by', s.by.join(','));
  p.set('range', s.range);
  if (s.step !== 'auto') p.set('step', s.step);
  if (s.cmp) p.set('cmp', '1');
  if (s.display !== 'line') p.set('display', s.display);
  if (s.tz === 'utc') p.set('tz', 'utc');
  return `?${p.toString()}`;
}

function rangeOf(key: string, now = Date.now()): { from: number; to: number } {
  const ms = ranges.find(([k]) => k === key)?.[2] ?? 3600e3;
  return { from: now - ms, to: now };
}

function describe(m: MetricInfo): string {
  const kind =
    m.type === 'sum'
      ? `${m.monotonic ? 'counter' : 'up-down sum'}, ${m.temporality ?? 'cumulative'}`
      : m.temporality && m.type !== 'gauge'
        ? `${typeNames[m.type]}, ${m.temporality}`
        : typeNames[m.type] ?? m.type;
  return m.unit ? `${kind} · ${m.unit}` : kind;
}

// The metric picker: type to narrow the list; Enter or a click chooses.
function MetricPicker({ metrics, value, onPick }: { metrics: MetricInfo[]; value: string; onPick: (m: MetricInfo) => void }) {
  const [text, setText] = useState(value);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  useEffect(() => setText(value), [value]);
  const matches = useMemo(() => {
    const t = text.trim().toLowerCase();
    const list = t && t !== value.toLowerCase() ? metrics.filter((m) => m.name.toLowerCase().includes(t)) : metrics;
    return list.slice(0, 200);
  }, [metrics, text, value]);
  const choose = (m: MetricInfo) => {
    setText(m.name);
    setOpen(false);
    onPick(m);
  };
  return (
    <div class="metric-picker menu-anchor" onFocusOut={(e) => {
      if (!(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node | null)) setOpen(false);
    }}>
      <input
        class="query"
        type="search"
        placeholder="Search metrics…"
        aria-label="Metric"
        data-testid="metric-picker"
        value={text}
        onFocus={() => setOpen(true)}
        onInput={(e) => {
          setText((e.target as HTMLInputElement).value);
          setOpen(true);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, matches.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter' && matches[active]) {
            e.preventDefault();
            choose(matches[active]!);
          } else if (e.key === 'Escape') setOpen(false);
        }}
      />
      {open && (
        <ul class="popover metric-list" role="listbox">
          {matches.length === 0 && <li class="muted">No metric matches “{text}” in this range.</li>}
          {matches.map((m, i) => (
            <li
              key={`${m.name}/${m.type}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? 'active' : ''}
              tabIndex={-1}
              data-testid="metric-option"
              onMouseDown={(e) => {
                e.preventDefault();
                choose(m);
              }}
            >
              <span class="name">{m.name}</span>
              <span class="kind">{describe(m)}</span>
              {m.description && <span class="desc">{m.description}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function MetricsPage({ email, onLogout }: { email: string; onLogout: () => void }) {
  const [state, setStateRaw] = useState<PageState>(() => readPage());
  const [metrics, setMetrics] = useState<MetricInfo[]>([]);
  const [catalogueError, setCatalogueError] = useState<string | null>(null);
  const [attributes, setAttributes] = useState<AttributeKey[]>([]);
  const [whereDraft, setWhereDraft] = useState(state.where);
  const [range, setRange] = useState(() => rangeOf(state.range));
  const [result, setResult] = useState<MetricResult | null>(null);
  const refreshed = useRef(0);

  const setState = (next: PageState) => {
    setStateRaw(next);
    window.history.pushState(null, '', `${location.pathname}${pageQuery(next)}`);
  };
  useEffect(() => {
    const onPop = () => {
      const s = readPage();
      setStateRaw(s);
      setWhereDraft(s.where);
      setRange(rangeOf(s.range));
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => setRange(rangeOf(state.range)), [state.range]);

  useEffect(() => {
    const ctl = new AbortController();
    metricNames(range.from, range.to, '', ctl.signal)
      .then((m) => {
        setMetrics(m);
        setCatalogueError(null);
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setCatalogueError(e instanceof Error ? e.message : String(e));
      });
    return () => ctl.abort();
  }, [range]);

  const info = metrics.find((m) => m.name === state.metric) ?? null;

  useEffect(() => {
    if (!state.metric) return undefined;
    const ctl = new AbortController();
    metricAttributes(state.metric, info?.type, range.from, range.to, ctl.signal)
      .then(setAttributes)
      .catch(() => setAttributes([]));
    return () => ctl.abort();
  }, [state.metric, info?.type, range]);

  const query = useMemo<MetricQuery | null>(() => {
    if (!state.metric) return null;
    return {
      metric: state.metric,
      type: info?.type,
      temporality: info?.temporality,
      monotonic: info?.monotonic,
      aggregation: state.agg || undefined,
      where: state.where || undefined,
      groupBy: state.by.length ? state.by : undefined,
      from: range.from,
      to: range.to,
      step: state.step === 'auto' ? 'auto' : Number(state.step),
      comparePrevious: state.cmp,
    };
    // info?.type etc. are derived from the catalogue: the chart waits for nothing else.
  }, [state.metric, state.agg, state.where, state.by.join(','), state.step, state.cmp, range, info?.type, info?.temporality, info?.monotonic]);

  const keys = useMemo(() => {
    const seen = new Set<string>();
    return attributes.filter((a) => (seen.has(a.key) ? false : (seen.add(a.key), true)));
  }, [attributes]);

  // Until the catalogue answers (a shared link opens on the chart), the select shows the
  // aggregation the chart was drawn with rather than nothing.
  const aggregations = info?.aggregations ?? (result && result.metric === state.metric ? [state.agg || result.aggregation] : []);
  const unit = result ? valueUnit(result) : null;

  return (
    <div class="page metrics-page">
      <TopBar email={email} onLogout={onLogout} />

      <div class="metric-controls">
        <MetricPicker
          metrics={metrics}
          value={state.metric}
          onPick={(m) => setState({ ...state, metric: m.name, agg: '', by: [], where: state.metric === m.name ? state.where : '' })}
        />
        <label class="field">
          <span>Range</span>
          <select data-testid="metric-range" value={state.range} onChange={(e) => setState({ ...state, range: (e.target as HTMLSelectElement).value })}>
            {ranges.map(([k, label]) => (
              <option value={k} key={k}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="btn" onClick={() => { refreshed.current += 1; setRange(rangeOf(state.range)); }}>
          Refresh
        </button>
      </div>

      <div class="metric-controls">
        <label class="field">
          <span>Aggregation</span>
          <select data-testid="metric-aggregation" value={state.agg || aggregations[0] || ''} disabled={!info} onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            setState({ ...state, agg: v === aggregations[0] ? '' : v });
          }}>
            {aggregations.map((a, i) => (
              <option value={a} key={a}>
                {aggregationNames[a] ?? a}
                {info && i === 0 ? ' (default)' : ''}
              </option>
            ))}
          </select>
        </label>
        <form
          class="field grow"
          onSubmit={(e) => {
            e.preventDefault();
            setState({ ...state, where: whereDraft.trim() });
          }}
        >
          <span>Filter</span>
          <span class="filter-row">
            <input
              class="query"
              type="search"
              data-testid="metric-filter"
              placeholder='route:/api/orders -status:500 host.name:web-*'
              value={whereDraft}
              onInput={(e) => setWhereDraft((e.target as HTMLInputElement).value)}
            />
            <button type="submit" class="btn">
              Apply
            </button>
          </span>
        </form>
        {[0, 1, 2].map((i) => (
          <label class="field" key={i}>
            <span>{i === 0 ? 'Group by' : 'then by'}</span>
            <select
              data-testid={`metric-groupby-${i}`}
              value={state.by[i] ?? ''}
              disabled={i > state.by.length}
              onChange={(e) => {
                const v = (e.target as HTMLSelectElement).value;
                const by = [...state.by];
                if (v) by[i] = v;
                else by.splice(i);
                setState({ ...state, by: by.filter(Boolean).slice(0, 3) });
              }}
            >
              <option value="">{i === 0 ? 'nothing' : '—'}</option>
              {keys
                .filter((k) => k.key === state.by[i] || !state.by.includes(k.key))
                .map((k) => (
                  <option value={k.key} key={k.key}>
                    {k.key}
                    {k.source === 'resource' ? ' (resource)' : ''}
                  </option>
                ))}
            </select>
          </label>
        ))}
        <label class="field">
          <span>Step</span>
          <select data-testid="metric-step" value={state.step} onChange={(e) => setState({ ...state, step: (e.target as HTMLSelectElement).value })}>
            {steps.map(([k, label]) => (
              <option value={k} key={k}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Show as</span>
          <select data-testid="metric-display" value={state.display} onChange={(e) => setState({ ...state, display: (e.target as HTMLSelectElement).value as MetricDisplay })}>
            {displays.map(([k, label]) => (
              <option value={k} key={k}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" data-testid="metric-compare" checked={state.cmp} onChange={(e) => setState({ ...state, cmp: (e.target as HTMLInputElement).checked })} />
          compare with the previous period
        </label>
      </div>

      <main class="metric-main">
        {catalogueError && (
          <p class="error" role="alert">
            The metric list failed: {catalogueError}
          </p>
        )}
        {!state.metric && !catalogueError && (
          <p class="empty">{metrics.length ? `Pick one of ${metrics.length} metrics with points in this range.` : 'No metric has points in this range.'}</p>
        )}
        {query && (
          <>
            <div class="metric-head">
              <h1 data-testid="metric-title">{state.metric}</h1>
              {info && <span class="muted">{describe(info)}</span>}
              {result && unit && (
                <span class="muted small" data-testid="metric-summary">
                  {aggregationNames[result.aggregation] ?? result.aggregation} · {result.series.length} series · step {result.step / 1000} s
                  {unit.perSecond ? ' · per second' : ''} · {Math.round(result.elapsed_ms)} ms
                </span>
              )}
            </div>
            {info?.description && <p class="muted small metric-desc">{info.description}</p>}
            <MetricChart query={query} display={state.display} height={320} tz={state.tz} onResult={(r) => setResult(r)} />
          </>
        )}
      </main>
    </div>
  );
}
