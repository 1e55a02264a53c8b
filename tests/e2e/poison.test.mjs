// Poison requests next to ordinary traffic. Three ordinary clients send logs, spans and metric
// points (OTLP/JSON and protobuf, keep-alive HTTP) for a while; meanwhile two more clients send,
// in a loop, over OTLP/HTTP in both encodings and over OTLP/gRPC, requests whose records carry times the store cannot hold or
// should not keep: 150 different days in one request, times of 1, INT64_MAX, UINT64_MAX, 300
// years and 2 hours ahead, spans ending before they start, without a start, with an end that
// overflows the duration or events ahead of time, metric points starting after their time,
// without a time, with exemplars ahead. Each poison request also holds a few good records.
//
// Everything here is found wrong by the receiver, so it is answered with an error (or a partial
// success): a request is acknowledged once its rows are in the sink's queue, and a record the
// engine refuses only later is dropped there, counted (stackhouse_queue_dropped_records_total
// {reason="refused"}) and logged, never answered (see src/pipeline/README.md).
//
// Then: the ordinary clients saw no failure at all; every poison request was answered 200 with a
// partial success whose rejected count and expired count are exactly the records not stored;
// everything acknowledged is stored (counted through POST /api/v1/sql), nothing more. A second
// server with `ttl: 0` (no retention) stores all 150 days and the time 1 as sent.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/poison.test.mjs   (env STACKHOUSE_BIN)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import grpc from '@grpc/grpc-js';

import { StackhouseServer, PORT0_CONFIG } from './lib/server.mjs';
import { encodeLogsRequest, encodeTraceRequest, encodeMetricsRequest, decodeExportResponse } from './lib/otlp.mjs';

const LOAD_MS = Number(process.env.E2E_POISON_LOAD_MS ?? 12_000);
const ORDINARY_CLIENTS = 3;
const REQUEST_TIMEOUT_MS = 30_000;
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const SVC_OK = `e2e-ordinary-${RUN}`;
const SVC_POISON = `e2e-poison-${RUN}`;
const NS = 1_000_000n;
const SECOND = 1_000_000_000n;
const HOUR = 3600n * SECOND;
const DAY = 24n * HOUR;
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

let server;
let unbounded;
after(async () => {
  await server?.cleanup();
  await unbounded?.cleanup();
});

const nowNs = () => BigInt(Date.now()) * NS;
let idSeq = 0;
const hexId = (bytes) => {
  idSeq += 1;
  return (BigInt(idSeq) + (BigInt(process.pid) << 32n)).toString(16).padStart(bytes * 2, '0').slice(-bytes * 2);
};

