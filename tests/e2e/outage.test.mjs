// Remote sinks down for 60 s under steady load, then back (about 2 min of wall time, a third of
// one core: the clients are paced, not flat out).
//
// Processes:
//   A  `stackhouse run`: the embedded store, plus Tinybird and Datadog (logs routed to all three),
//      both pointed at one vendor-standin (tests/sinks/support/vendor_standin_main.cc: the two logs
//      intakes, checked strictly). Tinybird's queue keeps the default budget (2Gi); Datadog's is
//      the smallest there is (64Mi, onFull: dropOldest), which the outage overflows.
//   B  `stackhouse run` with the remote ClickHouse sink (otelConfig.exporters.clickhouse.endpoint)
//      pointed at clickhouse-standin (tests/sinks/clickhouse: ClickHouse's HTTP interface over the
//      embedded engine).
// Three paced clients per process send OTLP/JSON logs (every record carries its request id and
// its index). After a steady phase both stand-ins go down for 60 s (`/standin/down?seconds=60`),
// then come back on their own. Then:
//   - the embedded store of A kept ingesting: A's acknowledged rate during the outage is at least
//     0.8x the rate before it (the same for B, whose queue takes the rows), and rows acknowledged
//     during the outage are queryable in A while the outage lasts;
//   - every acknowledged record reaches Tinybird exactly once and the remote ClickHouse exactly
//     once (within their queue budgets: nothing lost), and A's store exactly once;
//   - Datadog's queue passed its budget: it dropped its oldest records (per client, the dropped
//     requests are a run of consecutive requests (at most three when the queue is still over
//     budget while it drains); the newest were delivered, once),
//     and stackhouse_queue_dropped_records_total{sink="datadog",reason="full"} on A's /metrics
//     equals exactly sent - delivered (one queue record per request), and
//     stackhouse_queue_dropped_rows_total the rows sent - the rows delivered.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/outage.test.mjs
//   (env STACKHOUSE_BIN, STANDIN_BIN (clickhouse-standin), VENDOR_STANDIN_BIN)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { StackhouseServer, repoRoot } from './lib/server.mjs';
import { postLogs } from './lib/otlp.mjs';

const CLIENTS = 3;                 // per process
const RECORDS = 40;                // per request
const PACE_MS = 200;               // one request per client every 200 ms
const STEADY_MS = 12_000;          // load before the outage
const OUTAGE_S = 60;
const AFTER_MS = 5_000;            // load after the stand-ins are back
const DELIVERY_DEADLINE_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
// A's records are large enough that the outage passes Datadog's 64Mi budget: 3 clients x 5
// requests/s x 40 records x ~3 KB = ~1.8 MB/s, ~110 MB in 60 s.
const PAD_A = 'a'.repeat(3000);
const PAD_B = 'b'.repeat(100);
const TINYBIRD_TOKEN = 'p.outage-test-append-token';
const DATADOG_KEY = '0123456789abcdef0123456789abcdef';
const CH_USER = 'ingest';
const CH_PASSWORD = 'outage-s3cret';
const RUN = `${process.pid}-${Date.now().toString(36)}`;

const buildDir = process.env.STACKHOUSE_BIN ? path.dirname(process.env.STACKHOUSE_BIN) : path.join(repoRoot, 'build');
const STANDIN_BIN = process.env.STANDIN_BIN || path.join(buildDir, 'tests/sinks/clickhouse/clickhouse-standin');
const VENDOR_BIN = process.env.VENDOR_STANDIN_BIN || path.join(buildDir, 'tests/sinks/vendor-standin');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];
const servers = [];
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-e2e-'));

after(async () => {
  for (const s of servers) await s.cleanup();
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  if (!process.env.STACKHOUSE_E2E_KEEP) fs.rmSync(workDir, { recursive: true, force: true });
});

