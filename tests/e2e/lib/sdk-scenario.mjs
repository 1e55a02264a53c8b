// The scenario of the SDK end-to-end tests, shared by sdk.test.mjs (OTLP/HTTP, JSON and protobuf)
// and grpc.test.mjs (OTLP/gRPC): what the official OpenTelemetry JS SDK sends — nested spans with
// events, links and error status, logs of every severity with string and map bodies, every metric
// kind, plus a hand-written summary and exemplar — and the tests that read the stored rows back
// through POST /api/v1/sql and compare them value by value with what was sent.
//
//   const ctx = { server, sent: null };
//   before(async () => { ctx.sent = await sendAll(flavour, transport); });
//   storedRowTests(ctx);   // inside the flavour's describe()

import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';

import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, createTraceState, TraceFlags, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, AggregationType, DataPointType } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as TraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter as LogExporterJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogExporterProto } from '@opentelemetry/exporter-logs-otlp-proto';
import {
  AggregationTemporalityPreference, OTLPMetricExporter as MetricExporterJson,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricExporterProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

import {
  hrTimeToNs, nsToHrTime, nsToDateTime64, assertStoredMap, assertStoredValue, keyValues,
  encodeMetricsRequest,
} from './otlp.mjs';

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const svcOf = (f) => `e2e-sdk-${f.name}-${RUN}`;
export const TIMEOUT = { timeout: 120_000 };

// OTLP's AggregationTemporality as stored (AGGREGATION_TEMPORALITY_DELTA = 1, CUMULATIVE = 2).
const DELTA = 1;
const CUMULATIVE = 2;

// ---- sending ------------------------------------------------------------------------------------

// Wraps an SDK exporter and keeps what it was asked to export and the results.
class Recording {
  constructor(inner) {
    this.inner = inner;
    this.items = [];
    this.results = [];
    if (inner.selectAggregationTemporality) this.selectAggregationTemporality = (t) => inner.selectAggregationTemporality(t);
    if (inner.selectAggregation) this.selectAggregation = (t) => inner.selectAggregation(t);
  }
  export(items, done) {
    this.items.push(items);
    this.inner.export(items, (r) => { this.results.push(r); done(r); });
  }
  forceFlush() { return this.inner.forceFlush?.() ?? Promise.resolve(); }
  shutdown() { return this.inner.shutdown(); }
}

// The OTLP/HTTP transport for sendAll: the SDK's exporter-*-otlp-proto (f.proto) or
// exporter-*-otlp-http (JSON) exporters, gzip with f.gzip, to `${baseUrl()}/v1/<signal>`, each
// request tagged `x-e2e-tag: <flavour>`. baseUrl is called when a flavour sends.
export function otlpHttpTransport(baseUrl) {
  const exporterOptions = (f, signal) => ({
    url: `${baseUrl()}/v1/${signal}`,
    compression: f.gzip ? 'gzip' : 'none',
    headers: { 'x-e2e-tag': f.name },
    timeoutMillis: 30_000,
  });
  return {
    traceExporter: (f) => (f.proto ? new TraceExporterProto(exporterOptions(f, 'traces'))
                                   : new TraceExporterJson(exporterOptions(f, 'traces'))),
    logExporter: (f) => (f.proto ? new LogExporterProto(exporterOptions(f, 'logs'))
                                 : new LogExporterJson(exporterOptions(f, 'logs'))),
    metricExporter: (f, temporalityPreference) => new (f.proto ? MetricExporterProto : MetricExporterJson)({
      ...exporterOptions(f, 'metrics'),
      temporalityPreference,
    }),
    async sendMetricsRequest(f, handRequest) {
      let handBody = f.proto ? encodeMetricsRequest(handRequest) : Buffer.from(JSON.stringify(handRequest));
      const handHeaders = { 'content-type': f.proto ? 'application/x-protobuf' : 'application/json', 'x-e2e-tag': f.name };
      if (f.gzip) { handBody = zlib.gzipSync(handBody); handHeaders['content-encoding'] = 'gzip'; }
      const handRes = await fetch(`${baseUrl()}/v1/metrics`, { method: 'POST', headers: handHeaders, body: handBody, signal: AbortSignal.timeout(30_000) });
      const handText = await handRes.text();
      return { ok: handRes.status === 200, status: handRes.status, text: handText };
    },
  };
}

// Spans, logs and metrics for one flavour, sent through `transport`:
//   traceExporter(f), logExporter(f): an SDK exporter;
//   metricExporter(f, temporalityPreference): an SDK metric exporter;
//   sendMetricsRequest(f, request): sends a hand-written ExportMetricsServiceRequest (OTLP/JSON
//     shape, see encodeMetricsRequest) and resolves to { ok, status, text }.
// Returns everything needed to check the stored rows.
export async function sendAll(f, transport) {
  const svc = svcOf(f);
  const resourceAttrs = {
    [ATTR_SERVICE_NAME]: svc,
    [ATTR_SERVICE_VERSION]: '1.2.3',
    'deployment.environment.name': 'e2e',
    'e2e.flavour': f.name,
    'host.cpu.count': 2,
  };
  const resourceSchemaUrl = 'https://opentelemetry.io/schemas/1.26.0';
  const resource = resourceFromAttributes(resourceAttrs, { schemaUrl: resourceSchemaUrl });

  // Fixed timestamps with nanosecond digits, one minute ago, so every time is known exactly.
  const base = (BigInt(Date.now()) - 60_000n) * 1_000_000n + 123_457n;
  const at = (ms, extraNs = 0) => base + BigInt(Math.round(ms * 1e6)) + BigInt(extraNs);
  const hr = (ns) => nsToHrTime(ns);

  // ---- traces ----
  const spanExporter = new Recording(transport.traceExporter(f));
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(spanExporter)] });
  const tracer = tracerProvider.getTracer('e2e-tracer', '1.2.3');
  const spans = {}; // name → expectation
  const expectSpan = (name, e) => { spans[name] = { name, events: [], links: [], status: 'Unset', statusMessage: '', traceState: '', ...e }; };

  // A span in its own trace, on the real clock, for links to point at.
  const wallBefore = BigInt(Date.now()) * 1_000_000n;
  const linked = tracer.startSpan('linked-producer', { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka' } });
  await new Promise((r) => setTimeout(r, 5));
  linked.setStatus({ code: SpanStatusCode.OK });
  linked.end();
  const wallAfter = BigInt(Date.now()) * 1_000_000n + 1_000_000n;
  expectSpan('linked-producer', { kind: 'Producer', parent: null, attrs: { 'messaging.system': 'kafka' }, status: 'Ok', realClock: true });

  const rootAttrs = {
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'e2e.negative': -7,
    'e2e.max_safe': 9007199254740991,
    'e2e.tenth': 0.1,
    'e2e.pi': 3.14159,
    'e2e.true': true,
    'e2e.false': false,
    'e2e.empty': '',
    'e2e.unicode': 'héllo "wörld"\n\ttab ✓ 日本',
    'e2e.str_array': ['a', 'b', 'c'],
    'e2e.int_array': [1, -2, 3],
    'e2e.double_array': [1.5, -2.25],
    'e2e.bool_array': [true, false],
  };
  const root = tracer.startSpan('root-server', { kind: SpanKind.SERVER, attributes: rootAttrs, startTime: hr(at(0)) }, ROOT_CONTEXT);
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  expectSpan('root-server', { kind: 'Server', parent: null, attrs: rootAttrs, startNs: at(0), endNs: at(50, 7) });

  const child = tracer.startSpan('child-client', { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'db', 'db.rows': 12 }, startTime: hr(at(5)) }, rootCtx);
  const childCtx = trace.setSpan(rootCtx, child);
  const ev1Attrs = { 'cache.key': 'user:42', 'retry.count': 2, 'hit.ratio': 0.25, 'cache.ok': false, 'cache.tags': ['x', 'y'] };
  child.addEvent('cache.miss', ev1Attrs, hr(at(6, 1)));
  child.addEvent('retry', hr(at(7, 2)));
  expectSpan('child-client', {
    kind: 'Client', parent: 'root-server', attrs: { 'peer.service': 'db', 'db.rows': 12 }, startNs: at(5), endNs: at(30, 1),
    events: [{ name: 'cache.miss', ns: at(6, 1), attrs: ev1Attrs }, { name: 'retry', ns: at(7, 2), attrs: {} }],
  });

  const linkedCtx = linked.spanContext();
  const foreign = {
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED, traceState: createTraceState('congo=t61rcWkgMzE'),
  };
  const gcLinkAttrs = { 'link.reason': 'caused-by', 'link.n': 1 };
  const grandchild = tracer.startSpan('grandchild-internal', {
    kind: SpanKind.INTERNAL, startTime: hr(at(10)), attributes: { 'code.function.name': 'charge' },
    links: [{ context: linkedCtx, attributes: gcLinkAttrs }],
  }, childCtx);
  const gcCtx = trace.setSpan(childCtx, grandchild);
  const excAttrs = { 'exception.type': 'UpstreamError', 'exception.message': 'db said no' };
  grandchild.addEvent('exception', excAttrs, hr(at(15)));
  grandchild.setStatus({ code: SpanStatusCode.ERROR, message: 'boom: upstream "db" failed' });
  expectSpan('grandchild-internal', {
    kind: 'Internal', parent: 'child-client', attrs: { 'code.function.name': 'charge' }, startNs: at(10), endNs: at(20, 999),
    events: [{ name: 'exception', ns: at(15), attrs: excAttrs }],
    links: [{ traceId: linkedCtx.traceId, spanId: linkedCtx.spanId, traceState: '', attrs: gcLinkAttrs }],
    status: 'Error', statusMessage: 'boom: upstream "db" failed',
  });

  const consumer = tracer.startSpan('consumer', {
    kind: SpanKind.CONSUMER, startTime: hr(at(31)),
    links: [{ context: foreign, attributes: { 'link.kind': 'foreign' } }, { context: grandchild.spanContext() }],
  }, rootCtx);
  expectSpan('consumer', {
    kind: 'Consumer', parent: 'root-server', attrs: {}, startNs: at(31), endNs: at(40),
    links: [
      { traceId: foreign.traceId, spanId: foreign.spanId, traceState: 'congo=t61rcWkgMzE', attrs: { 'link.kind': 'foreign' } },
      { traceId: grandchild.spanContext().traceId, spanId: grandchild.spanContext().spanId, traceState: '', attrs: {} },
    ],
  });

  // A span continuing a remote parent that carries a W3C trace state.
  const remoteParent = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', isRemote: true,
    traceFlags: TraceFlags.SAMPLED, traceState: createTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'),
  };
  const remoteChild = tracer.startSpan('remote-child', { kind: SpanKind.SERVER, startTime: hr(at(41)) },
    trace.setSpanContext(ROOT_CONTEXT, remoteParent));
  remoteChild.setStatus({ code: SpanStatusCode.OK });
  expectSpan('remote-child', {
    kind: 'Server', parent: 'remote', attrs: {}, startNs: at(41), endNs: at(42, 1), status: 'Ok',
    traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', remoteParent,
  });

  // ---- logs (some inside spans, before those end) ----
  const logExporter = new Recording(transport.logExporter(f));
  const loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: logExporter })] });
  const scopeAttrs = { 'scope.attr': 'yes', 'scope.n': 5 };
  const scopeSchemaUrl = 'https://opentelemetry.io/schemas/1.27.0';
  const logger = loggerProvider.getLogger('e2e-logger', '0.9.0', { schemaUrl: scopeSchemaUrl, attributes: scopeAttrs });
  const logs = [
    { severityNumber: SeverityNumber.TRACE, severityText: 'TRACE', body: 'trace: entering handler' },
    { severityNumber: SeverityNumber.DEBUG, severityText: 'DEBUG', body: 'debug: cache size=12' },
    {
      severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'user logged in', eventName: 'user.login', ctx: childCtx,
      attrs: {
        'user.id': 'u-17', 'login.attempt': 3, 'login.score': 0.875, 'login.mfa': true,
        'login.methods': ['password', 'totp'], 'login.bytes': new Uint8Array([0, 1, 2, 250, 255]),
        'login.meta': { region: 'eu', tries: 2, nested: { ok: true, list: [1, 'x'] } },
      },
    },
    { severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'disk 91% full — "sda1"\nsecond line\ttabbed' },
    {
      severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', ctx: gcCtx, attrs: { 'error.type': 'PaymentError' },
      body: { event: 'payment_failed', amount: 12.5, attempts: 3, ok: false, tags: ['a', 'b'], detail: { code: 'E42', retryable: true } },
    },
    { severityNumber: SeverityNumber.FATAL, severityText: 'FATAL', body: { msg: 'out of memory', rss_mib: 1024 } },
    { severityNumber: SeverityNumber.INFO2, severityText: 'notice', body: 'custom severity text' },
    { body: 'no severity at all' },
  ];
  logs.forEach((l, i) => {
    l.seq = i;
    l.ns = at(1 + i, i);
    l.observedNs = at(100 + i);
    l.attrs = { 'e2e.seq': i, ...(l.attrs ?? {}) };
    logger.emit({
      timestamp: hr(l.ns), observedTimestamp: hr(l.observedNs),
      severityNumber: l.severityNumber, severityText: l.severityText, body: l.body, attributes: l.attrs,
      eventName: l.eventName, context: l.ctx,
    });
    const sc = l.ctx ? trace.getSpanContext(l.ctx) : null;
    l.traceId = sc ? sc.traceId : '';
    l.spanId = sc ? sc.spanId : '';
    l.traceFlags = sc ? sc.traceFlags : 0;
  });

  grandchild.end(hr(at(20, 999)));
  child.end(hr(at(30, 1)));
  consumer.end(hr(at(40)));
  remoteChild.end(hr(at(42, 1)));
  root.end(hr(at(50, 7)));

  // ---- metrics ----
  const metricExporter = new Recording(transport.metricExporter(
    f, f.delta ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE));
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000, exportTimeoutMillis: 30_000 });
  const bounds = [0, 5, 10, 25, 50, 100];
  const meterProvider = new MeterProvider({
    resource,
    readers: [reader],
    views: [
      { instrumentName: 'e2e.latency', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: bounds } } },
      { instrumentName: 'e2e.payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } },
    ],
  });
  const meter = meterProvider.getMeter('e2e-meter', '2.0.0');
  const counter = meter.createCounter('e2e.requests', { description: 'Requests served', unit: '{request}', valueType: ValueType.INT });
  counter.add(5, { route: '/a' }); counter.add(3, { route: '/a' }); counter.add(7, { route: '/b' });
  const upDown = meter.createUpDownCounter('e2e.queue.depth', { description: 'Items waiting', unit: '{item}' });
  upDown.add(2.5, { queue: 'q1' }); upDown.add(-0.75, { queue: 'q1' }); upDown.add(-2, { queue: 'q2' });
  meter.createObservableGauge('e2e.temperature', { description: 'Room temperature', unit: 'Cel' })
    .addCallback((r) => { r.observe(21.5, { room: 'a' }); r.observe(-3.25, { room: 'b' }); });
  meter.createObservableGauge('e2e.threads', { description: 'Live threads', unit: '{thread}', valueType: ValueType.INT })
    .addCallback((r) => r.observe(17));
  const histogram = meter.createHistogram('e2e.latency', { description: 'Request latency', unit: 'ms' });
  const latA = [0, 1, 3, 7, 12, 30, 120];
  latA.forEach((v) => histogram.record(v, { route: '/a' }));
  histogram.record(2.5, { route: '/b' });
  const expHistogram = meter.createHistogram('e2e.payload.size', { description: 'Payload size', unit: 'By' });
  const sizes = [0, 1, 2, 4, 8, 1000];
  sizes.forEach((v) => expHistogram.record(v));

  const metricsExpected = {
    sum: [
      { name: 'e2e.requests', unit: '{request}', description: 'Requests served', attrs: { route: '/a' }, value: 8, monotonic: true, temporality: f.delta ? DELTA : CUMULATIVE },
      { name: 'e2e.requests', unit: '{request}', description: 'Requests served', attrs: { route: '/b' }, value: 7, monotonic: true, temporality: f.delta ? DELTA : CUMULATIVE },
      { name: 'e2e.queue.depth', unit: '{item}', description: 'Items waiting', attrs: { queue: 'q1' }, value: 1.75, monotonic: false, temporality: CUMULATIVE },
      { name: 'e2e.queue.depth', unit: '{item}', description: 'Items waiting', attrs: { queue: 'q2' }, value: -2, monotonic: false, temporality: CUMULATIVE },
    ],
    gauge: [
      { name: 'e2e.temperature', unit: 'Cel', description: 'Room temperature', attrs: { room: 'a' }, value: 21.5 },
      { name: 'e2e.temperature', unit: 'Cel', description: 'Room temperature', attrs: { room: 'b' }, value: -3.25 },
      { name: 'e2e.threads', unit: '{thread}', description: 'Live threads', attrs: {}, value: 17 },
    ],
    histogram: [
      { name: 'e2e.latency', unit: 'ms', description: 'Request latency', attrs: { route: '/a' }, count: 7, sum: 173, min: 0, max: 120,
        bounds, buckets: [1, 2, 1, 1, 1, 0, 1], temporality: f.delta ? DELTA : CUMULATIVE },
      { name: 'e2e.latency', unit: 'ms', description: 'Request latency', attrs: { route: '/b' }, count: 1, sum: 2.5, min: 2.5, max: 2.5,
        bounds, buckets: [0, 1, 0, 0, 0, 0, 0], temporality: f.delta ? DELTA : CUMULATIVE },
    ],
    exponential_histogram: [
      { name: 'e2e.payload.size', unit: 'By', description: 'Payload size', attrs: {}, count: 6, sum: 1015, min: 0, max: 1000,
        zeroCount: 1, values: sizes, temporality: f.delta ? DELTA : CUMULATIVE },
    ],
    summary: [],
  };

  // ---- flush everything ----
  await tracerProvider.forceFlush();
  await loggerProvider.forceFlush();
  await meterProvider.forceFlush();

  // ---- hand-written: a summary and a gauge point with an exemplar (the SDK sends neither) ----
  const summaryPoint = {
    name: 'e2e.rpc.duration', unit: 's', description: 'RPC duration summary', attrs: { 'rpc.method': 'GetUser', 'rpc.ok': true },
    startNs: at(0), timeNs: at(60, 3), count: 10, sum: 55.5,
    quantiles: [[0, 1], [0.5, 5], [0.9, 9], [0.99, 9.9], [1, 10]],
  };
  const exemplarGauge = {
    name: 'e2e.queue.latency', unit: 's', description: 'Queue latency', attrs: { queue: 'jobs' }, value: 0.042,
    startNs: at(0), timeNs: at(60, 4),
    exemplar: { ns: at(12, 5), value: 0.042, traceId: root.spanContext().traceId, spanId: child.spanContext().spanId, attrs: { 'user.id': 'u-17' } },
  };
  metricsExpected.summary.push(summaryPoint);
  metricsExpected.gauge.push(exemplarGauge);
  const handRequest = {
    resourceMetrics: [{
      resource: { attributes: keyValues(resourceAttrs) },
      schemaUrl: resourceSchemaUrl,
      scopeMetrics: [{
        scope: { name: 'e2e-handwritten', version: '0.1.0' },
        metrics: [
          {
            name: summaryPoint.name, unit: summaryPoint.unit, description: summaryPoint.description,
            summary: { dataPoints: [{
              attributes: keyValues(summaryPoint.attrs),
              startTimeUnixNano: String(summaryPoint.startNs), timeUnixNano: String(summaryPoint.timeNs),
              count: String(summaryPoint.count), sum: summaryPoint.sum,
              quantileValues: summaryPoint.quantiles.map(([quantile, value]) => ({ quantile, value })),
            }] },
          },
          {
            name: exemplarGauge.name, unit: exemplarGauge.unit, description: exemplarGauge.description,
            gauge: { dataPoints: [{
              attributes: keyValues(exemplarGauge.attrs),
              startTimeUnixNano: String(exemplarGauge.startNs), timeUnixNano: String(exemplarGauge.timeNs),
              asDouble: exemplarGauge.value,
              exemplars: [{
                timeUnixNano: String(exemplarGauge.exemplar.ns), asDouble: exemplarGauge.exemplar.value,
                traceId: exemplarGauge.exemplar.traceId, spanId: exemplarGauge.exemplar.spanId,
                filteredAttributes: keyValues(exemplarGauge.exemplar.attrs),
              }],
            }] },
          },
        ],
      }],
    }],
  };
  const hand = await transport.sendMetricsRequest(f, handRequest);

  await tracerProvider.shutdown();
  await loggerProvider.shutdown();
  // Not meterProvider.shutdown(): its reader would collect and export everything once more. The
  // reader's timer (1 h) is unref'd, so nothing keeps the process alive.
  await metricExporter.shutdown();

  return {
    svc, resourceAttrs, resourceSchemaUrl, scopeAttrs, scopeSchemaUrl, spans, logs, metricsExpected,
    wallBefore, wallAfter, remoteParent,
    spanExporter, logExporter, metricExporter,
    hand,
  };
}

