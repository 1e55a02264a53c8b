// A dashboard tile that charts a metrics query (POST /api/v1/metrics/query: {metric,
// aggregation?, where?, groupBy?, from, to, step?} → {series: [{labels, points: [[ms, value]]}]})
// as lines, bars, one number (the newest value of the first series) or a table of the newest
// value per series.
import { useEffect, useMemo, useState } from 'preact/hooks';

import { ApiError } from './api';
import { metricsQuery } from './libraryApi';
import type { MetricSeries, MetricTileConfig } from './libraryApi';
import { shortNumber, TimeChart } from './TimeChart';
import type { TimeZone } from './time';

export function seriesLabel(s: MetricSeries, metric: string): string {
  const parts = Object.entries(s.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(', ') : metric;
}

function newest(s: MetricSeries): number | null {
  for (let i = s.points.length - 1; i >= 0; i--) {
    const v = s.points[i]![1];
    if (v !== null && Number.isFinite(v)) return v;
  }
  return null;
}

export function MetricTile({ config, filter, from, to, tz, generation }: { config: MetricTileConfig; filter: string; from: number; to: number; tz: TimeZone; generation: number }) {
  const [series, setSeries] = useState<MetricSeries[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    // The dashboard's filter narrows every tile: for a metric, its attributes.
    const where = [config.where, filter].filter((w) => w && w.trim()).map((w) => `(${w})`).join(' AND ');
    metricsQuery({ ...config, where: where || undefined, from, to }, ctl.signal)
      .then(setSeries)
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        // A metric with no points in the range (e.g. the self scrape has not stored any yet) is
        // an empty chart, not an error.
        if (e instanceof ApiError && e.errorName === 'NO_SUCH_METRIC') {
          setSeries([]);
          return;
        }
        setSeries(null);
        setError(e instanceof ApiError && e.status === 404 ? 'The metrics query is not available on this server.' : e instanceof Error ? e.message : String(e));
      });
    return () => ctl.abort();
  }, [config, filter, from, to, generation]);

  const chart = useMemo(() => {
    if (!series) return null;
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    return {
      xs: times,
      series: series.map((s) => {
        const values = new Array<number | null>(times.length).fill(null);
        for (const [t, v] of s.points) values[index.get(t)!] = v;
        return { label: seriesLabel(s, config.metric), values };
      }),
    };
  }, [series, config.metric]);

  if (error) return <p class="tile-message error">{error}</p>;
  if (!series || !chart) return <p class="tile-message muted">Loading…</p>;
  if (series.length === 0) return <p class="tile-message muted">No data for {config.metric} in this range.</p>;
  if (config.display === 'number') {
    const v = newest(series[0]!);
    return (
      <div class="tile-number" data-testid="tile-number">
        {v === null ? '–' : shortNumber(v)}
      </div>
    );
  }
  if (config.display === 'table') {
    return (
      <div class="tile-table">
        <table>
          <thead>
            <tr>
              <th>Series</th>
              <th class="num">Newest</th>
            </tr>
          </thead>
          <tbody>
            {series.map((s, i) => {
              const v = newest(s);
              return (
                <tr key={i}>
                  <td>{seriesLabel(s, config.metric)}</td>
                  <td class="num">{v === null ? '–' : shortNumber(v)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }
  return <TimeChart xs={chart.xs} series={chart.series} bars={config.display === 'bar'} from={from} to={to} tz={tz} />;
}
