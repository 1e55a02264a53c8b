// The search benchmark (make bench): N generated logs over the last 24 h (bench/search_bench_load,
// default 2,000,000; BENCH_SEARCH_ROWS sets it), loaded into a fresh data directory, then searched
// through the real endpoints of `stackhouse run` with a warm engine: each query over the full
// 24 h, 2 warm-up runs, then p50 and p95 of 20 runs (BENCH_SEARCH_RUNS) (client-side wall time of the HTTP request),
// and the p50 of the engine's own time for the final statement (`elapsed_ms`; the wall time adds
// the engine's parse and allowlist check of the statement, the HTTP round trip and the shaping).
// It measures, it does not assert.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startServer, repoRoot } from '../tests/e2e/lib/server.mjs';

const rows = Number(process.env.BENCH_SEARCH_ROWS || 2_000_000);
const runs = Number(process.env.BENCH_SEARCH_RUNS || 20);
const loader = path.join(repoRoot, 'build', 'bench', 'search_bench_load');

// The ingest cost of the search's skip index beyond the exporter's (idx_body_lower): the same
// load into a second fresh directory without it, in the same run.
// BENCH_SEARCH_BARE=0 leaves that load out (half the set-up time at 10M rows).
const withBare = process.env.BENCH_SEARCH_BARE !== '0';
const bare = withBare ? await startServer({ name: 'search-bench-bare' }) : null;
let bareLoad = { seconds: '-', rows_per_s: '-' };
if (bare) try {
  await bare.stop();
  const r = spawnSync(loader, [path.join(bare.dataDir, 'clickhouse'), String(rows),
    '--without-lower-body-index'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`loader failed: ${r.stderr}`);
  bareLoad = JSON.parse(r.stdout.trim());
} finally {
  await bare.cleanup();
}

const server = await startServer({ name: 'search-bench' });
try {
  await server.stop();
  const load = spawnSync(loader, [path.join(server.dataDir, 'clickhouse'), String(rows)],
    { encoding: 'utf8' });
  if (load.status !== 0) throw new Error(`loader failed: ${load.stderr}`);
  const loaded = JSON.parse(load.stdout.trim());
  await server.restart();
  const to = Date.now();
  const from = to - 24 * 3600 * 1000;

  async function post(endpoint, body) {
    const t0 = performance.now();
    const res = await fetch(`${server.apiUrl}${endpoint}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...server.authHeaders() },
      body: JSON.stringify({ source: 'logs', from, to, ...body }),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${endpoint} ${JSON.stringify(body)}: ${res.status} ${text}`);
    return { ms, json: JSON.parse(text) };
  }

  const cases = [
    ['newest 100 rows, empty query', '/api/v1/search', { query: '', limit: 100 }, 50],
    ['a rare whole-word token (zebracorn)', '/api/v1/search', { query: 'zebracorn', limit: 100 }, 50],
    ['trace_id:<id>', '/api/v1/search', { query: `trace_id:${loaded.trace_id}`, limit: 100 }, 50],
    [`attribute equality, any case (job.id:${loaded.job_id})`, '/api/v1/search', { query: `job.id:${loaded.job_id}`, limit: 100 }, 50],
    [`attribute equality, exact (LogAttributes.job.id:"${loaded.job_id}")`, '/api/v1/search',
      { query: `LogAttributes.job.id:"${loaded.job_id}"`, limit: 100 }, 50],
    ['histogram of the 24 h by severity', '/api/v1/search/histogram', { query: '' }, 100],
    ['*substring* (*ebraco*)', '/api/v1/search', { query: '*ebraco*', limit: 100 }, 300],
  ];
  const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  console.log(`search benchmark: ${loaded.rows} logs over 24 h, loaded in ${loaded.seconds} s ` +
    `(${loaded.rows_per_s} rows/s, INSERT ... SELECT in the engine; without idx_body_lower: ` +
    `${bareLoad.seconds} s, ${bareLoad.rows_per_s} rows/s); ${runs} runs per query`);
  console.log('| query | rows | p50 ms | p95 ms | engine p50 ms | goal p50 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, endpoint, body, goal] of cases) {
    let last;
    for (let i = 0; i < 2; i++) last = await post(endpoint, body);
    const times = [], engine = [];
    for (let i = 0; i < runs; i++) {
      last = await post(endpoint, body);
      times.push(last.ms);
      engine.push(last.json.elapsed_ms);
    }
    times.sort((a, b) => a - b);
    engine.sort((a, b) => a - b);
    const n = last.json.rows ? last.json.rows.length : last.json.total;
    console.log(`| ${name} | ${n} | ${pct(times, 50).toFixed(1)} | ${pct(times, 95).toFixed(1)} | ${pct(engine, 50).toFixed(1)} | < ${goal} |`);
  }
} finally {
  await server.cleanup();
}
process.exit(0);
