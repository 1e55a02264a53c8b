// MetricChart: one metric query drawn as a line chart, stacked bars, a number or a table. It runs
// the query itself (POST /api/v1/metrics/query) whenever `query` changes and shows its own
// loading, error and empty states, so a page or a dashboard tile only says what to show:
//
//   <MetricChart query={{ metric: 'http.server.duration', aggregation: 'p99', from, to }} display="line" />
//
// Props:
//   query     what to ask for (metrics.ts MetricQuery); memoise it or pass a new object only
//             when something changed: every new object reruns the query
//   display   'line' (default) | 'bar' (stacked) | 'number' (the latest value of each series) |
//             'table' (per series: latest, average, minimum, maximum)
//   height    the plot's height in pixels (default 260)
//   tz        'local' (default) | 'utc', for the time axis and the hover legend
//   onResult  called with each answer (or null and the error), e.g. for a page's summary line
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { queryMetric } from './metrics';
import type { MetricQuery, MetricResult, MetricSeries } from './metrics';
import { sparse, valueRange } from './TimeChart';
import { formatTime } from './time';
import type { TimeZone } from './time';
import { formatAxis, formatValue } from './units';

export type MetricDisplay = 'line' | 'bar' | 'number' | 'table';

export interface MetricChartProps {
  query: MetricQuery;
  display?: MetricDisplay;
  height?: number;
  tz?: TimeZone;
  onResult?: (result: MetricResult | null, error: string | null) => void;
}

// Colours that stay apart for the common colour-vision deficiencies (Okabe-Ito, then Tableau).
export const seriesColors = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#8c564b', '#7f7f7f', '#bcbd22', '#1f3a93'];

// The name of a series in legends and tables: its labels, or the metric's name without groupBy.
export function seriesName(s: MetricSeries, metric: string): string {
  const parts = Object.entries(s.labels).map(([k, v]) => `${k}=${v === '' ? '(none)' : v}`);
  return parts.length ? parts.join(', ') : metric;
}

// The unit values are shown in: a histogram's rate counts observations, not its unit.
export function valueUnit(r: MetricResult): { unit: string; perSecond: boolean } {
  const perSecond = r.aggregation === 'rate';
  if (perSecond && (r.type === 'histogram' || r.type === 'exponential_histogram')) return { unit: '{observation}', perSecond };
  return { unit: r.unit, perSecond };
}

function stats(points: [number, number][]) {
  if (points.length === 0) return { latest: null, avg: null, min: null, max: null };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const [, v] of points) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { latest: points[points.length - 1]![1], avg: sum / points.length, min, max };
}

// The time grid of an answer: every step of [from, to), aligned as the server aligns them.
function grid(r: MetricResult): number[] {
  const base = Math.floor(r.from / r.step) * r.step;
  const out: number[] = [];
  for (let t = base; t < r.to && out.length < 5000; t += r.step) out.push(t);
  return out;
}

function aligned(xs: number[], s: MetricSeries): (number | null)[] {
  const byTime = new Map(s.points.map(([t, v]) => [t, v]));
  return xs.map((t) => byTime.get(t) ?? null);
}

function Plot({ result, display, height, tz }: { result: MetricResult; display: 'line' | 'bar'; height: number; tz: TimeZone }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const { unit, perSecond } = valueUnit(result);
    const xs = grid(result);
    const current = result.series.map((s) => ({ name: seriesName(s, result.metric), values: aligned(xs, s), previous: false }));
    const previous = (result.previous ?? []).map((s) => ({ name: `${seriesName(s, result.metric)} (previous)`, values: aligned(xs, s), previous: true }));
    let lines = [...current, ...previous];
    let drawn = lines.map((l) => l.values);
    if (display === 'bar') {
      // Stacked: each series drawn as the sum of itself and those after it, tallest first.
      lines = current;
      const acc = new Array<number>(xs.length).fill(0);
      const stacked: (number | null)[][] = [];
      for (let i = current.length - 1; i >= 0; i -= 1) {
        const vals = current[i]!.values;
        for (let k = 0; k < xs.length; k += 1) acc[k] = acc[k]! + (vals[k] ?? 0);
        stacked.unshift(acc.map((a, k) => (vals[k] === null && a === 0 ? null : a)));
      }
      drawn = stacked;
    }
    const bars = uPlot.paths.bars!({ size: [0.85, 40], align: 1 });
    // The values as sent (stacked bars draw sums; the legend shows each series' own value).
    const own = lines.map((l) => l.values);
    const fmt = (v: number | null) => formatValue(v, unit, perSecond);
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height,
      padding: [10, 16, 0, 4],
      legend: { show: true, live: true },
      cursor: { points: { size: 7 }, drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: () => [xs[0]! / 1000, result.to / 1000] },
        y: { range: (_u, min, max) => valueRange(min, max, display === 'bar') },
      },
      axes: [
        {
          stroke: '#333',
          grid: { stroke: '#e3e3e3', width: 1 },
          ticks: { stroke: '#bbb', width: 1, size: 4 },
          font: '12px system-ui, sans-serif',
          values: (_u, splits) =>
            splits.map((v) => {
              const t = formatTime(v * 1000, tz, false);
              return result.to - result.from > 86400e3 ? t.slice(5, 16) : t.slice(11, 16);
            }),
        },
        {
          stroke: '#333',
          grid: { stroke: '#e3e3e3', width: 1 },
          ticks: { show: false },
          font: '12px system-ui, sans-serif',
          size: 78,
          values: (_u, splits) => splits.map((v) => formatAxis(v, unit, perSecond)),
        },
      ],
      series: [
        { label: 'time', value: (_u, v) => (v == null ? '–' : formatTime(v * 1000, tz, false)) },
        ...lines.map((l, i) => {
          const color = seriesColors[(l.previous ? i - current.length : i) % seriesColors.length]!;
          return {
            label: l.name,
            stroke: color,
            width: display === 'bar' ? 0 : 2,
            fill: display === 'bar' ? color : undefined,
            dash: l.previous ? [6, 4] : undefined,
            paths: display === 'bar' ? bars : undefined,
            points: { show: display !== 'bar' && sparse(l.values), size: 6, fill: color },
            spanGaps: false,
            value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) => fmt(idx === null ? null : (own[i]?.[idx] ?? null)),
          };
        }),
      ],
    };
    const data = [xs.map((x) => x / 1000), ...drawn] as uPlot.AlignedData;
    const p = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => p.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
    };
  }, [result, display, height, tz]);
  return <div class="metric-plot" ref={box} data-testid="metric-plot" />;
}

