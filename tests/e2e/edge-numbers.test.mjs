// The official OpenTelemetry JS SDK's OTLP/JSON exporters write every int64 as JSON.stringify of a
// Number: past 2^53 as the double it became (9223372036854776000, -9223372036854776000,
// 9007199254740994), large ones in exponent form (1e+21). The same records are sent twice, through
// exporter-*-otlp-http (JSON) and exporter-*-otlp-proto (protobuf), with such numbers in resource,
// span, event, link and log attributes, log bodies and every metric kind the SDK makes; every
// request must get 200 with nothing rejected, and the stored rows (read back through
// POST /api/v1/sql) must match the protobuf twin value by value.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/edge-numbers.test.mjs   (env STACKHOUSE_BIN)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { SpanKind, ROOT_CONTEXT, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, AggregationType } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as TraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter as LogExporterJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogExporterProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricExporterJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricExporterProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

import { startServer } from './lib/server.mjs';
import { startRecordingProxy, describeRequest } from './lib/proxy.mjs';
import { rejectedCount } from './lib/sdk-scenario.mjs';

const TIMEOUT = { timeout: 120_000 };
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const FLAVOURS = [
  { name: 'json', proto: false },
  { name: 'proto', proto: true },
];
const svcOf = (f) => `e2e-edge-${f.name}-${RUN}`;

// JavaScript Numbers that JSON.stringify writes past 2^53 or in exponent form.
const EDGES = {
  'edge.two_pow_63': 2 ** 63, // 9223372036854776000: past int64
  'edge.minus_two_pow_63': -(2 ** 63), // -9223372036854776000: int64's minimum, as a double
  'edge.two_pow_53_plus_2': 2 ** 53 + 2, // 9007199254740994
  'edge.max_safe': Number.MAX_SAFE_INTEGER,
  'edge.e21': 1e21, // 1e+21
  'edge.minus_e21': -1e21,
  'edge.two_pow_64': 2 ** 64, // 18446744073709552000: past uint64 too
};
const inInt64 = (v) => Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63;
// An attribute value as stored: an int64 in decimal, any other number as a double is written
// (shortest round-trip digits, exponent form from 1e21 on), which is what JSON.stringify wrote.
const storedText = (v) => (inInt64(v) ? BigInt(v).toString() : String(v));

let server;
let proxy;

before(async () => {
  server = await startServer();
  proxy = await startRecordingProxy(() => server.otlpUrl);
}, { timeout: 90_000 });

after(async () => {
  await proxy?.close();
  await server?.cleanup();
});

class Recording {
  constructor(inner) {
    this.inner = inner;
    this.results = [];
    if (inner.selectAggregationTemporality) this.selectAggregationTemporality = (t) => inner.selectAggregationTemporality(t);
    if (inner.selectAggregation) this.selectAggregation = (t) => inner.selectAggregation(t);
  }
  export(items, done) { this.inner.export(items, (r) => { this.results.push(r); done(r); }); }
  forceFlush() { return this.inner.forceFlush?.() ?? Promise.resolve(); }
  shutdown() { return this.inner.shutdown(); }
}

function options(f, signal) {
  return { url: `${proxy.url}/v1/${signal}`, headers: { 'x-e2e-tag': `edge-${f.name}` }, timeoutMillis: 30_000 };
}

// What the INT instruments record: each value under its own `which` attribute.
const INT_POINTS = {
  two_pow_63: 2 ** 63,
  minus_two_pow_63: -(2 ** 63),
  two_pow_53_plus_2: 2 ** 53 + 2,
  e21: 1e21,
  minus_e21: -1e21,
};

