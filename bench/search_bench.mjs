// The search benchmark (make bench): N generated logs over the last 24 h (bench/search_bench_load,
// default 2,000,000; BENCH_SEARCH_ROWS sets it), loaded into a fresh data directory, then searched
// through the real endpoints of `stackhouse run` with a warm engine: each query over the full
// 24 h, 2 warm-up runs, then p50 and p95 of 20 runs (BENCH_SEARCH_RUNS) (client-side wall time of the HTTP request),
// and the p50 of the engine's own time for the final statement (`elapsed_ms`; the wall time adds
// the engine's parse and allowlist check of the statement, the HTTP round trip and the shaping).
// Then the OTLP ingest rate alone and while four clients search (BENCH_SEARCH_INGEST_SECONDS a
// phase). It measures, it does not assert.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startServer, repoRoot } from '../tests/e2e/lib/server.mjs';

const rows = Number(process.env.BENCH_SEARCH_ROWS || 2_000_000);
const runs = Number(process.env.BENCH_SEARCH_RUNS || 20);
const loader = path.join(repoRoot, 'build', 'bench', 'search_bench_load');

// The ingest cost of the search's skip index beyond the exporter's (idx_body_text): the same
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
    // Every run another value, so that no run finds its rows' blocks in the engine's cache.
    ['attribute equality, any case, another value each run', '/api/v1/search',
      (i) => ({ query: `job.id:job-${(i * 7919 + 13) % 200000}`, limit: 100 }), 50],
    ['histogram of the 24 h by severity', '/api/v1/search/histogram', { query: '' }, 100],
    ['*substring* (*ebraco*)', '/api/v1/search', { query: '*ebraco*', limit: 100 }, 300],
  ];
  // A case's request body: the same every run, or one per run.
  const bodyOf = (body, i) => (typeof body === 'function' ? body(i) : body);
  const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  console.log(`search benchmark: ${loaded.rows} logs over 24 h, loaded in ${loaded.seconds} s ` +
    `(${loaded.rows_per_s} rows/s, INSERT ... SELECT in the engine; without idx_body_text: ` +
    `${bareLoad.seconds} s, ${bareLoad.rows_per_s} rows/s); ${runs} runs per query`);
  console.log('| query | rows | p50 ms | p95 ms | engine p50 ms | goal p50 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, endpoint, body, goal] of cases) {
    let last;
    for (let i = 0; i < 2; i++) last = await post(endpoint, bodyOf(body, runs + i));
    const times = [], engine = [];
    for (let i = 0; i < runs; i++) {
      last = await post(endpoint, bodyOf(body, i));
      times.push(last.ms);
      engine.push(last.json.elapsed_ms);
    }
    times.sort((a, b) => a - b);
    engine.sort((a, b) => a - b);
    const n = last.json.rows ? last.json.rows.length : last.json.total;
    console.log(`| ${name} | ${n} | ${pct(times, 50).toFixed(1)} | ${pct(times, 95).toFixed(1)} | ${pct(engine, 50).toFixed(1)} | < ${goal} |`);
  }

  // Ingest while four clients search (the goal: at least 0.8 of the rate alone). Four
  // OTLP/HTTP clients send 500 logs a request (distinct timestamps, so no request repeats) for
  // `secs` alone, then `secs` while four other clients loop over the queries above, then `secs`
  // alone again; the rate is acknowledged records per second.
  const secs = Number(process.env.BENCH_SEARCH_INGEST_SECONDS || 15);
  let seq = 0;
  const logsBody = () => {
    const base = BigInt(Date.now()) * 1_000_000n;
    const records = [];
    for (let i = 0; i < 500; i++) {
      seq++;
      records.push({ timeUnixNano: String(base + BigInt(i)), severityText: 'INFO',
        body: { stringValue: `GET /api/v1/orders/${seq} 200 in ${seq % 97} ms` },
        attributes: [{ key: 'job.id', value: { stringValue: `ingest-${seq % 1000}` } }] });
    }
    return JSON.stringify({ resourceLogs: [{ resource: { attributes: [
      { key: 'service.name', value: { stringValue: 'ingest-bench' } }] }, scopeLogs: [{ logRecords: records }] }] });
  };
  async function ingestFor(ms) {
    const end = performance.now() + ms;
    let acked = 0, failed = 0;
    await Promise.all([0, 1, 2, 3].map(async () => {
      while (performance.now() < end) {
        const res = await fetch(`${server.otlpUrl}/v1/logs`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: logsBody() });
        await res.arrayBuffer();
        if (res.status === 200) acked += 500; else failed++;
      }
    }));
    return { rate: acked / (ms / 1000), failed };
  }
  const alone1 = await ingestFor(secs * 1000);
  let searching = true, searches = 0, searchFailures = 0;
  const searchers = [0, 1, 2, 3].map(async (k) => {
    for (let i = k; searching; i++) {
      const [, endpoint, body] = cases[i % cases.length];
      try {
        await post(endpoint, bodyOf(body, i));
        searches++;
      } catch {
        searchFailures++;
      }
    }
  });
  const busy = await ingestFor(secs * 1000);
  searching = false;
  await Promise.all(searchers);
  const alone2 = await ingestFor(secs * 1000);
  const aloneRate = (alone1.rate + alone2.rate) / 2;
  console.log(`\ningest while four clients search (${secs} s phases, 4 OTLP/HTTP clients, 500 logs a request):`);
  console.log('| phase | acked logs/s | failed requests |');
  console.log('|---|---|---|');
  console.log(`| alone, before | ${alone1.rate.toFixed(0)} | ${alone1.failed} |`);
  console.log(`| four clients searching (${searches} searches done, ${searchFailures} failed) | ${busy.rate.toFixed(0)} | ${busy.failed} |`);
  console.log(`| alone, after | ${alone2.rate.toFixed(0)} | ${alone2.failed} |`);
  console.log(`ratio to the mean rate alone: ${(busy.rate / aloneRate).toFixed(2)} (goal >= 0.8)`);
} finally {
  await server.cleanup();
}
process.exit(0);