function NumberView({ result }: { result: MetricResult }) {
  const { unit, perSecond } = valueUnit(result);
  return (
    <div class="metric-numbers">
      {result.series.map((s, i) => {
        const prev = result.previous?.find((p) => seriesName(p, '') === seriesName(s, ''));
        const latest = stats(s.points).latest;
        const before = prev ? stats(prev.points).latest : null;
        return (
          <div class="metric-number" key={i}>
            <div class="value" data-testid="metric-number" style={{ color: seriesColors[i % seriesColors.length] }}>
              {formatValue(latest, unit, perSecond)}
            </div>
            <div class="label">{seriesName(s, result.metric)}</div>
            {before !== null && latest !== null && (
              <div class="muted small">previous: {formatValue(before, unit, perSecond)}</div>
            )}
          </div>
        );
      })}
    </div>
  );
}

function TableView({ result }: { result: MetricResult }) {
  const { unit, perSecond } = valueUnit(result);
  const fmt = (v: number | null) => formatValue(v, unit, perSecond);
  return (
    <div class="metric-table-wrap">
      <table class="metric-table" data-testid="metric-table">
        <thead>
          <tr>
            <th>series</th>
            <th>latest</th>
            <th>average</th>
            <th>min</th>
            <th>max</th>
            <th>points</th>
          </tr>
        </thead>
        <tbody>
          {result.series.map((s, i) => {
            const st = stats(s.points);
            return (
              <tr key={i}>
                <td>
                  <i class="swatch" style={{ background: seriesColors[i % seriesColors.length] }} /> {seriesName(s, result.metric)}
                </td>
                <td data-raw={st.latest ?? ''}>{fmt(st.latest)}</td>
                <td data-raw={st.avg ?? ''}>{fmt(st.avg)}</td>
                <td data-raw={st.min ?? ''}>{fmt(st.min)}</td>
                <td data-raw={st.max ?? ''}>{fmt(st.max)}</td>
                <td>{s.points.length}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function MetricChart({ query, display = 'line', height = 260, tz = 'local', onResult }: MetricChartProps) {
  const [result, setResult] = useState<MetricResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const report = useRef(onResult);
  report.current = onResult;

  useEffect(() => {
    if (!query.metric) return undefined;
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    queryMetric(query, ctl.signal)
      .then((r) => {
        setResult(r);
        report.current?.(r, null);
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        const message = e instanceof Error ? e.message : String(e);
        setResult(null);
        setError(message);
        report.current?.(null, message);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [query]);

  const points = result ? result.series.reduce((n, s) => n + s.points.length, 0) : 0;
  return (
    <div class={`metric-chart${loading ? ' loading' : ''}`} data-testid="metric-chart" data-state={error ? 'error' : loading ? 'loading' : result ? 'ready' : 'idle'}>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!error && result && points === 0 && <p class="empty">No points of {result.metric} in this range.</p>}
      {!error && result && points > 0 && display === 'number' && <NumberView result={result} />}
      {!error && result && points > 0 && display === 'table' && <TableView result={result} />}
      {!error && result && points > 0 && (display === 'line' || display === 'bar') && (
        <Plot result={result} display={display} height={height} tz={tz} />
      )}
      {!result && !error && <div class="metric-placeholder muted" style={{ height: `${height}px` }}>Loading…</div>}
    </div>
  );
}
