// The count of matching logs per time bucket, stacked by severity (uPlot bars). Dragging across it
// selects a time range, which becomes the search's range.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import type { HistogramResponse } from './api';
import { severityClass, severityOrder } from './rows';
import type { Severity } from './rows';
import { formatTime } from './time';
import type { TimeZone } from './time';

export const severityColors: Record<Severity, string> = {
  fatal: '#6a1b9a',
  error: '#c62828',
  warn: '#e65100',
  info: '#1565c0',
  debug: '#546e7a',
  trace: '#90a4ae',
  other: '#9e9e9e',
};

// How the histogram groups and colours a bucket's counts: severities (logs, the default) or
// statuses (spans).
export interface Groups {
  order: string[]; // stacked bottom to top, legend left to right
  classify: (name: string) => string; // a name the API sends -> one of `order`
  colors: Record<string, string>;
  noun: [string, string]; // "log", "logs"
}

export const severityGroups: Groups = {
  order: severityOrder,
  classify: severityClass,
  colors: severityColors,
  noun: ['log', 'logs'],
};

export const statusGroups: Groups = {
  order: ['error', 'ok', 'unset'],
  classify: (name) => (/^error$/i.test(name) ? 'error' : /^ok$/i.test(name) ? 'ok' : 'unset'),
  colors: { error: '#c62828', ok: '#2e7d32', unset: '#78909c' },
  noun: ['span', 'spans'],
};

interface Props {
  groups?: Groups;
  data: HistogramResponse | null;
  failed: boolean; // the count failed (the query's error is shown beside the results)
  from: number;
  to: number;
  tz: TimeZone;
  onZoom: (from: number, to: number) => void;
}

// Per group (severity class or status), the counts of each bucket.
function byGroup(data: HistogramResponse, groups: Groups): Map<string, number[]> {
  const out = new Map<string, number[]>();
  data.buckets.forEach((b, i) => {
    for (const [name, n] of Object.entries(b.bySeverity)) {
      const s = groups.classify(name);
      let arr = out.get(s);
      if (!arr) {
        arr = new Array<number>(data.buckets.length).fill(0);
        out.set(s, arr);
      }
      arr[i] = (arr[i] ?? 0) + n;
    }
  });
  return out;
}

export function Histogram({ data, failed, from, to, tz, onZoom, groups = severityGroups }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    const el = box.current;
    if (!el || !data) return undefined;
    const xs = data.buckets.map((b) => b.start / 1000);
    const classes = byGroup(data, groups);
    const present = groups.order.filter((s) => classes.has(s));
    // Stacked bars: each series is the sum of its class and those below it, drawn from the top
    // so the lower ones paint over the taller ones.
    const stacked: number[][] = [];
    let acc = new Array<number>(xs.length).fill(0);
    for (const s of [...present].reverse()) {
      const vals = classes.get(s)!;
      acc = acc.map((a, i) => a + (vals[i] ?? 0));
      stacked.unshift(acc);
    }
    const bars = uPlot.paths.bars!({ size: [0.9, 60], align: 1 });
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height: 120,
      padding: [8, 28, 0, 0],
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: true, range: () => [from / 1000, to / 1000] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        {
          stroke: '#333',
          size: 30,
          grid: { stroke: '#e3e3e3', width: 1 },
          ticks: { stroke: '#bbb', width: 1, size: 4 },
          font: '12px system-ui, sans-serif',
          values: (_u, splits) =>
            splits.map((v) => {
              const t = formatTime(v * 1000, tz, false);
              return to - from > 86400e3 ? t.slice(5, 16) : t.slice(11, 19);
            }),
        },
        {
          stroke: '#333',
          grid: { stroke: '#e3e3e3', width: 1 },
          ticks: { show: false },
          font: '12px system-ui, sans-serif',
          size: 48,
          // Counts: whole-number steps only.
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7],
          values: (_u, splits) => splits.map((v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v))),
        },
      ],
      series: [
        {},
        ...present.map((s) => ({
          label: s,
          stroke: groups.colors[s],
          fill: groups.colors[s],
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            const { left, width } = u.select;
            if (width > 3) {
              const a = u.posToVal(left, 'x') * 1000;
              const b = u.posToVal(left + width, 'x') * 1000;
              zoom.current(Math.round(a), Math.round(b));
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    };
    const p = new uPlot(opts, [xs, ...stacked] as uPlot.AlignedData, el);
    plot.current = p;
    const resize = new ResizeObserver(() => p.setSize({ width: el.clientWidth, height: 120 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, [data, from, to, tz, groups]);

  const total = data?.total ?? 0;
  const present = data ? groups.order.filter((s) => byGroup(data, groups).has(s)) : [];
  const [one, many] = groups.noun;
  return (
    <section class="histogram" aria-label={`${many[0]!.toUpperCase()}${many.slice(1)} over time by ${groups === severityGroups ? 'severity' : 'status'}`}>
      <div class="histogram-head">
        <span class="total" data-testid="histogram-total">
          {data ? `${total.toLocaleString('en-US')} matching ${total === 1 ? one : many}` : failed ? 'No counts: the search failed' : 'Counting…'}
        </span>
        <span class="legend">
          {present.map((s) => (
            <span class="legend-item" key={s}>
              <i class="swatch" style={{ background: groups.colors[s] }} />
              {s}
            </span>
          ))}
        </span>
        <span class="hint">drag across the chart to zoom</span>
      </div>
      <div class="histogram-plot" ref={box} data-testid="histogram" />
    </section>
  );
}