async function sendAll(f) {
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: svcOf(f), 'edge.resource': 2 ** 63 });
  const now = BigInt(Date.now()) * 1_000_000n;
  const hr = (ns) => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

  const spanExporter = new Recording(f.proto ? new TraceExporterProto(options(f, 'traces')) : new TraceExporterJson(options(f, 'traces')));
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(spanExporter)] });
  const tracer = tracerProvider.getTracer('e2e-edge', '1.0.0');
  const target = tracer.startSpan('edge-target', { kind: SpanKind.INTERNAL, startTime: hr(now) }, ROOT_CONTEXT);
  target.end(hr(now + 1000n));
  const span = tracer.startSpan('edge-span', {
    kind: SpanKind.SERVER, startTime: hr(now), attributes: { ...EDGES, 'edge.array': Object.values(EDGES) },
    links: [{ context: target.spanContext(), attributes: EDGES }],
  }, ROOT_CONTEXT);
  span.addEvent('edge-event', EDGES, hr(now + 10n));
  span.end(hr(now + 2000n));

  const logExporter = new Recording(f.proto ? new LogExporterProto(options(f, 'logs')) : new LogExporterJson(options(f, 'logs')));
  const loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: logExporter })] });
  const logger = loggerProvider.getLogger('e2e-edge', '1.0.0', { attributes: { 'edge.scope': 1e21 } });
  logger.emit({ timestamp: hr(now), severityNumber: SeverityNumber.INFO, body: 2 ** 63, attributes: { seq: 0, ...EDGES } });
  logger.emit({ timestamp: hr(now + 1n), severityNumber: SeverityNumber.INFO, body: -1e21, attributes: { seq: 1 } });
  logger.emit({ timestamp: hr(now + 2n), severityNumber: SeverityNumber.INFO, body: { ...EDGES, nested: [2 ** 63, 1e21] }, attributes: { seq: 2 } });

  const metricExporter = new Recording(f.proto ? new MetricExporterProto(options(f, 'metrics')) : new MetricExporterJson(options(f, 'metrics')));
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000, exportTimeoutMillis: 30_000 });
  const meterProvider = new MeterProvider({
    resource,
    readers: [reader],
    views: [{ instrumentName: 'edge.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = meterProvider.getMeter('e2e-edge', '1.0.0');
  const counter = meter.createCounter('edge.counter', { valueType: ValueType.INT });
  const upDown = meter.createUpDownCounter('edge.updown', { valueType: ValueType.INT });
  for (const [which, v] of Object.entries(INT_POINTS)) {
    if (v >= 0) counter.add(v, { which });
    upDown.add(v, { which });
  }
  meter.createObservableGauge('edge.gauge', { valueType: ValueType.INT }).addCallback((r) => {
    for (const [which, v] of Object.entries(INT_POINTS)) r.observe(v, { which });
  });
  const histogram = meter.createHistogram('edge.histogram', { valueType: ValueType.INT });
  const exp = meter.createHistogram('edge.exp', { valueType: ValueType.INT });
  for (const v of [2 ** 63, 1e21, 2 ** 53 + 2, 3]) {
    histogram.record(v, EDGES);
    exp.record(v, EDGES);
  }

  await tracerProvider.forceFlush();
  await loggerProvider.forceFlush();
  await meterProvider.forceFlush();
  await tracerProvider.shutdown();
  await loggerProvider.shutdown();
  await metricExporter.shutdown();
  return { spanExporter, logExporter, metricExporter };
}

// The rows of one flavour, without service.name (the one resource attribute that differs).
async function rows(f, query) {
  const got = await server.sqlObjects(query, { svc: svcOf(f) });
  for (const r of got) {
    assert.equal(r.Resource['service.name'], svcOf(f));
    delete r.Resource['service.name'];
  }
  return got;
}

const TRACES = `SELECT SpanName, SpanKind, ResourceAttributes AS Resource,
  SpanAttributes, Events.Name, Events.Attributes, Links.Attributes
  FROM otel.otel_traces WHERE ServiceName = {svc:String} ORDER BY SpanName`;
const LOGS = `SELECT Body, ResourceAttributes AS Resource,
  ScopeAttributes, LogAttributes
  FROM otel.otel_logs WHERE ServiceName = {svc:String} ORDER BY toUInt32OrZero(LogAttributes['seq'])`;
const POINT_COMMON = `MetricName, Attributes, ResourceAttributes AS Resource`;
const METRICS = {
  sum: `SELECT ${POINT_COMMON}, Value, IsMonotonic, AggregationTemporality FROM otel.otel_metrics_sum
        WHERE ServiceName = {svc:String} ORDER BY MetricName, Attributes['which']`,
  gauge: `SELECT ${POINT_COMMON}, Value FROM otel.otel_metrics_gauge
          WHERE ServiceName = {svc:String} ORDER BY MetricName, Attributes['which']`,
  histogram: `SELECT ${POINT_COMMON}, Count, Sum, Min, Max, BucketCounts, ExplicitBounds FROM otel.otel_metrics_histogram
              WHERE ServiceName = {svc:String} ORDER BY MetricName`,
  exponential_histogram: `SELECT ${POINT_COMMON}, Count, Sum, Min, Max, Scale, ZeroCount, PositiveOffset,
              PositiveBucketCounts, NegativeOffset, NegativeBucketCounts FROM otel.otel_metrics_exponential_histogram
              WHERE ServiceName = {svc:String} ORDER BY MetricName`,
};

const expectedAttrs = (attrs) => Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, storedText(v)]));