function post(baseUrl, path, body, contentType, agent) {
  return new Promise((resolve) => {
    const req = http.request(new URL(path, baseUrl), {
      method: 'POST', agent,
      headers: { 'content-type': contentType, 'content-length': String(body.length) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('no answer')));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

// The partial success of a 200 answer, in either encoding: {rejected, errorMessage}.
function partialSuccess(answer, json) {
  if (json) {
    const ps = JSON.parse(answer.body.toString('utf8')).partialSuccess ?? {};
    const rejected = ps.rejectedLogRecords ?? ps.rejectedSpans ?? ps.rejectedDataPoints ?? 0;
    return { rejected: Number(rejected), errorMessage: ps.errorMessage ?? '' };
  }
  return decodeExportResponse(answer.body);
}

// What the server says it dropped as past the retention ("N records were older than ...").
function expiredIn(message) {
  const m = /(\d+) records? (?:was|were) older than the retention/.exec(message);
  return m ? Number(m[1]) : 0;
}

const attrs = (obj) => Object.entries(obj).map(([key, v]) => ({ key, value: { stringValue: String(v) } }));
const resource = (svc) => ({ attributes: attrs({ 'service.name': svc }) });

// ---- requests, as {signal, path, json (the OTLP/JSON shape), records}

function logsRequest(svc, req, times) {
  return {
    resourceLogs: [{
      resource: resource(svc),
      scopeLogs: [{
        scope: { name: 'e2e-poison' },
        logRecords: times.map((t, i) => ({
          timeUnixNano: String(t), severityNumber: 9, severityText: 'INFO',
          body: { stringValue: `record ${i}` }, attributes: attrs({ req, i }),
        })),
      }],
    }],
  };
}

function spansRequest(svc, req, spans) {
  return {
    resourceSpans: [{
      resource: resource(svc),
      scopeSpans: [{
        scope: { name: 'e2e-poison' },
        spans: spans.map((s, i) => ({
          traceId: hexId(16), spanId: hexId(8), name: `op ${i}`, kind: 2,
          startTimeUnixNano: String(s.start), endTimeUnixNano: String(s.end),
          attributes: attrs({ req, i }),
          events: s.event !== undefined ? [{ timeUnixNano: String(s.event), name: 'e' }] : [],
        })),
      }],
    }],
  };
}

function metricsRequest(svc, req, points) {
  return {
    resourceMetrics: [{
      resource: resource(svc),
      scopeMetrics: [{
        scope: { name: 'e2e-poison' },
        metrics: [{
          name: 'e2e.poison.gauge',
          gauge: {
            dataPoints: points.map((p, i) => ({
              startTimeUnixNano: String(p.start ?? 0n), timeUnixNano: String(p.time), asDouble: i,
              attributes: attrs({ req, i }),
              exemplars: p.exemplar !== undefined ? [{ timeUnixNano: String(p.exemplar), asDouble: 1 }] : [],
            })),
          },
        }],
      }],
    }],
  };
}

const SIGNALS = {
  logs: { path: '/v1/logs', encode: encodeLogsRequest, method: '/opentelemetry.proto.collector.logs.v1.LogsService/Export' },
  traces: { path: '/v1/traces', encode: encodeTraceRequest, method: '/opentelemetry.proto.collector.trace.v1.TraceService/Export' },
  metrics: { path: '/v1/metrics', encode: encodeMetricsRequest, method: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export' },
};

// One unary OTLP/gRPC call with the request's bytes as they are: {code, details, body}.
function grpcCall(client, signal, body) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(SIGNALS[signal].method, (b) => b, (b) => b, body, { deadline: Date.now() + REQUEST_TIMEOUT_MS },
      (err, reply) => resolve(err ? { code: err.code, details: err.details } : { code: 0, body: reply }));
  });
}

function bodyOf(signal, json, asJson) {
  return asJson ? Buffer.from(JSON.stringify(json)) : SIGNALS[signal].encode(json);
}

// Each poison case: the request, how many of its records are stored (good), rejected and expired.
function poisonCases(req) {
  const now = nowNs();
  return [
    {
      name: '150 days in one request', signal: 'logs',
      // Days 0-2 are within the 72h retention; the 147 older ones expire on arrival.
      json: logsRequest(SVC_POISON, req, Array.from({ length: 150 }, (_, i) => now - BigInt(i) * DAY)),
      good: 3, rejected: 0, expired: 147,
    },
    {
      name: 'times the columns cannot hold', signal: 'logs',
      json: logsRequest(SVC_POISON, req, [1n, INT64_MAX, UINT64_MAX, now + 300n * 366n * DAY, now + 2n * HOUR, now]),
      good: 1, rejected: 4, expired: 1,
    },
    {
      name: 'spans out of order, without a start, overflowing, ahead', signal: 'traces',
      json: spansRequest(SVC_POISON, req, [
        { start: now, end: now - SECOND },
        { start: 0n, end: now },
        { start: now - SECOND, end: UINT64_MAX },
        { start: now + 2n * HOUR, end: now + 2n * HOUR + SECOND },
        { start: now - SECOND, end: now, event: now + 2n * HOUR },
        { start: now - 5n * DAY, end: now - 5n * DAY + SECOND },
        { start: now - SECOND, end: now, event: now - SECOND },
      ]),
      good: 1, rejected: 5, expired: 1,
    },
    {
      name: 'points starting after their time, without a time, ahead', signal: 'metrics',
      json: metricsRequest(SVC_POISON, req, [
        { start: now, time: now - SECOND },
        { time: 0n },
        { time: UINT64_MAX },
        { time: now, exemplar: now + 2n * HOUR },
        { time: now - 4n * DAY },
        { start: now - SECOND, time: now, exemplar: now - SECOND },
      ]),
      good: 1, rejected: 4, expired: 1,
    },
  ];
}

function ordinaryRequest(signal, svc, req, n) {
  const now = nowNs();
  const range = Array.from({ length: n }, (_, i) => i);
  if (signal === 'logs') return logsRequest(svc, req, range.map((i) => now - BigInt(i)));
  if (signal === 'traces') return spansRequest(svc, req, range.map((i) => ({ start: now - SECOND - BigInt(i), end: now })));
  return metricsRequest(svc, req, range.map((i) => ({ start: now - 10n * SECOND, time: now - BigInt(i) })));
}

const RECORDS = { logs: 50, traces: 20, metrics: 20 };

// The rows stored for `svc`, once they match `expected` (a request is acknowledged when its rows
// are in the queue; the store has them a moment later) or after 15 s.
async function storedRows(srv, svc, expected) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await countRows(srv, svc);
    if (JSON.stringify(rows) === JSON.stringify(expected) || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function countRows(srv, svc) {
  const [row] = await srv.sqlObjects(`
    SELECT (SELECT count() FROM otel.otel_logs WHERE ServiceName = {svc:String}) AS logs,
           (SELECT count() FROM otel.otel_traces WHERE ServiceName = {svc:String}) AS traces,
           (SELECT count() FROM otel.otel_metrics_gauge WHERE ServiceName = {svc:String}) AS metrics`,
  { svc }, { timeoutMs: 60_000 });
  return { logs: Number(row.logs), traces: Number(row.traces), metrics: Number(row.metrics) };
}

test('poison requests get exact partial successes and never fail ordinary clients', { timeout: 150_000 }, async (t) => {
  server = new StackhouseServer({ name: 'poison' });
  await server.start();
  const base = server.otlpUrl;
  const deadline = Date.now() + LOAD_MS;

  const failures = [];
  const ackedOrdinary = { logs: 0, traces: 0, metrics: 0 };
  const ordinary = Array.from({ length: ORDINARY_CLIENTS }, async (_, c) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let n = 0;
    while (Date.now() < deadline) {
      const signal = ['logs', 'traces', 'metrics'][n % 3];
      const asJson = (n + c) % 2 === 0;
      const req = `ok-${c}-${n++}`;
      const body = bodyOf(signal, ordinaryRequest(signal, SVC_OK, req, RECORDS[signal]), asJson);
      const answer = await post(base, SIGNALS[signal].path, body, asJson ? 'application/json' : 'application/x-protobuf', agent);
      if (answer.status !== 200) {
        failures.push(`${req} ${signal}: ${answer.status ?? answer.error} ${answer.body?.toString('utf8').slice(0, 300) ?? ''}`);
        continue;
      }
      const ps = partialSuccess(answer, asJson);
      if (ps.rejected !== 0 || ps.errorMessage !== '') failures.push(`${req} ${signal}: partial success ${JSON.stringify(ps)}`);
      ackedOrdinary[signal] += RECORDS[signal];
    }
    agent.destroy();
  });

  const poisonProblems = [];
  const ackedPoison = { logs: 0, traces: 0, metrics: 0 };
  let poisonRequests = 0;
  const poison = (async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let n = 0;
    while (Date.now() < deadline) {
      for (const asJson of [true, false]) {
        for (const c of poisonCases(`poison-${n++}`)) {
          const body = bodyOf(c.signal, c.json, asJson);
          const answer = await post(base, SIGNALS[c.signal].path, body, asJson ? 'application/json' : 'application/x-protobuf', agent);
          poisonRequests += 1;
          const where = `${c.name} (${asJson ? 'json' : 'protobuf'})`;
          if (answer.status !== 200) {
            poisonProblems.push(`${where}: ${answer.status ?? answer.error} ${answer.body?.toString('utf8').slice(0, 300) ?? ''}`);
            continue;
          }
          const ps = partialSuccess(answer, asJson);
          const expired = expiredIn(ps.errorMessage);
          if (ps.rejected !== c.rejected || expired !== c.expired) {
            poisonProblems.push(`${where}: rejected ${ps.rejected} expired ${expired}, want ${c.rejected} and ${c.expired}: ${ps.errorMessage}`);
          }
          if (c.rejected > 0 && !/time_unix_nano/.test(ps.errorMessage)) poisonProblems.push(`${where}: message names no field: ${ps.errorMessage}`);
          ackedPoison[c.signal] += c.good;
        }
      }
    }
    agent.destroy();
  })();

  // The same poison over OTLP/gRPC: OK with the same partial success.
  const poisonGrpc = (async () => {
    const client = new grpc.Client(server.otlpGrpcEndpoint, grpc.credentials.createInsecure());
    let n = 0;
    while (Date.now() < deadline) {
      for (const c of poisonCases(`poison-grpc-${n++}`)) {
        const answer = await grpcCall(client, c.signal, SIGNALS[c.signal].encode(c.json));
        poisonRequests += 1;
        const where = `${c.name} (grpc)`;
        if (answer.code !== 0) {
          poisonProblems.push(`${where}: gRPC status ${answer.code} ${answer.details}`);
          continue;
        }
        const ps = decodeExportResponse(answer.body);
        const expired = expiredIn(ps.errorMessage);
        if (ps.rejected !== c.rejected || expired !== c.expired) {
          poisonProblems.push(`${where}: rejected ${ps.rejected} expired ${expired}, want ${c.rejected} and ${c.expired}: ${ps.errorMessage}`);
        }
        ackedPoison[c.signal] += c.good;
      }
    }
    client.close();
  })();

  await Promise.all([...ordinary, poison, poisonGrpc]);
  t.diagnostic(`ordinary records acknowledged: ${JSON.stringify(ackedOrdinary)}; poison requests: ${poisonRequests}`);
  assert.deepEqual(failures, [], 'ordinary clients saw failures');
  assert.deepEqual(poisonProblems, [], 'poison requests were not answered exactly');
  assert.ok(poisonRequests >= 8, `only ${poisonRequests} poison requests were sent`);
  assert.ok(ackedOrdinary.logs > 0 && ackedOrdinary.traces > 0 && ackedOrdinary.metrics > 0);

  // Acknowledged = stored, for both kinds of client.
  assert.deepEqual(await storedRows(server, SVC_OK, ackedOrdinary), ackedOrdinary, 'ordinary rows stored');
  assert.deepEqual(await storedRows(server, SVC_POISON, ackedPoison), ackedPoison, 'good rows of the poison requests stored');

  const metricsText = await (await fetch(`${server.adminUrl}/metrics`)).text();
  const expiredLogs = /stackhouse_receiver_records_expired_on_arrival_total\{signal="logs"\} (\d+)/.exec(metricsText);
  assert.ok(expiredLogs && Number(expiredLogs[1]) > 0, 'the expired-on-arrival counter counts');
  await server.stop();
});

test('with ttl 0 nothing expires on arrival and 150 days fit in one insert', { timeout: 90_000 }, async () => {
  unbounded = new StackhouseServer({
    name: 'poison-ttl0',
    config: `${PORT0_CONFIG}  exporters: {clickhouse: {ttl: 0}}\n`,
  });
  await unbounded.start();
  const now = nowNs();
  const times = [...Array.from({ length: 150 }, (_, i) => now - BigInt(i) * DAY), 1n];
  for (const asJson of [true, false]) {
    const body = bodyOf('logs', logsRequest(`${SVC_POISON}-ttl0-${asJson}`, 'ttl0', times), asJson);
    const answer = await post(unbounded.otlpUrl, '/v1/logs', body, asJson ? 'application/json' : 'application/x-protobuf', false);
    assert.equal(answer.status, 200, answer.body?.toString('utf8'));
    assert.deepEqual(partialSuccess(answer, asJson), { rejected: 0, errorMessage: '' });
    const svc = `${SVC_POISON}-ttl0-${asJson}`;
    assert.equal((await storedRows(unbounded, svc, { logs: 151, traces: 0, metrics: 0 })).logs, 151);
  }
  await unbounded.stop();
});
