// The trace benchmark (make bench): a trace of 10,000 spans (a root, 100 children, 99 spans under
// each, six attributes per span, an event on every tenth) among 50,000 spans of 2,500 other
// traces over the last hour, all sent over OTLP/HTTP JSON to `stackhouse run`; then the trace is
// opened through GET /api/v1/traces/<id> with a warm engine: 2 warm-up runs, then p50 and p95 of
// 20 runs (client-side wall time of the whole answer, parsed), and the engine's own time
// (`elapsed_ms`, both statements). Also the services figures over the hour. It measures, it does
// not assert.
import { startServer } from '../tests/e2e/lib/server.mjs';
import { keyValues } from '../tests/e2e/lib/otlp.mjs';

const runs = Number(process.env.BENCH_TRACE_RUNS || 20);
const bigSpans = 10_000;
const hex = (n, w) => n.toString(16).padStart(w, '0');

const server = await startServer({ name: 'trace-bench' });
try {
  const now = BigInt(Date.now()) * 1_000_000n;
  async function send(service, spans) {
    const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: keyValues({ 'service.name': service, 'host.name': 'bench-1' }) }, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] });
    const r = await fetch(`${server.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`OTLP ${r.status}: ${text}`);
  }
  const span = (traceId, i, parent, start, durNs, service) => ({
    traceId, spanId: hex(i + 1, 16), parentSpanId: parent, name: `${service} op-${i % 40}`, kind: 2 + (i % 3),
    startTimeUnixNano: String(start), endTimeUnixNano: String(start + durNs),
    attributes: keyValues({ 'http.route': `/api/v${i % 3}/items`, 'http.response.status_code': 200 + (i % 5), 'net.peer.name': `db-${i % 7}`, 'span.index': i, 'user.id': `u-${i % 1000}`, 'region': 'eu-west-1' }),
    events: i % 10 === 0 ? [{ timeUnixNano: String(start + durNs / 2n), name: 'cache.miss', attributes: keyValues({ key: `k${i}` }) }] : [],
    status: { code: i % 97 === 0 ? 2 : 0 },
  });
  // The noise: 2,500 traces of 20 spans over the last hour, 5 services.
  for (let batch = 0; batch < 10; batch++) {
    const spans = [];
    for (let t = batch * 250; t < (batch + 1) * 250; t++) {
      const traceId = hex(t + 1, 32);
      const base = now - 3_600_000_000_000n + BigInt(t) * 1_400_000_000n;
      for (let i = 0; i < 20; i++) spans.push(span(traceId, i, i === 0 ? '' : hex(1, 16), base + BigInt(i) * 1_000_000n, 5_000_000n, `svc-${t % 5}`));
    }
    await send(`svc-${batch % 5}`, spans);
  }
  // The trace: 10,000 spans over about 4 s, sent in 4 requests as a busy service would.
  const traceId = 'f'.repeat(8) + hex(424242, 24);
  const start = now - 600_000_000_000n;
  const big = [];
  for (let i = 0; i < bigSpans; i++) {
    const parent = i === 0 ? '' : i <= 100 ? hex(1, 16) : hex(2 + ((i - 101) % 100), 16);
    big.push(span(traceId, i, parent, start + BigInt(i) * 400_000n, i === 0 ? 4_100_000_000n : 300_000n, `checkout-${i % 4}`));
  }
  for (let i = 0; i < bigSpans; i += 2500) await send('checkout', big.slice(i, i + 2500));

  const headers = { 'content-type': 'application/json', ...server.authHeaders() };
  for (let i = 0; i < 100; i++) {
    const { rows } = await server.sql('SELECT count() FROM otel.otel_traces WHERE TraceId = {t:String}', { t: traceId });
    if (Number(rows[0][0]) === bigSpans) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  async function timed(fn) {
    const t0 = performance.now();
    const json = await fn();
    return { ms: performance.now() - t0, json };
  }
  const getTrace = () => timed(async () => {
    const r = await fetch(`${server.apiUrl}/api/v1/traces/${traceId}`, { headers });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`trace: ${r.status} ${text.slice(0, 300)}`);
    const json = JSON.parse(text);
    json.bytes = text.length;
    return json;
  });
  const getServices = () => timed(async () => {
    const r = await fetch(`${server.apiUrl}/api/v1/services`, { method: 'POST', headers, body: JSON.stringify({ from: Date.now() - 3600e3, to: Date.now() }) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`services: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  });
  // Baselines in the same run, on the same server: the round trip of a trivial query, and the
  // search API's trace_id:<id> page of 100 spans.
  const trivial = () => timed(async () => {
    const r = await fetch(`${server.apiUrl}/api/v1/sql`, { method: 'POST', headers, body: JSON.stringify({ query: 'SELECT 1' }) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`sql: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  });
  const searchTrace = () => timed(async () => {
    const r = await fetch(`${server.apiUrl}/api/v1/search`, { method: 'POST', headers, body: JSON.stringify({ source: 'traces', query: `trace_id:${traceId}`, from: Date.now() - 3600e3, to: Date.now(), limit: 100 }) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`search: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  });
  const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  const load = (await import('node:os')).loadavg()[0].toFixed(1);
  console.log(`trace benchmark (load average ${load} on ${(await import('node:os')).cpus().length} cores): one trace of ${bigSpans} spans among 50,000 spans of 2,500 traces; ${runs} runs`);
  console.log('| request | answer | p50 ms | p95 ms | engine p50 ms | goal p50 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, fn, describe, goal] of [
    [`GET /api/v1/traces/<id> (${bigSpans} spans)`, getTrace, (j) => `${j.spans.length} spans, ${(j.bytes / 1e6).toFixed(1)} MB`, '< 300'],
    ['POST /api/v1/services (1 h)', getServices, (j) => `${j.services.length} services`, '—'],
    ['baseline: POST /api/v1/sql SELECT 1', trivial, () => '1 row', '—'],
    ['baseline: POST /api/v1/search trace_id:<id>, limit 100', searchTrace, (j) => `${j.rows.length} spans`, '—'],
  ]) {
    let last;
    for (let i = 0; i < 2; i++) last = await fn();
    const times = [], engine = [];
    for (let i = 0; i < runs; i++) {
      last = await fn();
      times.push(last.ms);
      engine.push(last.json.elapsed_ms);
    }
    times.sort((a, b) => a - b);
    engine.sort((a, b) => a - b);
    console.log(`| ${name} | ${describe(last.json)} | ${pct(times, 50).toFixed(1)} | ${pct(times, 95).toFixed(1)} | ${pct(engine, 50).toFixed(1)} | ${goal} |`);
  }
} finally {
  await server.cleanup();
}
process.exit(0);