// Starts a stand-in process and resolves with its port (its first stdout line, {"port":N}).
function startStandin(bin, args, name) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: workDir });
    children.push(child);
    const errors = [];
    readline.createInterface({ input: child.stderr }).on('line', (l) => {
      errors.push(l);
      if (process.env.STACKHOUSE_E2E_ECHO) process.stderr.write(`[${name}] ${l}\n`);
    });
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      // The engine may print first; the stand-in's line is {"port":N}.
      let ev;
      try { ev = JSON.parse(line); } catch { return; }
      if (Number.isInteger(ev?.port)) resolve(ev.port);
    });
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}): ${errors.join('\n')}`)));
    setTimeout(() => reject(new Error(`${name} did not start in 60 s`)), 60_000).unref();
  });
}

function configA(vendorUrl, secrets) {
  return `clickstack:
  hyperdx: {listen: "127.0.0.1:0"}
  secretsDir: "${secrets}"
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
  routing:
    logs: [clickhouse, tinybird, datadog]
  exporters:
    tinybird:
      enabled: true
      endpoint: "${vendorUrl}"
      existingSecret: tinybird
      secretKey: token
      timeout: 5s
    datadog:
      enabled: true
      endpoint: "${vendorUrl}"
      existingSecret: datadog
      secretKey: api-key
      timeout: 5s
      queue: {maxSize: 64Mi, onFull: dropOldest}
`;
}

function configB(chUrl, secrets) {
  return `clickstack:
  hyperdx: {listen: "127.0.0.1:0"}
  secretsDir: "${secrets}"
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
  exporters:
    clickhouse:
      endpoint: "${chUrl}"
      username: ${CH_USER}
      existingSecret: clickhouse
      secretKey: password
`;
}

function writeSecret(dir, name, key, value) {
  fs.mkdirSync(path.join(dir, name), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, name, key), value, { mode: 0o600 });
}

function makeRequest(svc, pad, client, n) {
  const id = `${svc}-c${client}-r${n}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  const logRecords = [];
  for (let i = 0; i < RECORDS; i++) {
    logRecords.push({
      timeUnixNano: String(now + BigInt(i)),
      severityNumber: 9,
      severityText: 'INFO',
      body: { stringValue: `outage ${id} ${i} ${pad}` },
      attributes: [
        { key: 'req', value: { stringValue: id } },
        { key: 'i', value: { stringValue: String(i) } },
      ],
    });
  }
  const body = Buffer.from(JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: svc } }] },
      scopeLogs: [{ scope: { name: 'e2e-outage' }, logRecords }],
    }],
  }));
  return { id, client, n, body, acked: false, ackedAt: 0 };
}

// A paced client: one request every PACE_MS (or as soon as the previous one is answered, when that
// takes longer, without bursts to catch up). Retries a request that was not acknowledged with the
// same bytes.
async function client(server, svc, pad, c, sent, state) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let n = 0;
  let next = Date.now();
  try {
    while (!state.stopping) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      // No catching up after a slow answer: a slowed server shows as a lower rate.
      next = Math.max(next, Date.now()) + PACE_MS;
      const req = makeRequest(svc, pad, c, n++);
      sent.push(req);
      for (let attempt = 0; !req.acked && attempt < 10; attempt++) {
        const r = await postLogs(server.otlpUrl, req.body, agent, REQUEST_TIMEOUT_MS);
        if (r.status === 200) {
          req.acked = true;
          req.ackedAt = Date.now();
        } else {
          state.failures.push(`${req.id}: ${r.status ?? r.error} ${(r.text ?? '').slice(0, 200)}`);
          await sleep(200);
        }
      }
    }
  } finally {
    agent.destroy();
  }
}

function ackedIn(sent, from, to) {
  return sent.filter((r) => r.acked && r.ackedAt >= from && r.ackedAt < to).length;
}

async function vendorDelivered(url) {
  const r = await fetch(`${url}/standin/delivered`);
  assert.equal(r.status, 200);
  return r.json();
}

async function clickhouseQuery(url, sql) {
  const r = await fetch(`${url}/?query=${encodeURIComponent(sql)}`, {
    headers: { 'X-ClickHouse-User': CH_USER, 'X-ClickHouse-Key': CH_PASSWORD },
  });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return text;
}

