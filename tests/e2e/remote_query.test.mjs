// `stackhouse run` with a remote ClickHouse (otelConfig.exporters.clickhouse.endpoint: the
// ClickHouse stand-in, ClickHouse's HTTP interface with every statement run by the real engine):
// the sink writes there and the query API reads there. The official OpenTelemetry JS SDK sends
// spans, logs and every metric kind; every row is then read back through POST /api/v1/sql (the
// SDK test's value-by-value checks) and the logs through the search API, and those reads are shown
// to be the remote's: the stand-in ran them (readonly, with the query bounds as settings and the
// values as query parameters), while the embedded store, read after the server stopped, holds none
// of the rows. A refused query (a file read) never reaches the stand-in: the embedded engine parses
// and checks every text first.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/remote_query.test.mjs
//   (env STACKHOUSE_BIN, STANDIN_BIN)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startServer, defaultBin } from './lib/server.mjs';
import { startClickhouseStandin } from './lib/standin.mjs';
import { sendAll, storedRowTests, assertExportsSucceeded, otlpHttpTransport, TIMEOUT } from './lib/sdk-scenario.mjs';

const CH_USER = 'reader';
const CH_PASSWORD = 'remote-query-e2e-password';
const DATABASE = 'telemetry_e2e';

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'remote-query-e2e-'));
const secretsDir = path.join(workDir, 'secrets');
fs.mkdirSync(path.join(secretsDir, 'clickhouse'), { recursive: true });
fs.writeFileSync(path.join(secretsDir, 'clickhouse', 'password'), `${CH_PASSWORD}\n`);

let standin;
let server;
const ctx = { server: null, sent: null };

