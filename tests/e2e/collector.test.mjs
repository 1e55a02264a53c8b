// The collector role: `stackhouse collector`, and `stackhouse run` with clickstack.enabled: false,
// in front of a remote ClickHouse (the ClickHouse stand-in: ClickHouse's HTTP interface with every
// statement run by the real engine). The official OpenTelemetry JS SDK sends spans, logs and every
// metric kind over OTLP/HTTP; each row must arrive in the stand-in exactly once and equal what was
// sent (the SDK test's value-by-value checks, read through the stand-in). Each role also must:
// open no embedded store (no store files in its data directory, only the queue; none of the
// engine's threads), serve no UI (its port is not listening), serve the admin port, scrape itself
// into the remote ClickHouse like any source, send nothing twice when restarted on its data
// directory, and refuse to start with nothing to send to.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/collector.test.mjs
//   (env STACKHOUSE_BIN, STANDIN_BIN)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { startServer, defaultBin, freePort } from './lib/server.mjs';
import { startClickhouseStandin } from './lib/standin.mjs';
import {
  sendAll, storedRowTests, assertExportsSucceeded, otlpHttpTransport, TIMEOUT,
} from './lib/sdk-scenario.mjs';

const CH_USER = 'ingest';
const CH_PASSWORD = 'collector-e2e-password';
// Threads of the embedded engine and of the query/UI side, as `stackhouse run` has them: none may
// run in the collector role.
const NOT_IN_A_COLLECTOR = ['ThreadPool', 'MergeMutate', 'MemoryWorker', 'BgSchPool', 'PoolDelayExec', 'Move',
  'Fetch', 'Common', 'api-io-0', 'api-auth', 'alert-eval', 'alert-notify', 'disk-budget', 'query-0', 'query-watch',
  'search-tail'];

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'collector-e2e-'));
const secretsDir = path.join(workDir, 'secrets');
fs.mkdirSync(path.join(secretsDir, 'clickhouse'), { recursive: true });
fs.writeFileSync(path.join(secretsDir, 'clickhouse', 'password'), `${CH_PASSWORD}\n`);
let standin;

before(async () => {
  const dir = path.join(workDir, 'standin');
  fs.mkdirSync(dir);
  standin = await startClickhouseStandin({ dir, user: CH_USER, password: CH_PASSWORD });
}, { timeout: 90_000 });

after(async () => {
  await standin?.stop();
  if (!process.env.STACKHOUSE_E2E_KEEP) fs.rmSync(workDir, { recursive: true, force: true });
});