// ---- checking -----------------------------------------------------------------------------------

const isHex = (s, n) => typeof s === 'string' && s.length === n && /^[0-9a-f]+$/.test(s);
const eq64 = (got, exp, where) => {
  assert.equal(typeof got, 'string', `${where}: a 64-bit integer must be a quoted string in JSON, got ${JSON.stringify(got)}`);
  assert.equal(got, String(exp), `${where}`);
};
const attrKey = (m) => JSON.stringify(Object.entries(m ?? {}).sort());
// the key of sent (scalar) attributes once stored as strings
const storedAttrKey = (attrs) => attrKey(Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, String(v)])));

export function assertExportsSucceeded(rec, what) {
  assert.ok(rec.results.length >= 1, `${what}: the SDK exported nothing`);
  for (const r of rec.results) {
    assert.equal(r.code, ExportResultCode.SUCCESS, `${what}: export failed: ${r.error?.message ?? JSON.stringify(r)}`);
  }
}

// Reads protobuf Export*ServiceResponse / JSON and returns the rejected count in partial success.
export function rejectedCount(r) {
  const ct = r.responseHeaders?.['content-type'] ?? '';
  const body = r.responseBody ?? Buffer.alloc(0);
  if (ct.startsWith('application/json')) {
    const j = JSON.parse(body.toString('utf8') || '{}');
    const ps = j.partialSuccess ?? {};
    return Number(ps.rejectedLogRecords ?? ps.rejectedSpans ?? ps.rejectedDataPoints ?? 0);
  }
  // protobuf: field 1 = partial_success { field 1 = rejected_* (int64 varint), field 2 = error_message }
  const readVarint = (buf, pos) => {
    let v = 0n; let shift = 0n;
    for (;;) { const b = buf[pos++]; v |= BigInt(b & 0x7f) << shift; shift += 7n; if (!(b & 0x80)) return [v, pos]; }
  };
  let pos = 0;
  let rejected = 0n;
  while (pos < body.length) {
    let key; [key, pos] = readVarint(body, pos);
    const field = Number(key >> 3n); const wt = Number(key & 7n);
    if (wt === 2) {
      let len; [len, pos] = readVarint(body, pos);
      const sub = body.subarray(pos, pos + Number(len));
      pos += Number(len);
      if (field === 1) {
        let p = 0;
        while (p < sub.length) {
          let k; [k, p] = readVarint(sub, p);
          if (Number(k & 7n) === 0) { let v; [v, p] = readVarint(sub, p); if (Number(k >> 3n) === 1) rejected = v; }
          else if (Number(k & 7n) === 2) { let l; [l, p] = readVarint(sub, p); p += Number(l); }
          else throw new Error(`unexpected wire type in partial_success: ${k}`);
        }
      }
    } else if (wt === 0) { [, pos] = readVarint(body, pos); }
    else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else throw new Error(`unexpected wire type ${wt} in response`);
  }
  return Number(rejected);
}

