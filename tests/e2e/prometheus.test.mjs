// Prometheus scraping, end to end: a real node-exporter (Debian's prometheus-node-exporter) is
// scraped at the same time by stackhouse and by a real Prometheus server (Debian's prometheus).
// Both must hold the same series (names and label sets), and equal values for every series whose
// value did not change during the window. A fixture server serves the OpenMetrics features
// node-exporter does not (exemplars, _created, info, units), checked in stored rows.
// About 25 s.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { startServer } from './lib/server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

const children = [];
function startChild(cmd, args, logPath) {
  const out = fs.openSync(logPath, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, out] });
  children.push(child);
  return child;
}

// The OpenMetrics fixture: answers OpenMetrics only when asked for it, as client libraries do.
const OM_BODY = `# TYPE orders counter
# HELP orders Orders placed.
orders_total{shop="north"} 42.0 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7",user="u1"} 1.0 1700000000.5
orders_created{shop="north"} 1700000000.25
# TYPE latency_seconds histogram
# UNIT latency_seconds seconds
latency_seconds_bucket{le="0.1"} 3 # {trace_id="0af7651916cd43dd8448eb211c80319c"} 0.05
latency_seconds_bucket{le="1.0"} 7
latency_seconds_bucket{le="+Inf"} 8
latency_seconds_sum 4.5
latency_seconds_count 8
latency_seconds_created 1700000100.0
# TYPE build info
build_info{version="1.2.3"} 1
# EOF
`;
// Served on the fixture's first two scrapes only: then it gets one stale point.
const DEPARTING = `# TYPE e2e_departing gauge
e2e_departing{phase="start"} 1
`;
let fixtureAccept = '';
let fixtureScrapes = 0;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'prom-e2e-'));
let nodeExporterPort, prometheusPort, fixturePort, fixture, server;
const available = which('prometheus') && which('prometheus-node-exporter');

