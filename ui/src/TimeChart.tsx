// A time chart for dashboard tiles (uPlot): lines or bars, one or more series on one time axis,
// sized to its box. Used by the count tile and the metric tile.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { formatTime } from './time';
import type { TimeZone } from './time';

export const palette = ['#1565c0', '#c62828', '#2e7d32', '#e65100', '#6a1b9a', '#00838f', '#5d4037', '#ad1457', '#546e7a', '#9e9d24'];

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

// A series with few points is drawn with its points as dots: a lone point between gaps, or the
// first minute of a fresh server on a chart of the last hour, is otherwise a line too short to see.
export function sparse(values: (number | null)[]): boolean {
  return values.filter((v) => v !== null).length < 40;
}

// A chart's value axis: from 0 (or a little below the lowest value, when one is negative and the
// chart may go below 0) to a little above the highest, so that no point sits on the box's edge;
// [0, 1] when every value is 0.
export function valueRange(min: number, max: number, clampAtZero = false): uPlot.Range.MinMax {
  const lo = clampAtZero || min >= 0 ? 0 : min * 1.08;
  return [lo, max > 0 ? max * 1.08 : lo < 0 ? 0 : 1];
}

export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a === 0 || a >= 1) return String(+v.toPrecision(4));
  return String(+v.toPrecision(3));
}

export function TimeChart({
  xs,
  series,
  bars,
  from,
  to,
  tz,
  counts = false,
}: {
  xs: number[]; // epoch ms
  series: ChartSeries[];
  bars: boolean;
  counts?: boolean; // whole numbers only on the value axis
  from: number;
  to: number;
  tz: TimeZone;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const size = () => ({ width: Math.max(100, el.clientWidth), height: Math.max(60, el.clientHeight) });
    const barPaths = uPlot.paths.bars!({ size: [0.8, 40], align: 1 });
    const opts: uPlot.Options = {
      ...size(),
      padding: [6, 12, 0, 0],
      legend: { show: false },
      cursor: { points: { show: false } },
      scales: {
        x: { time: true, range: () => [from / 1000, to / 1000] },
        y: { range: (_u, min, max) => valueRange(min, max) },
      },
      axes: [
        {
          stroke: '#333',
          size: 26,
          grid: { stroke: '#e3e3e3', width: 1 },
          ticks: { stroke: '#bbb', width: 1, size: 3 },
          font: '11px system-ui, sans-serif',
          values: (_u, splits) => splits.map((v) => {
            const t = formatTime(v * 1000, tz, false);
            return to - from > 86400e3 ? t.slice(5, 16) : t.slice(11, 16);
          }),
        },
        {
          stroke: '#333',
          size: 44,
          grid: { stroke: '#e3e3e3', width: 1 },
          ticks: { show: false },
          font: '11px system-ui, sans-serif',
          values: (_u, splits) => splits.map(shortNumber),
          ...(counts ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8] } : {}),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: palette[i % palette.length],
          fill: bars ? palette[i % palette.length] : undefined,
          width: bars ? 0 : 2,
          paths: bars ? barPaths : undefined,
          points: { show: !bars && sparse(s.values), size: 5, fill: palette[i % palette.length] },
          spanGaps: false,
        })),
      ],
    };
    const data = [xs.map((x) => x / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData;
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize(size()));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [xs, series, bars, from, to, tz, counts]);
  return <div class="tile-chart" ref={box} />;
}