const TRACE_QUERY = `
SELECT SpanName, TraceId, SpanId, ParentSpanId, TraceState, SpanKind, ServiceName, ResourceAttributes,
       ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, Timestamp,
       toString(toUnixTimestamp64Nano(Timestamp)) AS TimestampNs,
       Events.Name, Events.Timestamp, arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS EventNs,
       Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes
FROM otel.otel_traces WHERE ServiceName = {svc:String} ORDER BY SpanName`;

const LOG_QUERY = `
SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS TimestampNs, Timestamp, TraceId, SpanId, TraceFlags,
       SeverityText, SeverityNumber, ServiceName, Body, ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl,
       ScopeName, ScopeVersion, ScopeAttributes, LogAttributes, EventName
FROM otel.otel_logs WHERE ServiceName = {svc:String} ORDER BY toUInt32OrZero(LogAttributes['e2e.seq'])`;

const METRIC_COMMON = `MetricName, MetricDescription, MetricUnit, Attributes, ResourceAttributes, ScopeName, ScopeVersion,
       ServiceName, toString(toUnixTimestamp64Nano(StartTimeUnix)) AS StartNs, toString(toUnixTimestamp64Nano(TimeUnix)) AS TimeNs,
       TimeUnix, Flags`;
const EXEMPLARS = `Exemplars.FilteredAttributes, arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Exemplars.TimeUnix) AS ExemplarNs,
       Exemplars.Value, Exemplars.SpanId, Exemplars.TraceId`;
