// The services page (/services?range=1h&sort=p99&service=<name>): per service, from its spans over
// the range, the rate, error rate and p50/p95/p99 latency, sortable; each links to its spans and
// errors in span search, and opens its operations (the same figures per span name) and its
// slowest traces.
import { useEffect, useMemo, useState } from 'preact/hooks';

import { TopBar } from './Nav';
import { clause } from './rows';
import { formatNs, operations, services } from './traceApi';
import type { Figures, OperationFigures, ServiceFigures, SlowSpan } from './traceApi';
import './traces.css';

const ranges: Record<string, number> = { '15m': 15 * 60e3, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
type SortKey = 'name' | 'rate' | 'errorRate' | 'p50Ms' | 'p95Ms' | 'p99Ms';

function params() {
  return new URLSearchParams(location.search);
}

function setParam(key: string, value: string | null) {
  const p = params();
  if (value === null) p.delete(key);
  else p.set(key, value);
  window.history.replaceState(null, '', `${location.pathname}?${p.toString()}`);
}

export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond >= 1) return `${perSecond.toFixed(perSecond >= 100 ? 0 : 1)}/s`;
  const perMinute = perSecond * 60;
  return perMinute >= 1 ? `${perMinute.toFixed(1)}/min` : `${(perMinute * 60).toFixed(1)}/h`;
}

export function formatPercent(ratio: number): string {
  if (ratio === 0) return '0%';
  const p = ratio * 100;
  return p < 0.1 ? '<0.1%' : `${p.toFixed(p < 10 ? 1 : 0)}%`;
}

function spanSearchUrl(query: string, from: number, to: number) {
  return `/traces?${new URLSearchParams({ q: query, from: String(from), to: String(to) }).toString()}`;
}

export function ServicesPage({ email, onLogout }: { email: string; onLogout: () => void }) {
  const [range, setRange] = useState(() => (params().get('range') ?? '1h') in ranges ? (params().get('range') ?? '1h') : '1h');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>(() => {
    const k = params().get('sort') as SortKey | null;
    return { key: k && ['name', 'rate', 'errorRate', 'p50Ms', 'p95Ms', 'p99Ms'].includes(k) ? k : 'rate', desc: params().get('asc') !== '1' };
  });
  const [open, setOpen] = useState<string | null>(() => params().get('service'));
  const [list, setList] = useState<ServiceFigures[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [window_, setWindow] = useState<{ from: number; to: number }>(() => {
    const to = Date.now();
    return { from: to - ranges[range]!, to };
  });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const to = Date.now();
    const w = { from: to - ranges[range]!, to };
    setWindow(w);
    const ctl = new AbortController();
    setList(null);
    setError(null);
    services(w, ctl.signal)
      .then((a) => setList(a.services))
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctl.abort();
  }, [range, generation]);

  const sorted = useMemo(() => {
    if (!list) return [];
    const out = [...list];
    const dir = sort.desc ? -1 : 1;
    out.sort((a, b) => (sort.key === 'name' ? a.service.localeCompare(b.service) * dir : (a[sort.key] - b[sort.key]) * dir));
    return out;
  }, [list, sort]);

  const header = (key: SortKey, label: string, cls = 'num') => (
    <th class={cls} aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button
        type="button"
        class="sort"
        onClick={() => {
          const next = { key, desc: sort.key === key ? !sort.desc : key !== 'name' };
          setSort(next);
          setParam('sort', key);
          setParam('asc', next.desc ? null : '1');
        }}
        data-testid={`sort-${key}`}
      >
        {label} {sort.key === key ? (sort.desc ? '▼' : '▲') : ''}
      </button>
    </th>
  );

  return (
    <div class="page services-page">
      <TopBar email={email} onLogout={onLogout} />
      <div class="toolbar">
        <strong>Services</strong>
        <span class="muted">from their spans over the last</span>
        <div class="segmented" role="radiogroup" aria-label="Range">
          {Object.keys(ranges).map((r) => (
            <button
              type="button"
              key={r}
              role="radio"
              aria-checked={r === range}
              class={r === range ? 'on' : ''}
              onClick={() => {
                setRange(r);
                setParam('range', r);
              }}
              data-testid={`range-${r}`}
            >
              {r}
            </button>
          ))}
        </div>
        <button type="button" class="btn" onClick={() => setGeneration((g) => g + 1)}>
          Refresh
        </button>
        {error && (
          <span class="error" role="alert">
            {error}
          </span>
        )}
      </div>
      <main class="services-main">
        {!list && !error && <p class="muted pad">Counting…</p>}
        {list && list.length === 0 && <p class="muted pad">No spans in the last {range}. Widen the range, or check that traces are sent.</p>}
        {list && list.length > 0 && (
          <table class="figures" data-testid="services">
            <thead>
              <tr>
                {header('name', 'Service', 'name')}
                {header('rate', 'Rate')}
                {header('errorRate', 'Errors')}
                {header('p50Ms', 'p50')}
                {header('p95Ms', 'p95')}
                {header('p99Ms', 'p99')}
                <th class="links">Open</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((s) => (
                <ServiceRows
                  key={s.service}
                  s={s}
                  open={open === s.service}
                  window_={window_}
                  onToggle={() => {
                    const next = open === s.service ? null : s.service;
                    setOpen(next);
                    setParam('service', next);
                  }}
                />
              ))}
            </tbody>
          </table>
        )}
      </main>
    </div>
  );
}