// req -> [rows, distinct i] in the remote ClickHouse, for service `svc`.
async function clickhouseDelivered(url, svc) {
  const text = await clickhouseQuery(url,
    `SELECT LogAttributes['req'], count(), uniqExact(LogAttributes['i']) FROM otel.otel_logs ` +
    `WHERE ServiceName = '${svc}' GROUP BY 1 FORMAT TSV`);
  const out = {};
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [req, rows, distinct] = line.split('\t');
    out[req] = [Number(rows), Number(distinct)];
  }
  return out;
}

async function storedIn(server, svc) {
  const { rows } = await server.sql(
    'SELECT LogAttributes[\'req\'] AS req, count() AS n, uniqExact(LogAttributes[\'i\']) AS d ' +
    'FROM otel.otel_logs WHERE ServiceName = {svc:String} GROUP BY req', { svc });
  const out = {};
  for (const [req, n, d] of rows) out[req] = [Number(n), Number(d)];
  return out;
}

async function metricValue(server, name, labels) {
  const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!labels.every((l) => line.includes(l))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  assert.ok(found, `${name} ${labels.join(',')} is not on /metrics`);
  return total;
}

// Every acknowledged request delivered exactly once (all its rows, no row twice); unacknowledged
// ones at most once; nothing that was not sent.
function assertExactlyOnce(where, delivered, sent) {
  const byId = new Map(sent.map((r) => [r.id, r]));
  const problems = [];
  for (const [id, [rows, distinct]] of Object.entries(delivered)) {
    const r = byId.get(id);
    if (!r) problems.push(`${id}: never sent`);
    else if (rows !== RECORDS || distinct !== RECORDS) problems.push(`${id}: ${rows} rows, ${distinct} distinct`);
  }
  for (const r of sent) {
    if (r.acked && !delivered[r.id]) problems.push(`${r.id}: acknowledged, not delivered`);
  }
  assert.deepEqual(problems.slice(0, 20), [], `${where}: ${problems.length} problems`);
}

async function until(what, deadlineMs, check) {
  const end = Date.now() + deadlineMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last === true) return;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) assert.fail(`${what} within ${deadlineMs / 1000} s: ${last}`);
    await sleep(1000);
  }
}