const METRIC_QUERIES = {
  sum: `SELECT ${METRIC_COMMON}, Value, AggregationTemporality, IsMonotonic, ${EXEMPLARS} FROM otel.otel_metrics_sum WHERE ServiceName = {svc:String}`,
  gauge: `SELECT ${METRIC_COMMON}, Value, ${EXEMPLARS} FROM otel.otel_metrics_gauge WHERE ServiceName = {svc:String}`,
  histogram: `SELECT ${METRIC_COMMON}, Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality, ${EXEMPLARS}
              FROM otel.otel_metrics_histogram WHERE ServiceName = {svc:String}`,
  exponential_histogram: `SELECT ${METRIC_COMMON}, Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts,
              NegativeOffset, NegativeBucketCounts, Min, Max, AggregationTemporality, ${EXEMPLARS}
              FROM otel.otel_metrics_exponential_histogram WHERE ServiceName = {svc:String}`,
  summary: `SELECT ${METRIC_COMMON}, Count, Sum, ValueAtQuantiles.Quantile, ValueAtQuantiles.Value
              FROM otel.otel_metrics_summary WHERE ServiceName = {svc:String}`,
};

// The bucket index of v > 0 in an exponential histogram of the given scale (upper-inclusive).
function expBucketIndex(v, scale) {
  return Math.ceil(Math.log2(v) * 2 ** scale) - 1;
}