function connects(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

const TABLES = ['otel_logs', 'otel_traces', 'otel_metrics_gauge', 'otel_metrics_sum', 'otel_metrics_histogram',
  'otel_metrics_exponential_histogram', 'otel_metrics_summary'];

async function waitForTables() {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const [r] = await standin.sqlObjects(
      "SELECT count() AS n FROM system.tables WHERE database = 'otel' AND has({tables:Array(String)}, name)",
      { tables: `[${TABLES.map((t) => `'${t}'`).join(',')}]` });
    if (Number(r.n) === TABLES.length) return;
    if (Date.now() > deadline) throw new Error(`the remote tables were not created within 15 s (${r.n} of ${TABLES.length})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// Waits until a sample of `server`'s own /metrics (job "stackhouse", instance: its admin
// listener) is in the remote ClickHouse.
async function waitForSelfScrape(server) {
  const instance = new URL(server.adminUrl).host;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const [r] = await standin.sqlObjects(
      `SELECT count() AS n FROM otel.otel_metrics_gauge
        WHERE ServiceName = 'stackhouse' AND MetricName = 'stackhouse_process_resident_memory_bytes'
          AND ResourceAttributes['service.instance.id'] = {instance:String}`,
      { instance });
    if (Number(r.n) > 0) return;
    assert.ok(Date.now() < deadline, `no self-scraped sample of ${instance} in the remote ClickHouse within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function collectorConfig({ clickstackEnabled, uiPort, endpoint }) {
  return `clickstack:
  enabled: ${clickstackEnabled}
  secretsDir: "${secretsDir}"
  hyperdx: {listen: "127.0.0.1:${uiPort}"}
prometheusScrape: {enabled: true, self: true, scrapeInterval: 1s}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
${endpoint ? `  exporters:
    clickhouse:
      endpoint: "${endpoint}"
      username: ${CH_USER}
      existingSecret: clickhouse
      secretKey: password
` : ''}`;
}

const ROLES = [
  { name: 'stackhouse collector', command: 'collector', clickstackEnabled: true,
    flavour: { name: 'collector-proto-gzip', proto: true, gzip: true, delta: true } },
  { name: 'stackhouse run with clickstack.enabled: false', command: 'run', clickstackEnabled: false,
    flavour: { name: 'run-disabled-json', proto: false, gzip: false, delta: false } },
];

for (const role of ROLES) {
  describe(role.name, () => {
    const ctx = { server: null, sent: null };
    let server;
    let uiPort;

    before(async () => {
      uiPort = await freePort();  // the UI's, which the collector must leave alone
      server = await startServer({
        command: role.command,
        name: role.command,
        config: collectorConfig({ clickstackEnabled: role.clickstackEnabled, uiPort, endpoint: standin.url }),
      });
      const transport = otlpHttpTransport(() => server.otlpUrl);
      ctx.sent = await sendAll(role.flavour, transport);
      // The sink creates the remote tables at its first write (createSchema); the row checks
      // read them once they are there.
      await waitForTables();
      ctx.server = standin;  // the stored rows are read from the remote ClickHouse
    }, TIMEOUT);

    after(async () => { await server?.cleanup(); });

    test('every export succeeded', () => {
      assertExportsSucceeded(ctx.sent.spanExporter, 'traces');
      assertExportsSucceeded(ctx.sent.logExporter, 'logs');
      assertExportsSucceeded(ctx.sent.metricExporter, 'metrics');
      assert.equal(ctx.sent.hand.status, 200, `hand-written metrics request: HTTP ${ctx.sent.hand.status} ${ctx.sent.hand.text}`);
    });

    // Every row in the remote ClickHouse, once, equal to what was sent.
    storedRowTests(ctx);

    test('no embedded store: the data directory holds the queue and nothing of a store', async () => {
      const entries = fs.readdirSync(server.dataDir).sort();
      assert.ok(entries.includes('queue'), `no queue in ${JSON.stringify(entries)}`);
      for (const e of entries) {
        assert.ok(['queue', 'request-ledger', 'redaction-hmac.key'].includes(e),
          `unexpected entry ${e} in the collector's data directory: ${JSON.stringify(entries)}`);
      }
      assert.deepEqual(fs.readdirSync(path.join(server.dataDir, 'queue')), ['clickhouse'],
        'one queue, the remote clickhouse sink\'s');
      const threads = fs.readdirSync(`/proc/${server.pid}/task`)
        .map((t) => fs.readFileSync(`/proc/${server.pid}/task/${t}/comm`, 'utf8').trim());
      for (const name of NOT_IN_A_COLLECTOR) {
        assert.ok(!threads.includes(name), `thread ${name} runs in the collector role: ${JSON.stringify(threads)}`);
      }
      assert.ok(threads.includes('sink-clickhouse'), `no clickhouse sink worker: ${JSON.stringify(threads)}`);
    });

    test('no UI or query API: its port is not listening', async () => {
      assert.equal(server.apiUrl, null, 'an API listener was announced');
      assert.equal(await connects(uiPort), false, `something listens on the UI port ${uiPort}`);
    });

    test('the admin port serves /healthz, /readyz and the sink\'s metrics', async () => {
      for (const p of ['/healthz', '/readyz']) {
        const r = await fetch(`${server.adminUrl}${p}`);
        await r.arrayBuffer();
        assert.equal(r.status, 200, `${p}: HTTP ${r.status}`);
      }
      const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
      const inserts = text.match(/^stackhouse_sink_clickhouse_remote_inserts_total(?:\{[^}]*\})? (\d+)/m);
      assert.ok(inserts && Number(inserts[1]) > 0, 'stackhouse_sink_clickhouse_remote_inserts_total is not above 0');
    });

    test('its own metrics (prometheusScrape.self) reach the remote ClickHouse like any source', async () => {
      await waitForSelfScrape(server);
    });

    test('restarted on its data directory, it sends nothing twice', async () => {
      const count = async () => {
        const [r] = await standin.sqlObjects(
          `SELECT (SELECT count() FROM otel.otel_traces WHERE ServiceName = {svc:String}) AS t,
                  (SELECT count() FROM otel.otel_logs WHERE ServiceName = {svc:String}) AS l,
                  (SELECT count() FROM otel.otel_metrics_sum WHERE ServiceName = {svc:String}) AS m`,
          { svc: ctx.sent.svc });
        return `${r.t}/${r.l}/${r.m}`;
      };
      const before = await count();
      await server.restart();
      // A sample of the restarted process (a new admin port, so a new instance) has gone through
      // the same queue and worker after whatever the restart could have sent again.
      await waitForSelfScrape(server);
      assert.equal(await count(), before, 'rows (traces/logs/sums) after the restart');
    });
  });
}

test('with nothing to send to, the collector refuses to start and creates nothing', { timeout: 30_000 }, async () => {
  const dir = path.join(workDir, 'refused');
  fs.mkdirSync(dir);
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, collectorConfig({ clickstackEnabled: true, uiPort: await freePort(), endpoint: null }));
  const dataDir = path.join(dir, 'data');
  const child = spawn(defaultBin(), ['collector', '--config', configPath, '--data-dir', dataDir],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('still running after 20 s'); }, 20_000);
    child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  assert.equal(code, 2, `exit code; output:\n${output}`);
  assert.match(output, /nothing to send to: .*otelConfig\.exporters\.clickhouse\.endpoint/, output);
  assert.equal(fs.existsSync(dataDir), false, 'the refused collector created its data directory');
});