function FigureCells({ f }: { f: Figures }) {
  return (
    <>
      <td class="num" data-testid="rate" title={`${f.spans.toLocaleString('en-US')} spans`}>
        {formatRate(f.rate)}
      </td>
      <td class={`num${f.errors ? ' error' : ''}`} data-testid="error-rate" title={`${f.errors.toLocaleString('en-US')} of ${f.spans.toLocaleString('en-US')} spans`}>
        {formatPercent(f.errorRate)}
      </td>
      <td class="num" data-testid="p50">
        {formatNs(f.p50Ms * 1e6)}
      </td>
      <td class="num" data-testid="p95">
        {formatNs(f.p95Ms * 1e6)}
      </td>
      <td class="num" data-testid="p99">
        {formatNs(f.p99Ms * 1e6)}
      </td>
    </>
  );
}

function ServiceRows({ s, open, window_, onToggle }: { s: ServiceFigures; open: boolean; window_: { from: number; to: number }; onToggle: () => void }) {
  const q = clause('service', s.service, false);
  return (
    <>
      <tr class={`service-row${open ? ' open' : ''}`} data-testid="service-row" data-service={s.service}>
        <td class="name">
          <button type="button" class="link" aria-expanded={open} onClick={onToggle} data-testid="service-open">
            {open ? '▾' : '▸'} {s.service}
          </button>
        </td>
        <FigureCells f={s} />
        <td class="links">
          <a href={spanSearchUrl(q, window_.from, window_.to)} data-testid="service-spans">
            spans
          </a>
          {s.errors > 0 && <a href={spanSearchUrl(`${q} status:error`, window_.from, window_.to)}>errors</a>}
        </td>
      </tr>
      {open && (
        <tr class="ops-row">
          <td colSpan={7}>
            <Operations service={s.service} window_={window_} />
          </td>
        </tr>
      )}
    </>
  );
}

function Operations({ service, window_ }: { service: string; window_: { from: number; to: number } }) {
  const [ops, setOps] = useState<OperationFigures[] | null>(null);
  const [slowest, setSlowest] = useState<SlowSpan[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    operations({ service, ...window_ }, ctl.signal)
      .then((a) => {
        setOps(a.operations);
        setSlowest(a.slowest);
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctl.abort();
  }, [service, window_]);
  if (error) return <p class="error">{error}</p>;
  if (!ops) return <p class="muted">Loading operations…</p>;
  const q = clause('service', service, false);
  return (
    <div class="ops" data-testid="operations">
      <table class="figures inner">
        <thead>
          <tr>
            <th class="name">Operation</th>
            <th class="num">Rate</th>
            <th class="num">Errors</th>
            <th class="num">p50</th>
            <th class="num">p95</th>
            <th class="num">p99</th>
          </tr>
        </thead>
        <tbody>
          {ops.map((o) => (
            <tr key={o.name} data-testid="operation-row">
              <td class="name">
                <a href={spanSearchUrl(`${q} ${clause('SpanName', o.name, false)}`, window_.from, window_.to)}>{o.name || '(no name)'}</a>
              </td>
              <FigureCells f={o} />
            </tr>
          ))}
        </tbody>
      </table>
      <div class="slowest">
        <h3>Slowest traces</h3>
        {slowest.length === 0 ? (
          <p class="muted">none</p>
        ) : (
          <ol>
            {slowest.map((t) => (
              <li key={t.traceId}>
                <a href={`/trace/${t.traceId}?span=${t.spanId}`} data-testid="slow-trace">
                  <span class="num">{formatNs(Number(t.durationNano))}</span> {t.name}
                </a>
                {t.statusCode === 'Error' && <span class="badge status-error">Error</span>}
              </li>
            ))}
          </ol>
        )}
      </div>
    </div>
  );
}