test('Tinybird, Datadog and a remote ClickHouse down for 60 s: nothing lost within budget, ingest unaffected, the excess counted exactly', { timeout: 300_000 }, async () => {
  for (const bin of [STANDIN_BIN, VENDOR_BIN]) assert.ok(fs.existsSync(bin), `${bin} is missing (build it)`);
  const secrets = path.join(workDir, 'secrets');
  writeSecret(secrets, 'tinybird', 'token', TINYBIRD_TOKEN);
  writeSecret(secrets, 'datadog', 'api-key', DATADOG_KEY);
  writeSecret(secrets, 'clickhouse', 'password', CH_PASSWORD);

  const [vendorPort, chPort] = await Promise.all([
    startStandin(VENDOR_BIN, ['--key', 'req', '--tinybird-token', TINYBIRD_TOKEN, '--datadog-key', DATADOG_KEY], 'vendor-standin'),
    startStandin(STANDIN_BIN, ['--data', path.join(workDir, 'ch'), '--user', CH_USER, '--password', CH_PASSWORD], 'clickhouse-standin'),
  ]);
  const vendorUrl = `http://127.0.0.1:${vendorPort}`;
  const chUrl = `http://127.0.0.1:${chPort}`;
  const a = new StackhouseServer({ name: 'outage-a', config: configA(vendorUrl, secrets) });
  const b = new StackhouseServer({ name: 'outage-b', config: configB(chUrl, secrets) });
  servers.push(a, b);
  await Promise.all([a.start(), b.start()]);

  const svcA = `outage-a-${RUN}`;
  const svcB = `outage-b-${RUN}`;
  const sentA = [];
  const sentB = [];
  const state = { stopping: false, failures: [] };
  const clients = [];
  for (let c = 0; c < CLIENTS; c++) {
    clients.push(client(a, svcA, PAD_A, c, sentA, state));
    clients.push(client(b, svcB, PAD_B, c, sentB, state));
  }

  const t0 = Date.now();
  await sleep(STEADY_MS);
  const down = await Promise.all([
    fetch(`${vendorUrl}/standin/down?seconds=${OUTAGE_S}`, { method: 'POST' }),
    fetch(`${chUrl}/standin/down?seconds=${OUTAGE_S}`, { method: 'POST' }),
  ]);
  for (const r of down) assert.equal(r.status, 200);
  const tDown = Date.now();
  const tUp = tDown + OUTAGE_S * 1000;

  // While the outage lasts: what A acknowledged up to 45 s into it is queryable in its store.
  await sleep(45_000);
  const mark = Date.now();
  const ackedByMark = sentA.filter((r) => r.acked && r.ackedAt < mark);
  await until('A\'s store holds what it acknowledged during the outage', tUp - 1000 - Date.now(), async () => {
    const stored = await storedIn(a, svcA);
    const missing = ackedByMark.filter((r) => !stored[r.id]).length;
    return missing === 0 || `${missing} of ${ackedByMark.length} requests not yet queryable`;
  });
  assert.ok(Date.now() < tUp, 'A\'s store caught up only after the outage');

  await sleep(Math.max(0, tUp - Date.now()) + AFTER_MS);
  state.stopping = true;
  await Promise.all(clients);

  // Rates: acknowledged requests per second before and during the outage, same clients, same pace.
  const rate = (sent, from, to) => ackedIn(sent, from, to) / ((to - from) / 1000);
  const figures = {};
  for (const [name, sent] of [['A', sentA], ['B', sentB]]) {
    const before = rate(sent, t0 + 2000, tDown);
    const during = rate(sent, tDown + 1000, tUp - 1000);
    figures[name] = { before: before.toFixed(2), during: during.toFixed(2), ratio: (during / before).toFixed(3) };
    assert.ok(during >= 0.8 * before, `${name}: ${during.toFixed(2)} req/s acknowledged during the outage against ${before.toFixed(2)} before`);
  }
  console.log(`acknowledged requests/s (A: embedded + vendors, B: remote ClickHouse): ${JSON.stringify(figures)}`);
  assert.deepEqual(state.failures.slice(0, 10), [], `${state.failures.length} requests not acknowledged at first`);

  // Delivery after recovery: Tinybird and the remote ClickHouse hold everything, exactly once;
  // Datadog holds what its budget kept.
  await until('every acknowledged record delivered to Tinybird and the remote ClickHouse', DELIVERY_DEADLINE_MS, async () => {
    const tb = (await vendorDelivered(vendorUrl)).tinybird;
    const ch = await clickhouseDelivered(chUrl, svcB);
    const tbMissing = sentA.filter((r) => r.acked && !(tb[r.id]?.[0] >= RECORDS)).length;
    const chMissing = sentB.filter((r) => r.acked && !(ch[r.id]?.[0] >= RECORDS)).length;
    return (tbMissing === 0 && chMissing === 0) || `tinybird misses ${tbMissing}, clickhouse ${chMissing}`;
  });
  const ackedA = sentA.filter((r) => r.acked);
  const droppedLabels = ['sink="datadog"', 'signal="logs"', 'reason="full"'];
  await until('Datadog: delivered + dropped = sent', DELIVERY_DEADLINE_MS, async () => {
    const dd = (await vendorDelivered(vendorUrl)).datadog;
    const dropped = await metricValue(a, 'stackhouse_queue_dropped_records_total', droppedLabels);
    const delivered = ackedA.filter((r) => dd[r.id]).length;
    return delivered + dropped === ackedA.length || `${delivered} delivered + ${dropped} dropped of ${ackedA.length}`;
  });
  await sleep(2000);  // anything sent twice would have arrived by now

  const vendor = await vendorDelivered(vendorUrl);
  assert.deepEqual(vendor.violations, [], 'the vendor stand-in found requests off the wire format');
  assertExactlyOnce('tinybird', vendor.tinybird, sentA);
  assertExactlyOnce('remote clickhouse', await clickhouseDelivered(chUrl, svcB), sentB);
  await until('A\'s store holds every acknowledged record', 30_000, async () => {
    const stored = await storedIn(a, svcA);
    const missing = ackedA.filter((r) => !stored[r.id]).length;
    return missing === 0 || `${missing} requests not yet queryable`;
  });
  assertExactlyOnce('embedded store', await storedIn(a, svcA), sentA);
  // Within their budgets, Tinybird's and the remote ClickHouse's queues dropped nothing.
  assert.equal(await metricValue(a, 'stackhouse_queue_dropped_records_total', ['sink="tinybird"']), 0);
  assert.equal(await metricValue(b, 'stackhouse_queue_dropped_records_total', ['sink="clickhouse"']), 0);

  // Datadog: the budget was passed, the oldest were dropped, the counter is exact.
  const dd = vendor.datadog;
  const dropped = await metricValue(a, 'stackhouse_queue_dropped_records_total', droppedLabels);
  const notDelivered = ackedA.filter((r) => !dd[r.id]);
  for (const [id, [rows, distinct]] of Object.entries(dd)) {
    assert.ok(rows === RECORDS && distinct === RECORDS, `datadog ${id}: ${rows} rows, ${distinct} distinct`);
  }
  assert.ok(dropped > 0, 'the outage did not pass Datadog\'s queue budget');
  assert.equal(dropped, notDelivered.length, 'stackhouse_queue_dropped_records_total{sink="datadog"} = sent - delivered');
  const deliveredRows = Object.values(dd).reduce((n, [rows]) => n + rows, 0);
  assert.equal(await metricValue(a, 'stackhouse_queue_dropped_rows_total', droppedLabels),
    ackedA.length * RECORDS - deliveredRows, 'stackhouse_queue_dropped_rows_total{sink="datadog"} = rows sent - rows delivered');
  const runs = [];
  for (let c = 0; c < CLIENTS; c++) {
    const mine = ackedA.filter((r) => r.client === c).sort((x, y) => x.n - y.n);
    const gone = mine.filter((r) => !dd[r.id]).map((r) => r.n);
    if (gone.length === 0) continue;
    // The oldest first: a run of consecutive requests, with delivered ones after it (the newest
    // are kept). It starts in the outage: the worker had sent everything older than its last
    // range before it (200 ms batches; 5 s of margin for a loaded machine). A drop takes the
    // oldest segment nothing of which has been read, so when the queue is still over its budget
    // while the worker drains it after the outage (a slow machine), the range being read is kept
    // and the next unread segment goes: a second or third run, with what was being read between.
    const spans = [];
    for (const n of gone) {
      if (spans.length && spans[spans.length - 1][1] === n - 1) spans[spans.length - 1][1] = n;
      else spans.push([n, n]);
    }
    assert.ok(spans.length <= 3, `client ${c}: dropped requests scattered in ${spans.length} runs: ` +
      `${spans.slice(0, 8).map(([x, y]) => `${x}-${y}`).join(', ')}`);
    assert.ok(gone[gone.length - 1] < mine[mine.length - 1].n, `client ${c}: its newest requests were dropped`);
    const first = mine.find((r) => r.n === gone[0]);
    const last = mine.find((r) => r.n === gone[gone.length - 1]);
    assert.ok(first.ackedAt >= tDown - 5000, `client ${c}: a request acknowledged ${tDown - first.ackedAt} ms before the outage was dropped`);
    runs.push(`client ${c}: ${gone.length} dropped in ${spans.length} run(s), acknowledged ${((first.ackedAt - tDown) / 1000).toFixed(1)} s to ${((last.ackedAt - tDown) / 1000).toFixed(1)} s into the outage`);
  }
  console.log(`datadog drops: ${runs.join('; ')}`);
  console.log(`datadog: ${ackedA.length} requests acknowledged, ${ackedA.length - dropped} delivered, ${dropped} dropped (oldest first); ` +
    `tinybird: ${Object.keys(vendor.tinybird).length} delivered; remote clickhouse: ${sentB.filter((r) => r.acked).length} delivered`);
});