before(async () => {
  const dir = path.join(workDir, 'standin');
  fs.mkdirSync(dir);
  standin = await startClickhouseStandin({ dir, user: CH_USER, password: CH_PASSWORD });
  server = await startServer({
    name: 'remote-query',
    config: `clickstack:
  secretsDir: "${secretsDir}"
  hyperdx: {listen: "127.0.0.1:0"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
  exporters:
    clickhouse:
      endpoint: "${standin.url}"
      database: ${DATABASE}
      username: ${CH_USER}
      existingSecret: clickhouse
      secretKey: password
`,
  });
  ctx.sent = await sendAll({ name: 'remote-query-proto', proto: true, gzip: false, delta: false },
    otlpHttpTransport(() => server.otlpUrl));
  // The sink creates the remote tables at its first write (createSchema).
  const tables = ['otel_logs', 'otel_traces', 'otel_metrics_gauge', 'otel_metrics_sum', 'otel_metrics_histogram',
    'otel_metrics_exponential_histogram', 'otel_metrics_summary'];
  const deadline = Date.now() + 15_000;
  for (;;) {
    const [r] = await standin.sqlObjects(
      'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND has({tables:Array(String)}, name)',
      { db: DATABASE, tables: `[${tables.map((t) => `'${t}'`).join(',')}]` });
    if (Number(r.n) === tables.length) break;
    if (Date.now() > deadline) throw new Error(`the remote tables were not created within 15 s (${r.n} of ${tables.length})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  ctx.server = server;  // every stored row is read back through stackhouse's own SQL API
}, { timeout: 120_000 });

after(async () => {
  await server?.cleanup();
  await standin?.stop();
  if (!process.env.STACKHOUSE_E2E_KEEP) fs.rmSync(workDir, { recursive: true, force: true });
});

test('every export succeeded', () => {
  assertExportsSucceeded(ctx.sent.spanExporter, 'traces');
  assertExportsSucceeded(ctx.sent.logExporter, 'logs');
  assertExportsSucceeded(ctx.sent.metricExporter, 'metrics');
});

// Through POST /api/v1/sql: every row once, equal to what was sent.
storedRowTests(ctx);

test('the API\'s reads ran on the remote: readonly, bounded, values as query parameters', TIMEOUT, async () => {
  const before = (await standin.stats()).statements;
  const rows = await server.sqlObjects(
    'SELECT count() AS n FROM otel_logs WHERE ServiceName = {svc:String}', { svc: ctx.sent.svc });
  assert.equal(Number(rows[0].n), ctx.sent.logs.length, 'logs counted through the API');
  assert.ok((await standin.stats()).statements > before, 'the stand-in ran no statement for the API query');
  const ran = (await standin.executed()).filter((s) => s.startsWith('SELECT count() AS n FROM otel_logs WHERE ServiceName = {svc:String}'));
  assert.equal(ran.length, 1, `the API query as the stand-in ran it: ${JSON.stringify(ran)}`);
  for (const setting of ["readonly = '1'", "max_execution_time = '", "max_memory_usage = '", "result_overflow_mode = 'throw'"]) {
    assert.ok(ran[0].includes(setting), `${setting} not in ${ran[0]}`);
  }
  assert.ok(!ran[0].includes(ctx.sent.svc), `the parameter's value was spliced into the SQL: ${ran[0]}`);
});

test('the search API reads the remote', TIMEOUT, async () => {
  const before = (await standin.stats()).statements;
  const res = await fetch(`${server.apiUrl}/api/v1/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.authHeaders() },
    body: JSON.stringify({ source: 'logs', mode: 'sql', query: `ServiceName = '${ctx.sent.svc}'`,
      from: Date.now() - 6 * 3600_000, to: Date.now() + 3600_000, limit: 500 }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  const found = JSON.stringify(body);
  const plain = ctx.sent.logs.filter((l) => typeof l.body === 'string' && /^[a-z :=0-9]+$/.test(l.body));
  assert.ok(plain.length >= 3, 'test bug: the scenario has no plain text bodies');
  for (const log of plain) assert.ok(found.includes(log.body), `log ${JSON.stringify(log.body)} not found by the search API: ${text.slice(0, 500)}`);
  assert.ok((await standin.stats()).statements > before, 'the stand-in ran no statement for the search');
});

async function api(pathname, body) {
  const res = await fetch(`${server.apiUrl}${pathname}`, body === undefined ? { headers: server.authHeaders() } : {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.authHeaders() },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: (() => { try { return JSON.parse(text); } catch { return null; } })() };
}

test('the SQL API: the logical name, the real one and unqualified names read the remote database', TIMEOUT, async () => {
  const forms = ['otel.otel_logs', `${DATABASE}.otel_logs`, `\`${DATABASE}\`.otel_logs`, 'otel_logs', '"otel"."otel_logs"'];
  for (const table of forms) {
    const rows = await server.sqlObjects(`SELECT count() AS n FROM ${table} WHERE ServiceName = {svc:String}`, { svc: ctx.sent.svc });
    assert.equal(Number(rows[0].n), ctx.sent.logs.length, `${table}: logs counted`);
  }
  const ran = (await standin.executed()).filter((s) => s.includes('count() AS n FROM') && s.includes('otel_logs WHERE ServiceName'));
  assert.ok(ran.some((s) => s.includes(`\`${DATABASE}\`.otel_logs`)), `otel.otel_logs ran as ${DATABASE}.otel_logs: ${JSON.stringify(ran)}`);
  assert.ok(!ran.some((s) => s.includes('otel.otel_logs')), `otel. reached the remote: ${JSON.stringify(ran)}`);
  // A string that looks like a table name is left alone.
  const [lit] = await server.sqlObjects("SELECT 'otel.otel_logs' AS s, count() AS n FROM otel.otel_traces WHERE ServiceName = {svc:String}", { svc: ctx.sent.svc });
  assert.equal(lit.s, 'otel.otel_logs');
  assert.ok(Number(lit.n) > 0);
  // The schema views, made on the remote by the sink, cut to this database.
  const tables = await server.sqlObjects('SELECT name FROM stackhouse.tables ORDER BY name');
  assert.ok(tables.some((t) => t.name === 'otel_logs'), `stackhouse.tables: ${JSON.stringify(tables)}`);
  const columns = await server.sqlObjects("SELECT name, type FROM stackhouse.columns WHERE table = 'otel_logs' AND name = 'Body'");
  assert.deepEqual(columns, [{ name: 'Body', type: 'String' }]);
  const show = await api('/api/v1/sql', { query: 'SHOW CREATE TABLE otel.otel_traces' });
  assert.equal(show.status, 200, show.text);
  assert.ok(show.text.includes(`${DATABASE}.otel_traces`), show.text.slice(0, 300));
  const describe = await server.sqlObjects('DESCRIBE TABLE otel.otel_logs');
  assert.ok(describe.some((c) => c.name === 'Body'), JSON.stringify(describe).slice(0, 300));
});

test('the SQL API on the remote: other databases and table functions stay out of reach', TIMEOUT, async () => {
  const refused = ["SELECT 'refused-1' AS m, * FROM system.tables", "SELECT 'refused-2' AS m, * FROM default.otel_logs",
    "SELECT 'refused-3' AS m, * FROM `otel.otel_logs`", "SELECT 'refused-4' AS m, * FROM remote('127.0.0.1', 'otel', 'otel_logs')",
    "SELECT 'refused-5' AS m FROM otel_logs WHERE 1 IN system.one", "SELECT 'refused-6' AS m FROM `otel`.otel_logs AS l, system.tables AS t",
    'SHOW CREATE TABLE system.tables', 'SHOW CREATE TABLE default.otel_logs'];
  for (const query of refused) {
    const r = await api('/api/v1/sql', { query });
    assert.equal(r.status, 403, `${query}: HTTP ${r.status} ${r.text}`);
  }
  const executed = await standin.executed();
  assert.ok(!executed.some((s) => s.includes('refused-') || s.startsWith('SHOW CREATE TABLE system') || s.startsWith('SHOW CREATE TABLE default')),
    'a refused query reached the stand-in');
});

test('a trace and a metrics chart read the remote database', TIMEOUT, async () => {
  const [top] = await server.sqlObjects(
    'SELECT TraceId, count() AS n FROM otel.otel_traces WHERE ServiceName = {svc:String} GROUP BY TraceId ORDER BY n DESC, TraceId LIMIT 1',
    { svc: ctx.sent.svc });
  const trace = await api(`/api/v1/traces/${top.TraceId}`);
  assert.equal(trace.status, 200, trace.text);
  assert.equal(trace.body.traceId, top.TraceId);
  assert.equal(trace.body.spans.length, Number(top.n), trace.text.slice(0, 300));
  const chart = await api('/api/v1/metrics/query', { metric: 'e2e.temperature', groupBy: ['room'],
    from: Date.now() - 3600_000, to: Date.now() + 60_000 });
  assert.equal(chart.status, 200, chart.text);
  const byRoom = Object.fromEntries(chart.body.series.map((s) => [s.labels.room, s.points.map((p) => Number(p[1]))]));
  assert.deepEqual(byRoom, { a: [21.5], b: [-3.25] }, chart.text.slice(0, 500));
  const ran = await standin.executed();
  assert.ok(ran.some((s) => s.includes(`\`${DATABASE}\`.otel_metrics_gauge`)), 'the chart did not run on the remote database');
  assert.ok(ran.some((s) => s.includes(`\`${DATABASE}\`.otel_traces`)), 'the trace did not run on the remote database');
});

test('a refused query never reaches the remote', TIMEOUT, async () => {
  for (const query of ["SELECT * FROM file('/etc/passwd', 'LineAsString')", "SELECT * FROM url('http://127.0.0.1:1/x', 'LineAsString')",
    'INSERT INTO otel_logs (Body) VALUES (1)', 'SELECT 1; SELECT 2']) {
    const res = await fetch(`${server.apiUrl}/api/v1/sql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...server.authHeaders() },
      body: JSON.stringify({ query }),
    });
    const text = await res.text();
    assert.ok(res.status === 400 || res.status === 403, `${query}: HTTP ${res.status} ${text}`);
  }
  const executed = await standin.executed();
  for (const needle of ['/etc/passwd', 'url(', 'SELECT 2']) {
    assert.ok(!executed.some((s) => s.includes(needle)), `${needle} reached the stand-in`);
  }
});

test('stackhouse sql with the remote config and no stack running reads the remote', TIMEOUT, async () => {
  await server.stop();
  const before = (await standin.stats()).statements;
  const r = spawnSync(defaultBin(), ['sql', '--config', server.configPath, '--data-dir', server.dataDir, '--json',
    `SELECT count() AS n FROM otel.otel_logs WHERE ServiceName = '${ctx.sent.svc}'`],
  { encoding: 'utf8', cwd: workDir, timeout: 60_000 });
  assert.equal(r.status, 0, `stackhouse sql: ${r.stdout}\n${r.stderr}`);
  assert.deepEqual(JSON.parse(r.stdout).rows, [[String(ctx.sent.logs.length)]], r.stdout);
  assert.ok((await standin.stats()).statements > before, 'the stand-in ran no statement');
  const ran = (await standin.executed()).filter((s) => s.startsWith('SELECT count() AS n FROM'));
  assert.ok(ran.some((s) => s.includes(`${DATABASE}.otel_logs`) && s.includes("readonly = '1'")),
    `the remote statement: ${JSON.stringify(ran.slice(-2))}`);
  // Refused before anything reaches the remote, as through the API.
  const refused = spawnSync(defaultBin(), ['sql', '--config', server.configPath, '--data-dir', server.dataDir,
    "SELECT * FROM url('http://127.0.0.1:1/x', 'LineAsString')"], { encoding: 'utf8', cwd: workDir, timeout: 60_000 });
  assert.equal(refused.status, 1, refused.stdout + refused.stderr);
  assert.ok(!(await standin.executed()).some((s) => s.includes("url('http://127.0.0.1:1")), 'url() reached the stand-in');
});

test('the embedded store holds none of the rows', TIMEOUT, async () => {
  await server.stop();
  const r = spawnSync(defaultBin(), ['sql', '--data-dir', server.dataDir, '--json',
    `SELECT (SELECT count() FROM otel.otel_logs) + (SELECT count() FROM otel.otel_traces) + (SELECT count() FROM otel.otel_metrics_sum) AS n`],
  { encoding: 'utf8', cwd: workDir, timeout: 60_000 });
  assert.equal(r.status, 0, `stackhouse sql: ${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.rows, [['0']], `rows in the embedded store: ${r.stdout}`);
});