before(async () => {
  if (!available) return;
  nodeExporterPort = await freePort();
  prometheusPort = await freePort();
  // A textfile collector with fixed values, beside collectors whose values move (cpu, loadavg).
  const textDir = path.join(work, 'textfile');
  fs.mkdirSync(textDir);
  fs.writeFileSync(path.join(textDir, 'fixed.prom'),
    '# TYPE e2e_fixed_gauge gauge\ne2e_fixed_gauge{kind="a"} 1.5\ne2e_fixed_gauge{kind="b"} -3\n' +
    '# TYPE e2e_fixed_total counter\ne2e_fixed_total 12345\n');
  startChild('prometheus-node-exporter', [
    `--web.listen-address=127.0.0.1:${nodeExporterPort}`, '--collector.disable-defaults',
    '--collector.cpu', '--collector.loadavg', '--collector.meminfo', '--collector.uname',
    '--collector.textfile', `--collector.textfile.directory=${textDir}`,
  ], path.join(work, 'node-exporter.log'));

  fixture = http.createServer((req, res) => {
    fixtureAccept = req.headers.accept || '';
    if (!fixtureAccept.includes('application/openmetrics-text')) {
      res.writeHead(406);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
    fixtureScrapes += 1;
    res.end(fixtureScrapes <= 2 ? OM_BODY.replace('# EOF\n', `${DEPARTING}# EOF\n`) : OM_BODY);
  });
  await new Promise((r) => fixture.listen(0, '127.0.0.1', r));
  fixturePort = fixture.address().port;

  fs.writeFileSync(path.join(work, 'prometheus.yml'), `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:${nodeExporterPort}"]
`);
  startChild('prometheus', [
    `--config.file=${path.join(work, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(work, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${prometheusPort}`,
  ], path.join(work, 'prometheus.log'));

  server = await startServer({
    config: `clickstack:
  hyperdx: {listen: "127.0.0.1:0"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
prometheusScrape:
  enabled: true
  self: false
  scrapeJobs:
    - jobName: node
      scrapeInterval: 1s
      targets: ["127.0.0.1:${nodeExporterPort}"]
    - jobName: fixture
      scrapeInterval: 1s
      targets: ["127.0.0.1:${fixturePort}"]
      labels: {env: e2e}
`,
  });
  await waitHttp(`http://127.0.0.1:${prometheusPort}/-/ready`, 20_000);
  // Let both scrape for a few intervals: at least 6 s, and until Prometheus holds 4 scrapes of
  // the node job (it starts scraping later than stackhouse on a busy machine), so that the two
  // scrapers' spans overlap by seconds.
  const started = Date.now();
  await sleep(6000);
  for (;;) {
    const q = encodeURIComponent('count_over_time(up{job="node"}[30s])');
    const r = await (await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${q}`)).json();
    if (Number(r.data?.result?.[0]?.value?.[1] ?? 0) >= 4) break;
    if (Date.now() - started > 40_000) throw new Error('Prometheus did not scrape node-exporter 4 times in 40 s');
    await sleep(500);
  }
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (server) await server.cleanup();
  if (fixture) fixture.close();
  fs.rmSync(work, { recursive: true, force: true });
});

// A series as Prometheus names it: name{labels sorted}, with le and quantile as numbers.
function seriesKey(name, labels) {
  const entries = Object.entries(labels)
    .filter(([k, v]) => k !== '__name__' && v !== '')
    .map(([k, v]) => [k, (k === 'le' || k === 'quantile') ? String(Number(v === '+Inf' ? Infinity : v)) : v])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}{${entries.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

// A sample of a series; `map.spans` keeps the first and last time (ms) of each series' samples.
function addValue(map, key, v, t) {
  if (!map.has(key)) map.set(key, []);
  map.get(key).push(v);
  map.spans ??= new Map();
  const span = map.spans.get(key);
  if (!span) map.spans.set(key, [t, t]);
  else map.spans.set(key, [Math.min(span[0], t), Math.max(span[1], t)]);
}

async function prometheusSeries() {
  const q = encodeURIComponent('{job="node"}[30s]');
  const r = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${q}`);
  const body = await r.json();
  assert.equal(body.status, 'success', JSON.stringify(body).slice(0, 500));
  const out = new Map();
  for (const s of body.data.result) {
    const key = seriesKey(s.metric.__name__, s.metric);
    for (const [ts, v] of s.values) addValue(out, key, Number(v), Number(ts) * 1000);
  }
  return out;
}

async function stackhouseSeries() {
  const out = new Map();
  const where = 'WHERE ServiceName = {job:String} AND Flags = 0';
  const base = (r) => ({ ...r.Attributes, job: r.ServiceName, instance: r.ResourceAttributes['service.instance.id'] });
  for (const table of ['otel_metrics_gauge', 'otel_metrics_sum']) {
    const rows = await server.sqlObjects(
      `SELECT MetricName, Attributes, ServiceName, ResourceAttributes, Value, toUnixTimestamp64Milli(TimeUnix) AS t FROM otel.${table} ${where}`,
      { job: 'node' });
    for (const r of rows) addValue(out, seriesKey(r.MetricName, base(r)), Number(r.Value), Number(r.t));
  }
  const hist = await server.sqlObjects(
    `SELECT MetricName, Attributes, ServiceName, ResourceAttributes, Count, Sum, BucketCounts, ExplicitBounds, toUnixTimestamp64Milli(TimeUnix) AS t FROM otel.otel_metrics_histogram ${where}`,
    { job: 'node' });
  for (const r of hist) {
    const labels = base(r);
    addValue(out, seriesKey(`${r.MetricName}_count`, labels), Number(r.Count), Number(r.t));
    addValue(out, seriesKey(`${r.MetricName}_sum`, labels), Number(r.Sum), Number(r.t));
    let cumulative = 0;
    r.BucketCounts.forEach((n, i) => {
      cumulative += Number(n);
      const le = i < r.ExplicitBounds.length ? r.ExplicitBounds[i] : '+Inf';
      addValue(out, seriesKey(`${r.MetricName}_bucket`, { ...labels, le }), cumulative, Number(r.t));
    });
  }
  const summaries = await server.sqlObjects(
    `SELECT MetricName, Attributes, ServiceName, ResourceAttributes, Count, Sum, \`ValueAtQuantiles.Quantile\` AS q, \`ValueAtQuantiles.Value\` AS v, toUnixTimestamp64Milli(TimeUnix) AS t FROM otel.otel_metrics_summary ${where}`,
    { job: 'node' });
  for (const r of summaries) {
    const labels = base(r);
    addValue(out, seriesKey(`${r.MetricName}_count`, labels), Number(r.Count), Number(r.t));
    addValue(out, seriesKey(`${r.MetricName}_sum`, labels), Number(r.Sum), Number(r.t));
    r.q.forEach((q, i) => addValue(out, seriesKey(r.MetricName, { ...labels, quantile: q }), Number(r.v[i]), Number(r.t)));
  }
  return out;
}

const constant = (values) => values.every((v) => Object.is(v, values[0]) || v === values[0]);

test('node-exporter: the same series and values as Prometheus', { skip: !available && 'prometheus or node-exporter not installed' }, async () => {
  const prom = await prometheusSeries();
  const ours = await stackhouseSeries();
  assert.ok(prom.size > 50, `Prometheus holds only ${prom.size} series`);
  const missing = [...prom.keys()].filter((k) => !ours.has(k));
  const extra = [...ours.keys()].filter((k) => !prom.has(k));
  assert.deepEqual(missing, [], 'series Prometheus has and stackhouse lacks');
  assert.deepEqual(extra, [], 'series stackhouse has and Prometheus lacks');
  // Values: every series constant in both windows has the same value in both.
  let compared = 0;
  const mismatches = [];
  // The exporter's own runtime (go_*, process_*, promhttp_*) is changed by every scrape it
  // answers: goroutines and open files count the scraper's connection, memory statistics move
  // with the garbage collector between one scraper's visit and the other's. Those are values of
  // the observer, not of the target; the machine's series and the textfile fixtures are compared.
  const observerDependent = /^(go_|process_|promhttp_)/;
  for (const [key, values] of prom) {
    const mine = ours.get(key);
    if (observerDependent.test(key)) continue;
    if (!constant(values) || !constant(mine)) continue;
    // Each side is constant over its own scrapes; only where the two spans of scrapes overlap
    // must the values agree (a load average or a CPU counter that changed between one scraper's
    // visits and the other's is constant in both windows, at two values).
    const [p0, p1] = prom.spans.get(key);
    const [s0, s1] = ours.spans.get(key);
    if (p1 < s0 || s1 < p0) continue;
    compared += 1;
    const a = values[0], b = mine[0];
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) mismatches.push(`${key}: Prometheus ${a}, stackhouse ${b}`);
  }
  assert.deepEqual(mismatches, []);
  assert.ok(compared > 20, `only ${compared} series were constant`);
  for (const key of ['e2e_fixed_gauge{instance="127.0.0.1:' + nodeExporterPort + '",job="node",kind="a"}',
    'e2e_fixed_total{instance="127.0.0.1:' + nodeExporterPort + '",job="node"}',
    'up{instance="127.0.0.1:' + nodeExporterPort + '",job="node"}']) {
    assert.ok(ours.has(key), `stackhouse lacks ${key}`);
  }
});

test('scrape targets API: state per target', { skip: !available && 'prometheus or node-exporter not installed' }, async () => {
  const r = await fetch(`${server.apiUrl}/api/v1/scrape/targets`, { headers: server.authHeaders() });
  assert.equal(r.status, 200);
  const body = await r.json();
  const targets = body.data.activeTargets;
  assert.deepEqual(targets.map((t) => t.scrapePool), ['node', 'fixture']);
  for (const t of targets) {
    assert.equal(t.health, 'up', `${t.scrapePool}: ${t.lastError}`);
    assert.ok(t.lastScrapeDuration > 0);
  }
  const unauthenticated = await fetch(`${server.apiUrl}/api/v1/scrape/targets`);
  assert.equal(unauthenticated.status, 401);
});

test('OpenMetrics fixture: exemplars, _created, units and info in stored rows', { skip: !available && 'prometheus or node-exporter not installed' }, async () => {
  assert.match(fixtureAccept, /^application\/openmetrics-text;version=1\.0\.0/);
  const sums = await server.sqlObjects(
    `SELECT MetricName, Attributes, Value, IsMonotonic, toUnixTimestamp64Nano(StartTimeUnix) AS start,
            \`Exemplars.TraceId\` AS traceIds, \`Exemplars.SpanId\` AS spanIds,
            \`Exemplars.FilteredAttributes\` AS exAttrs, \`Exemplars.Value\` AS exValues,
            toString(\`Exemplars.TimeUnix\`) AS exTimes
     FROM otel.otel_metrics_sum WHERE ServiceName = 'fixture' AND Flags = 0 ORDER BY TimeUnix DESC LIMIT 2 BY MetricName`);
  const orders = sums.find((r) => r.MetricName === 'orders_total');
  assert.ok(orders, JSON.stringify(sums));
  assert.equal(orders.Value, 42);
  assert.equal(orders.IsMonotonic, true);
  assert.deepEqual(orders.Attributes, { shop: 'north', env: 'e2e' });
  assert.equal(String(orders.start), '1700000000250000000');
  assert.deepEqual(orders.traceIds, ['4bf92f3577b34da6a3ce929d0e0e4736']);
  assert.deepEqual(orders.spanIds, ['00f067aa0ba902b7']);
  assert.deepEqual(orders.exAttrs, [{ user: 'u1' }]);
  assert.deepEqual(orders.exValues, [1]);
  assert.match(orders.exTimes, /2023-11-14 22:13:20\.5/);
  const info = sums.find((r) => r.MetricName === 'build_info');
  assert.ok(info);
  assert.equal(info.IsMonotonic, false);
  assert.deepEqual(info.Attributes, { version: '1.2.3', env: 'e2e' });

  const [h] = await server.sqlObjects(
    `SELECT MetricName, MetricUnit, Count, Sum, BucketCounts, ExplicitBounds, toUnixTimestamp64Nano(StartTimeUnix) AS start,
            \`Exemplars.TraceId\` AS traceIds, \`Exemplars.Value\` AS exValues
     FROM otel.otel_metrics_histogram WHERE ServiceName = 'fixture' AND Flags = 0 ORDER BY TimeUnix DESC LIMIT 1`);
  assert.equal(h.MetricName, 'latency_seconds');
  assert.equal(h.MetricUnit, 'seconds');
  assert.equal(String(h.Count), '8');
  assert.equal(h.Sum, 4.5);
  assert.deepEqual(h.BucketCounts.map(Number), [3, 4, 1]);
  assert.deepEqual(h.ExplicitBounds, [0.1, 1]);
  assert.equal(String(h.start), '1700000100000000000');
  assert.deepEqual(h.traceIds, ['0af7651916cd43dd8448eb211c80319c']);
  assert.deepEqual(h.exValues, [0.05]);
});

test('OpenMetrics fixture: a series gone from the scrape gets one stale point', { skip: !available && 'prometheus or node-exporter not installed' }, async () => {
  // Two values, then Prometheus's stale NaN (bit for bit) with Flags = 1 (no recorded value), at
  // the first scrape without it, and nothing after.
  const query = `SELECT Flags, reinterpretAsUInt64(Value) AS bits, Value, Attributes,
                        toUnixTimestamp64Nano(TimeUnix) AS t
                 FROM otel.otel_metrics_gauge
                 WHERE ServiceName = 'fixture' AND MetricName = 'e2e_departing' ORDER BY TimeUnix`;
  let rows = [];
  for (let i = 0; i < 50; i++) {
    rows = await server.sqlObjects(query);
    if (rows.length >= 3) break;
    await sleep(200);
  }
  assert.equal(rows.length, 3, JSON.stringify(rows));
  assert.deepEqual(rows.map((r) => r.Flags), [0, 0, 1]);
  assert.deepEqual(rows.slice(0, 2).map((r) => r.Value), [1, 1]);
  assert.equal(String(rows[2].bits), String(0x7ff0000000000002n));
  for (const r of rows) assert.deepEqual(r.Attributes, { phase: 'start', env: 'e2e' });
  assert.ok(BigInt(rows[2].t) > BigInt(rows[1].t));
  assert.ok(fixtureScrapes > 3, `${fixtureScrapes} scrapes`);
});