// The SDK's data points, by metric name and attributes.
function capturedPoints(metricExporter) {
  const out = new Map();
  for (const rm of metricExporter.items) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        for (const p of m.dataPoints) out.set(`${m.descriptor.name} ${attrKey(p.attributes)}`, { metric: m, point: p, scope: sm.scope });
      }
    }
  }
  return out;
}

// The tests that read one flavour's rows back. ctx.server (anything with sqlObjects(query,
// params) answering as POST /api/v1/sql does: a StackhouseServer, or the ClickHouse stand-in's
// client, lib/standin.mjs) and ctx.sent (what sendAll returned) must be set by the caller's
// before().
export function storedRowTests(ctx) {
  // Exports are acknowledged once their rows are in the queue; the store has them a moment later
  // (the batch timeout plus one insert). Wait until every signal's rows are there and their counts
  // hold still over more than one batch timeout.
  test('acknowledged rows become queryable', TIMEOUT, async () => {
    const q = `SELECT (SELECT count() FROM otel.otel_traces WHERE ServiceName = {svc:String}) AS t,
                      (SELECT count() FROM otel.otel_logs WHERE ServiceName = {svc:String}) AS l,
                      (SELECT count() FROM otel.otel_metrics_sum WHERE ServiceName = {svc:String}) AS m`;
    const deadline = Date.now() + 15_000;
    let last = '';
    for (;;) {
      const [r] = await ctx.server.sqlObjects(q, { svc: ctx.sent.svc });
      const now = `${r.t}/${r.l}/${r.m}`;
      if (Number(r.t) > 0 && Number(r.l) > 0 && Number(r.m) > 0 && now === last) break;
      assert.ok(Date.now() < deadline, `rows not queryable within 15 s (traces/logs/sums: ${now})`);
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
  test('spans: ids, parent linkage, names, kinds, times, attributes, events, links, status', TIMEOUT, async () => {
    const rows = await ctx.server.sqlObjects(TRACE_QUERY, { svc: ctx.sent.svc });
    const exp = ctx.sent.spans;
    assert.deepEqual(rows.map((r) => r.SpanName), Object.keys(exp).sort(), 'one row per span sent, no more, no less');
    const captured = new Map(ctx.sent.spanExporter.items.flat().map((s) => [s.name, s]));
    const byName = Object.fromEntries(rows.map((r) => [r.SpanName, r]));
    for (const row of rows) {
      const e = exp[row.SpanName];
      const c = captured.get(row.SpanName);
      const w = `span ${row.SpanName}`;
      assert.ok(c, `${w}: not exported by the SDK`);
      assert.ok(isHex(row.TraceId, 32), `${w}: TraceId ${JSON.stringify(row.TraceId)} is not 32 lowercase hex digits`);
      assert.ok(isHex(row.SpanId, 16), `${w}: SpanId ${JSON.stringify(row.SpanId)} is not 16 lowercase hex digits`);
      assert.equal(row.TraceId, c.spanContext().traceId, `${w}: TraceId`);
      assert.equal(row.SpanId, c.spanContext().spanId, `${w}: SpanId`);
      if (e.parent === null) {
        assert.equal(row.ParentSpanId, '', `${w}: a root span has an empty ParentSpanId`);
      } else if (e.parent === 'remote') {
        assert.equal(row.ParentSpanId, e.remoteParent.spanId, `${w}: ParentSpanId = the remote parent's span id`);
        assert.equal(row.TraceId, e.remoteParent.traceId, `${w}: TraceId = the remote parent's trace id`);
      } else {
        const p = byName[e.parent];
        assert.equal(row.ParentSpanId, p.SpanId, `${w}: ParentSpanId must be ${e.parent}'s SpanId`);
        assert.equal(row.TraceId, p.TraceId, `${w}: same trace as its parent ${e.parent}`);
      }
      assert.equal(row.TraceState, e.traceState, `${w}: TraceState`);
      assert.equal(row.SpanKind, e.kind, `${w}: SpanKind`);
      assert.equal(row.ServiceName, ctx.sent.svc, `${w}: ServiceName`);
      assertStoredMap(row.ResourceAttributes, ctx.sent.resourceAttrs, `${w}: ResourceAttributes`);
      assert.equal(row.ScopeName, 'e2e-tracer', `${w}: ScopeName`);
      assert.equal(row.ScopeVersion, '1.2.3', `${w}: ScopeVersion`);
      assertStoredMap(row.SpanAttributes, e.attrs, `${w}: SpanAttributes`);
      assert.equal(row.StatusCode, e.status, `${w}: StatusCode`);
      assert.equal(row.StatusMessage, e.statusMessage, `${w}: StatusMessage`);

      // times
      const startNs = hrTimeToNs(c.startTime);
      const endNs = hrTimeToNs(c.endTime);
      if (e.realClock) {
        // the SDK's clock is performance.timeOrigin + now(), which may drift a little from Date.now()
        const slack = 1_000_000_000n;
        assert.ok(BigInt(row.TimestampNs) >= ctx.sent.wallBefore - slack && BigInt(row.TimestampNs) <= ctx.sent.wallAfter + slack,
          `${w}: Timestamp ${row.TimestampNs} outside the wall-clock window [${ctx.sent.wallBefore}, ${ctx.sent.wallAfter}] ± 1 s`);
      } else {
        assert.equal(startNs, e.startNs, `${w}: test bug, the SDK changed the start time`);
        assert.equal(endNs, e.endNs, `${w}: test bug, the SDK changed the end time`);
      }
      eq64(row.TimestampNs, startNs, `${w}: Timestamp (ns) = start time`);
      assert.equal(row.Timestamp, nsToDateTime64(startNs), `${w}: Timestamp rendering`);
      eq64(row.Duration, endNs - startNs, `${w}: Duration = end - start (ns)`);
      assert.ok(BigInt(row.Duration) > 0n, `${w}: Duration > 0`);

      // events
      assert.deepEqual(row['Events.Name'], e.events.map((x) => x.name), `${w}: Events.Name`);
      assert.deepEqual(row.EventNs, e.events.map((x) => String(x.ns)), `${w}: Events.Timestamp (ns)`);
      assert.deepEqual(row['Events.Timestamp'], e.events.map((x) => nsToDateTime64(x.ns)), `${w}: Events.Timestamp rendering`);
      assert.equal(row['Events.Attributes'].length, e.events.length, `${w}: Events.Attributes length`);
      e.events.forEach((x, i) => assertStoredMap(row['Events.Attributes'][i], x.attrs, `${w}: Events.Attributes[${i}] (${x.name})`));

      // links
      assert.deepEqual(row['Links.TraceId'], e.links.map((x) => x.traceId), `${w}: Links.TraceId`);
      assert.deepEqual(row['Links.SpanId'], e.links.map((x) => x.spanId), `${w}: Links.SpanId`);
      assert.deepEqual(row['Links.TraceState'], e.links.map((x) => x.traceState), `${w}: Links.TraceState`);
      assert.equal(row['Links.Attributes'].length, e.links.length, `${w}: Links.Attributes length`);
      e.links.forEach((x, i) => assertStoredMap(row['Links.Attributes'][i], x.attrs, `${w}: Links.Attributes[${i}]`));
    }
    // the link to 'linked-producer' points at the row stored for it
    assert.equal(byName['grandchild-internal']['Links.SpanId'][0], byName['linked-producer'].SpanId, 'link → linked-producer SpanId');
    assert.equal(byName['grandchild-internal']['Links.TraceId'][0], byName['linked-producer'].TraceId, 'link → linked-producer TraceId');
    assert.notEqual(byName['linked-producer'].TraceId, byName['root-server'].TraceId, 'linked-producer is in its own trace');
  });

  test('logs: timestamps, severities, string and map bodies, attributes, trace context, scope, resource', TIMEOUT, async () => {
    const rows = await ctx.server.sqlObjects(LOG_QUERY, { svc: ctx.sent.svc });
    assert.equal(rows.length, ctx.sent.logs.length, `one row per log record sent; got ${rows.length}: ${JSON.stringify(rows.map((r) => r.LogAttributes?.['e2e.seq']))}`);
    const captured = ctx.sent.logExporter.items.flat();
    assert.equal(captured.length, ctx.sent.logs.length, 'test bug: the SDK exported a different number of records');
    ctx.sent.logs.forEach((l, i) => {
      const row = rows[i];
      const w = `log #${l.seq} (${l.severityText ?? 'no severity'})`;
      assert.equal(row.LogAttributes?.['e2e.seq'], String(l.seq), `${w}: row order / e2e.seq`);
      eq64(row.TimestampNs, l.ns, `${w}: Timestamp (ns)`);
      assert.equal(row.Timestamp, nsToDateTime64(l.ns), `${w}: Timestamp rendering`);
      assert.equal(row.TraceId, l.traceId, `${w}: TraceId`);
      assert.equal(row.SpanId, l.spanId, `${w}: SpanId`);
      assert.equal(row.TraceFlags, l.traceFlags, `${w}: TraceFlags`);
      if (l.ctx) {
        assert.ok(isHex(row.TraceId, 32) && isHex(row.SpanId, 16), `${w}: trace context must be hex ids`);
      }
      assert.equal(row.SeverityText, l.severityText ?? '', `${w}: SeverityText`);
      assert.equal(row.SeverityNumber, l.severityNumber ?? 0, `${w}: SeverityNumber`);
      assert.equal(row.ServiceName, ctx.sent.svc, `${w}: ServiceName`);
      if (typeof l.body === 'string') assert.equal(row.Body, l.body, `${w}: string Body`);
      else assertStoredValue(row.Body, l.body, `${w}: map Body as compact JSON`);
      assert.equal(row.ResourceSchemaUrl, ctx.sent.resourceSchemaUrl, `${w}: ResourceSchemaUrl`);
      assertStoredMap(row.ResourceAttributes, ctx.sent.resourceAttrs, `${w}: ResourceAttributes`);
      assert.equal(row.ScopeSchemaUrl, ctx.sent.scopeSchemaUrl, `${w}: ScopeSchemaUrl`);
      assert.equal(row.ScopeName, 'e2e-logger', `${w}: ScopeName`);
      assert.equal(row.ScopeVersion, '0.9.0', `${w}: ScopeVersion`);
      assertStoredMap(row.ScopeAttributes, ctx.sent.scopeAttrs, `${w}: ScopeAttributes`);
      assertStoredMap(row.LogAttributes, l.attrs, `${w}: LogAttributes`);
      assert.equal(row.EventName, l.eventName ?? '', `${w}: EventName`);
    });
    // the logs emitted inside spans carry those spans' ids, as stored in otel_traces
    const spans = await ctx.server.sqlObjects(
      'SELECT SpanName, TraceId, SpanId FROM otel.otel_traces WHERE ServiceName = {svc:String}', { svc: ctx.sent.svc });
    const span = Object.fromEntries(spans.map((s) => [s.SpanName, s]));
    assert.equal(rows[2].SpanId, span['child-client']?.SpanId, 'INFO log emitted in child-client carries its SpanId');
    assert.equal(rows[4].SpanId, span['grandchild-internal']?.SpanId, 'ERROR log emitted in grandchild-internal carries its SpanId');
    assert.equal(rows[4].TraceId, span['root-server']?.TraceId, 'ERROR log carries the trace id of the nested trace');
  });

  for (const kind of ['sum', 'gauge', 'histogram', 'exponential_histogram', 'summary']) {
    test(`metrics: otel_metrics_${kind}`, TIMEOUT, async () => {
      const rows = await ctx.server.sqlObjects(METRIC_QUERIES[kind], { svc: ctx.sent.svc });
      const expected = ctx.sent.metricsExpected[kind];
      const captured = capturedPoints(ctx.sent.metricExporter);
      const rowsByKey = new Map();
      for (const r of rows) {
        const k = `${r.MetricName} ${attrKey(r.Attributes)}`;
        assert.ok(!rowsByKey.has(k), `otel_metrics_${kind}: duplicate row for ${k}`);
        rowsByKey.set(k, r);
      }
      assert.deepEqual([...rowsByKey.keys()].sort(),
        expected.map((e) => `${e.name} ${storedAttrKey(e.attrs)}`).sort(), `otel_metrics_${kind}: the set of (metric, attributes) rows`);
      for (const e of expected) {
        const row = rowsByKey.get(`${e.name} ${storedAttrKey(e.attrs)}`);
        const w = `${kind} ${e.name} ${JSON.stringify(e.attrs)}`;
        const hand = kind === 'summary' || e.exemplar;
        const cap = hand ? null : captured.get(`${e.name} ${attrKey(e.attrs)}`);
        if (!hand) assert.ok(cap, `test bug: the SDK did not export ${w}`);
        assert.equal(row.MetricDescription, e.description, `${w}: MetricDescription`);
        assert.equal(row.MetricUnit, e.unit, `${w}: MetricUnit`);
        assertStoredMap(row.Attributes, e.attrs, `${w}: Attributes`);
        assertStoredMap(row.ResourceAttributes, ctx.sent.resourceAttrs, `${w}: ResourceAttributes`);
        assert.equal(row.ServiceName, ctx.sent.svc, `${w}: ServiceName`);
        assert.equal(row.ScopeName, hand ? 'e2e-handwritten' : 'e2e-meter', `${w}: ScopeName`);
        assert.equal(row.ScopeVersion, hand ? '0.1.0' : '2.0.0', `${w}: ScopeVersion`);
        assert.equal(row.Flags, 0, `${w}: Flags`);
        const startNs = hand ? e.startNs : hrTimeToNs(cap.point.startTime);
        const timeNs = hand ? e.timeNs : hrTimeToNs(cap.point.endTime);
        eq64(row.StartNs, startNs, `${w}: StartTimeUnix (ns)`);
        eq64(row.TimeNs, timeNs, `${w}: TimeUnix (ns)`);
        assert.equal(row.TimeUnix, nsToDateTime64(timeNs), `${w}: TimeUnix rendering`);
        if (kind !== 'summary') {
          if (e.exemplar) {
            assert.deepEqual(row.ExemplarNs, [String(e.exemplar.ns)], `${w}: Exemplars.TimeUnix`);
            assert.deepEqual(row['Exemplars.Value'], [e.exemplar.value], `${w}: Exemplars.Value`);
            assert.deepEqual(row['Exemplars.TraceId'], [e.exemplar.traceId], `${w}: Exemplars.TraceId`);
            assert.deepEqual(row['Exemplars.SpanId'], [e.exemplar.spanId], `${w}: Exemplars.SpanId`);
            assert.equal(row['Exemplars.FilteredAttributes'].length, 1, `${w}: Exemplars.FilteredAttributes`);
            assertStoredMap(row['Exemplars.FilteredAttributes'][0], e.exemplar.attrs, `${w}: Exemplars.FilteredAttributes[0]`);
          } else {
            for (const c of ['ExemplarNs', 'Exemplars.Value', 'Exemplars.TraceId', 'Exemplars.SpanId', 'Exemplars.FilteredAttributes']) {
              assert.deepEqual(row[c], [], `${w}: ${c} (the SDK sent no exemplars)`);
            }
          }
        }
        if (kind === 'sum' || kind === 'gauge') {
          assert.equal(row.Value, e.value, `${w}: Value`);
          if (!hand) assert.equal(cap.point.value, e.value, `test bug: SDK value ${cap.point.value}`);
        }
        if (kind === 'sum') {
          assert.equal(row.IsMonotonic, e.monotonic, `${w}: IsMonotonic`);
          assert.equal(row.AggregationTemporality, e.temporality, `${w}: AggregationTemporality`);
          assert.equal(cap.metric.isMonotonic, e.monotonic, 'test bug: SDK monotonicity');
          assert.equal(cap.metric.aggregationTemporality + 1, e.temporality, 'test bug: SDK temporality');
        }
        if (kind === 'histogram') {
          eq64(row.Count, e.count, `${w}: Count`);
          assert.equal(row.Sum, e.sum, `${w}: Sum`);
          assert.deepEqual(row.BucketCounts, e.buckets.map(String), `${w}: BucketCounts (UInt64 as strings)`);
          assert.deepEqual(row.ExplicitBounds, e.bounds, `${w}: ExplicitBounds`);
          assert.equal(row.Min, e.min, `${w}: Min`);
          assert.equal(row.Max, e.max, `${w}: Max`);
          assert.equal(row.AggregationTemporality, e.temporality, `${w}: AggregationTemporality`);
          assert.deepEqual(cap.point.value.buckets.counts, e.buckets, 'test bug: SDK bucket counts');
          assert.equal(cap.metric.aggregationTemporality + 1, e.temporality, 'test bug: SDK temporality');
        }
        if (kind === 'exponential_histogram') {
          const v = cap.point.value;
          eq64(row.Count, e.count, `${w}: Count`);
          assert.equal(row.Sum, e.sum, `${w}: Sum`);
          eq64(row.ZeroCount, e.zeroCount, `${w}: ZeroCount`);
          assert.equal(row.Min, e.min, `${w}: Min`);
          assert.equal(row.Max, e.max, `${w}: Max`);
          assert.equal(row.AggregationTemporality, e.temporality, `${w}: AggregationTemporality`);
          assert.equal(row.Scale, v.scale, `${w}: Scale (as the SDK sent it)`);
          assert.equal(row.PositiveOffset, v.positive.offset, `${w}: PositiveOffset`);
          assert.deepEqual(row.PositiveBucketCounts, v.positive.bucketCounts.map(String), `${w}: PositiveBucketCounts`);
          assert.equal(row.NegativeOffset, v.negative.offset, `${w}: NegativeOffset`);
          assert.deepEqual(row.NegativeBucketCounts, v.negative.bucketCounts.map(String), `${w}: NegativeBucketCounts`);
          // and independently of the SDK: each recorded value > 0 lands in its bucket
          const counts = new Map();
          for (const x of e.values.filter((x) => x > 0)) {
            const i = expBucketIndex(x, row.Scale) - row.PositiveOffset;
            counts.set(i, (counts.get(i) ?? 0) + 1);
          }
          row.PositiveBucketCounts.forEach((c, i) => assert.equal(Number(c), counts.get(i) ?? 0,
            `${w}: positive bucket ${i} (scale ${row.Scale}, offset ${row.PositiveOffset}) should count ${counts.get(i) ?? 0} of ${JSON.stringify(e.values)}`));
          assert.equal(row.PositiveBucketCounts.reduce((a, c) => a + Number(c), 0), e.values.filter((x) => x > 0).length,
            `${w}: positive buckets hold every value > 0`);
        }
        if (kind === 'summary') {
          eq64(row.Count, e.count, `${w}: Count`);
          assert.equal(row.Sum, e.sum, `${w}: Sum`);
          assert.deepEqual(row['ValueAtQuantiles.Quantile'], e.quantiles.map((q) => q[0]), `${w}: ValueAtQuantiles.Quantile`);
          assert.deepEqual(row['ValueAtQuantiles.Value'], e.quantiles.map((q) => q[1]), `${w}: ValueAtQuantiles.Value`);
        }
      }
    });
  }
}
