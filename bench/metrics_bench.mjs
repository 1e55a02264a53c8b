// The metrics benchmark (make bench): 1,000 series of a counter and 1,000 of a gauge, a point
// every 10 s over the last 24 h (8.64 million points each; bench/metrics_bench_load), loaded into
// a fresh data directory, then charted through POST /api/v1/metrics/query of `stackhouse run`
// with a warm engine: each chart over the full 24 h at the automatic step (5 min: 288 points a
// series), 2 warm-up runs, then p50 and p95 of 20 runs (client-side wall time of the request: its
// two statements, the metric's lookup and the chart, each parsed and checked by the engine), and
// the p50 of the engine's own time. A baseline in the same run: the cheapest statement that reads
// every point of the counter (sum(Value) through /api/v1/sql). It measures, it does not assert.
// BENCH_METRICS_DATA=<dir> copies an engine directory loaded before instead of loading;
// BENCH_METRICS_CASES=0,1,6 runs only those charts (0 is the baseline).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, repoRoot } from '../tests/e2e/lib/server.mjs';

const runs = Number(process.env.BENCH_METRICS_RUNS || 20);
const loader = path.join(repoRoot, 'build', 'bench', 'metrics_bench_load');

const server = await startServer({ name: 'metrics-bench' });
try {
  await server.stop();
  const engineDir = path.join(server.dataDir, 'clickhouse');
  let loaded = { rows: 17280000, seconds: 0, rows_per_s: 0, reused: true };
  if (process.env.BENCH_METRICS_DATA) {
    fs.rmSync(engineDir, { recursive: true, force: true });
    fs.cpSync(process.env.BENCH_METRICS_DATA, engineDir, { recursive: true });
  } else {
    const load = spawnSync(loader, [engineDir], { encoding: 'utf8' });
    if (load.status !== 0) throw new Error(`loader failed: ${load.stderr}`);
    loaded = JSON.parse(load.stdout.trim());
  }
  await server.restart();
  // The server rolls the loaded day up into 5-minute buckets at its start (store/metric_rollup.h);
  // the charts are measured once every closed bucket is rolled. The time that takes is the
  // rollup's cost for these 17.28M points.
  const rollStart = performance.now();
  const closed = Math.floor((Date.now() - 60_000) / 300_000) * 300;
  for (;;) {
    const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
    const m = text.match(/^stackhouse_metric_rollup_rolled_until_seconds (\d+)/m);
    if (m && Number(m[1]) >= closed) break;
    if (performance.now() - rollStart > 600_000) throw new Error('the rollup did not catch up in 10 min');
    await new Promise((r) => setTimeout(r, 200));
  }
  const rolledMs = performance.now() - rollStart;
  const to = Date.now();
  const from = to - 24 * 3600 * 1000;

  async function post(endpoint, body) {
    const t0 = performance.now();
    const res = await fetch(`${server.apiUrl}${endpoint}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...server.authHeaders() },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${endpoint} ${JSON.stringify(body)}: ${res.status} ${text}`);
    return { ms, json: JSON.parse(text) };
  }

  const chart = (body) => ['/api/v1/metrics/query', { from, to, ...body }];
  const cases = [
    ['baseline: sum(Value) of every counter point (/api/v1/sql)', '/api/v1/sql',
      { query: 'SELECT sum(Value) FROM otel.otel_metrics_sum WHERE MetricName = {m:String} AND TimeUnix >= now() - INTERVAL 1 DAY', params: { m: 'bench.requests' } }],
    ['counter rate, 1,000 series summed', ...chart({ metric: 'bench.requests' })],
    ['counter rate by service.name (20 series)', ...chart({ metric: 'bench.requests', groupBy: ['service.name'] })],
    ['counter rate by route and status (50 series)', ...chart({ metric: 'bench.requests', groupBy: ['http.route', 'http.status_code'] })],
    ['counter rate, filtered (http.status_code:>=500)', ...chart({ metric: 'bench.requests', where: 'http.status_code:>=500' })],
    ['gauge average by service.name (20 series)', ...chart({ metric: 'bench.queue.depth', groupBy: ['service.name'] })],
    ['gauge max, 1,000 series', ...chart({ metric: 'bench.queue.depth', aggregation: 'max' })],
    // Shorter ranges: 10 h takes an automatic step of 2 min, which reads the points; at a 5-min
    // step the same range reads the rollups.
    ['counter rate over 10 h, automatic step (2 min: the points)', '/api/v1/metrics/query',
      { from: to - 10 * 3600 * 1000, to, metric: 'bench.requests' }],
    ['counter rate over 10 h, 5-min step (the rollups)', '/api/v1/metrics/query',
      { from: to - 10 * 3600 * 1000, to, metric: 'bench.requests', step: '5m' }],
  ];
  // BENCH_METRICS_CASES=0,1,2: only these charts (by position), for a quick run.
  const only = process.env.BENCH_METRICS_CASES?.split(',').map(Number);
  if (only) cases.splice(0, cases.length, ...cases.filter((_, i) => only.includes(i)));
  const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  console.log(`metrics benchmark: ${loaded.rows} points (2 metrics x 1,000 series x 8,640), ` +
    (loaded.reused ? 'copied from a loaded directory' : `loaded in ${loaded.seconds} s (${loaded.rows_per_s} rows/s)`) +
    `; rolled up into 5-minute buckets in ${(rolledMs / 1000).toFixed(1)} s; ${runs} runs per chart`);
  console.log('| chart (over 24 h unless said) | series x points | p50 ms | p95 ms | engine p50 ms | p50 / baseline | goal p50 ms |');
  console.log('|---|---|---|---|---|---|---|');
  let baseline = 0;
  for (const [name, endpoint, body] of cases) {
    let last;
    const times = [], engine = [];
    try {
      for (let i = 0; i < 2; i++) last = await post(endpoint, body);
      for (let i = 0; i < runs; i++) {
        last = await post(endpoint, body);
        times.push(last.ms);
        engine.push(last.json.elapsed_ms);
      }
    } catch (e) {
      // A chart past the query bounds (30 s) is a result too: say so and go on.
      console.log(`| ${name} | failed: ${String(e.message).slice(-160)} | | | | | |`);
      continue;
    }
    times.sort((a, b) => a - b);
    engine.sort((a, b) => a - b);
    const p50 = pct(times, 50);
    if (!baseline) baseline = p50;
    const shape = last.json.series
      ? `${last.json.series.length} x ${Math.max(...last.json.series.map((s) => s.points.length))}`
      : '1';
    console.log(`| ${name} | ${shape} | ${p50.toFixed(1)} | ${pct(times, 95).toFixed(1)} | ` +
      `${pct(engine, 50).toFixed(1)} | ${(p50 / baseline).toFixed(2)} | ${endpoint === '/api/v1/sql' ? '' : '< 300'} |`);
  }
} finally {
  await server.cleanup();
}
process.exit(0);