describe('numbers past 2^53 and in exponent form (exporter-*-otlp-http against exporter-*-otlp-proto)', () => {
  const sent = {};
  before(async () => {
    for (const f of FLAVOURS) sent[f.name] = await sendAll(f);
    // Acknowledged once in the queue; stored a moment later. Wait until each flavour's rows are
    // there and hold still over more than one batch timeout.
    const q = `SELECT (SELECT count() FROM otel.otel_traces WHERE ServiceName = {svc:String}) AS t,
                      (SELECT count() FROM otel.otel_logs WHERE ServiceName = {svc:String}) AS l`;
    for (const f of FLAVOURS) {
      const deadline = Date.now() + 15_000;
      let last = '';
      for (;;) {
        const [r] = await server.sqlObjects(q, { svc: svcOf(f) });
        const now = `${r.t}/${r.l}`;
        if ((Number(r.t) > 0 && Number(r.l) > 0 && now === last) || Date.now() > deadline) break;
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }, TIMEOUT);

  test('every request got 200 with nothing rejected, and every export succeeded', TIMEOUT, () => {
    for (const f of FLAVOURS) {
      const mine = proxy.requests.filter((r) => r.tag === `edge-${f.name}`);
      for (const signal of ['traces', 'logs', 'metrics']) {
        assert.ok(mine.some((r) => r.path === `/v1/${signal}`), `${f.name}: no request to /v1/${signal}`);
      }
      for (const r of mine) {
        const what = describeRequest(r);
        assert.equal(r.error, null, `request failed: ${what}`);
        assert.equal(r.status, 200, `${what}: ${r.responseBody?.toString('utf8').slice(0, 300)}`);
        assert.equal(rejectedCount(r), 0, `partial success rejected records: ${what}`);
      }
      for (const rec of Object.values(sent[f.name])) {
        assert.ok(rec.results.length > 0 && rec.results.every((x) => x.code === 0), `${f.name}: an export failed`);
      }
    }
    // The JSON requests really carry the numbers this test is about.
    const json = proxy.requests.filter((r) => r.tag === 'edge-json').map((r) => r.body.toString('utf8')).join('\n');
    for (const literal of ['9223372036854776000', '-9223372036854776000', '9007199254740994', '1e+21', '-1e+21', '18446744073709552000']) {
      assert.ok(json.includes(`"intValue":${literal}`), `the SDK's JSON holds no "intValue":${literal}`);
    }
    assert.ok(json.includes('"asInt":9223372036854776000') && json.includes('"asInt":1e+21'), 'the SDK JSON holds no large asInt');
  });

  test('spans: resource, span, event and link attributes match the protobuf twin and the values sent', TIMEOUT, async () => {
    const [j, p] = [await rows(FLAVOURS[0], TRACES), await rows(FLAVOURS[1], TRACES)];
    assert.deepEqual(j.map((r) => r.SpanName), ['edge-span', 'edge-target']);
    assert.deepEqual(j, p);
    const s = j[0];
    assert.deepEqual(s.Resource, { 'edge.resource': '9223372036854776000' });
    assert.deepEqual(s.SpanAttributes, {
      ...expectedAttrs(EDGES), 'edge.array': `[${Object.values(EDGES).map(storedText).join(',')}]`,
    });
    assert.deepEqual(s['Events.Attributes'], [expectedAttrs(EDGES)]);
    assert.deepEqual(s['Links.Attributes'], [expectedAttrs(EDGES)]);
  });

  test('logs: bodies, scope and record attributes match the protobuf twin and the values sent', TIMEOUT, async () => {
    const [j, p] = [await rows(FLAVOURS[0], LOGS), await rows(FLAVOURS[1], LOGS)];
    assert.equal(j.length, 3, 'every log record stored');
    assert.deepEqual(j, p);
    assert.equal(j[0].Body, '9223372036854776000');
    assert.equal(j[1].Body, '-1e+21');
    assert.deepEqual(JSON.parse(j[2].Body), { ...EDGES, nested: [2 ** 63, 1e21] });
    assert.deepEqual(j[0].ScopeAttributes, { 'edge.scope': '1e+21' });
    assert.deepEqual(j[0].LogAttributes, { seq: '0', ...expectedAttrs(EDGES) });
  });

  for (const kind of Object.keys(METRICS)) {
    test(`metrics (${kind}): every point stored, values match the protobuf twin`, TIMEOUT, async () => {
      const [j, p] = [await rows(FLAVOURS[0], METRICS[kind]), await rows(FLAVOURS[1], METRICS[kind])];
      const intKind = kind === 'sum' || kind === 'gauge';
      assert.ok(j.length > 0, `no otel_metrics_${kind} rows`);
      assert.equal(j.length, p.length, 'as many points as over protobuf');
      for (let i = 0; i < j.length; ++i) {
        const w = `otel_metrics_${kind} ${j[i].MetricName} ${JSON.stringify(j[i].Attributes)}`;
        if (!intKind) {
          assert.deepEqual(j[i], p[i], w);
          assert.deepEqual(j[i].Attributes, expectedAttrs(EDGES), `${w}: Attributes`);
          continue;
        }
        const { Value: jv, ...jRest } = j[i];
        const { Value: pv, ...pRest } = p[i];
        assert.deepEqual(jRest, pRest, w);
        const sentValue = INT_POINTS[j[i].Attributes.which];
        // Over JSON the value arrives as the double it is. The SDK's protobuf serializer writes
        // asInt as sfixed64 from a Number, which wraps past int64 (2^63 arrives as -2^63), so the
        // twin is compared only within int64.
        assert.equal(Number(jv), sentValue, `${w}: Value over JSON`);
        if (inInt64(sentValue)) assert.equal(Number(pv), Number(jv), `${w}: Value, JSON against protobuf`);
      }
      if (intKind) {
        const names = new Set(j.map((r) => r.MetricName));
        const want = kind === 'sum' ? ['edge.counter', 'edge.updown'] : ['edge.gauge'];
        assert.deepEqual([...names].sort(), want);
        const perName = kind === 'sum' ? 3 + 5 : 5; // counters take no negative values
        assert.equal(j.length, perName, 'one point per recorded value');
      }
    });
  }
});
