// Self-test of the end-to-end harness (no stackhouse binary needed): the helpers in otlp.mjs, the
// protobuf encoder against the SDK's own serializer, and server.mjs against fake-stackhouse.mjs.
//
// Run: node --test --test-reporter=spec tests/e2e/lib/harness.test.mjs

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, InMemoryMetricExporter, PeriodicExportingMetricReader, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { ProtobufMetricsSerializer, JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';

import { nsToDateTime64, hrTimeToNs, nsToHrTime, storedForm, assertStoredMap, encodeMetricsRequest, keyValues } from './otlp.mjs';
import { StackhouseServer, startServer } from './server.mjs';
import { startRecordingProxy } from './proxy.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FAKE = path.join(here, 'fake-stackhouse.mjs');

describe('otlp helpers', () => {
  test('DateTime64(9) rendering and ns conversions', () => {
    assert.equal(nsToDateTime64(0n), '1970-01-01 00:00:00.000000000');
    assert.equal(nsToDateTime64(1_700_000_000_123_456_789n), '2023-11-14 22:13:20.123456789');
    assert.equal(hrTimeToNs([1_700_000_000, 5]), 1_700_000_000_000_000_005n);
    assert.deepEqual(nsToHrTime(1_700_000_000_000_000_005n), [1_700_000_000, 5]);
  });

  test('stored forms of attribute values', () => {
    assert.deepEqual(storedForm('a'), { text: 'a' });
    assert.deepEqual(storedForm(true), { text: 'true' });
    assert.deepEqual(storedForm(-7), { text: '-7' });
    assert.deepEqual(storedForm(0.1), { text: '0.1' });
    assert.deepEqual(storedForm(new Uint8Array([0, 255])), { text: 'AP8=' });
    assert.deepEqual(storedForm([1, 'x']), { json: [1, 'x'] });
    assert.deepEqual(storedForm({ a: { b: [true] } }), { json: { a: { b: [true] } } });
  });

  test('assertStoredMap accepts the right map and rejects wrong ones', () => {
    const sent = { s: 'v', n: 3, arr: ['a', 'b'], m: { k: 1 } };
    assertStoredMap({ s: 'v', n: '3', arr: '["a","b"]', m: '{"k":1}' }, sent, 'ok');
    assert.throws(() => assertStoredMap({ s: 'v', n: '3', arr: '["a", "b"]', m: '{"k":1}' }, sent, 'spaces'), /not compact/);
    assert.throws(() => assertStoredMap({ s: 'v', n: '3.0', arr: '["a","b"]', m: '{"k":1}' }, sent, 'n'));
    assert.throws(() => assertStoredMap({ s: 'v', n: '3', arr: '["a","b"]' }, sent, 'missing key'), /keys differ/);
    assert.throws(() => assertStoredMap({ s: 'v', n: '3', arr: '["b","a"]', m: '{"k":1}' }, sent, 'order'));
  });

  test('encodeMetricsRequest writes the same bytes as the SDK protobuf serializer', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const mp = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'x', n: 3, arr: [1, 'a'], d: 2.5, b: false }), readers: [reader] });
    const meter = mp.getMeter('scope', '1.0');
    meter.createObservableGauge('g', { unit: 'u', description: 'd' })
      .addCallback((r) => { r.observe(2.5, { a: 'b', i: -7, f: true }); r.observe(-1.25); });
    meter.createObservableGauge('gi', { valueType: ValueType.INT }).addCallback((r) => r.observe(42, { k: 'v' }));
    await reader.forceFlush();
    const rm = exporter.getMetrics()[0];
    const sdkBytes = Buffer.from(ProtobufMetricsSerializer.serializeRequest(rm));
    const asJson = JSON.parse(Buffer.from(JsonMetricsSerializer.serializeRequest(rm)).toString('utf8'));
    assert.equal(encodeMetricsRequest(asJson).toString('hex'), sdkBytes.toString('hex'));
    await mp.shutdown();
  });
  // Summary and exemplars have no SDK serializer to compare with: protoc parses them instead,
  // with the .proto files of the decoder's differential test (skipped when either is missing).
  const protoDir = path.join(here, '..', '..', 'otlp', 'proto');
  const protoc = spawnSync('protoc', ['--version']).status === 0;
  test('encodeMetricsRequest: summary and exemplar as protoc reads them', { skip: !(protoc && fs.existsSync(protoDir)) && 'no protoc or tests/otlp/proto' }, () => {
    const req = { resourceMetrics: [{ resource: { attributes: keyValues({ 'service.name': 's' }) }, schemaUrl: 'https://r', scopeMetrics: [{
      scope: { name: 'h', version: '0.1.0' },
      metrics: [
        { name: 'sm', unit: 's', description: 'd', summary: { dataPoints: [{ attributes: keyValues({ ok: true }), startTimeUnixNano: '1', timeUnixNano: '2',
          count: '10', sum: 55.5, quantileValues: [{ quantile: 0, value: 1 }, { quantile: 0.99, value: 9.9 }] }] } },
        { name: 'g', gauge: { dataPoints: [{ startTimeUnixNano: '1', timeUnixNano: '3', asDouble: 0.042, exemplars: [{ timeUnixNano: '4', asDouble: 0.5,
          traceId: '6144ac29fd20d374a551c072b1956dd3', spanId: '00f067aa0ba902b7', filteredAttributes: keyValues({ u: 'x' }) }] }] } },
      ] }] }] };
    const r = spawnSync('protoc', ['-I.', '--decode=opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
      'opentelemetry/proto/collector/metrics/v1/metrics_service.proto'], { cwd: protoDir, input: encodeMetricsRequest(req) });
    assert.equal(r.status, 0, r.stderr.toString());
    const text = r.stdout.toString().replace(/\s+/g, ' ');
    for (const want of [
      'summary { data_points { start_time_unix_nano: 1 time_unix_nano: 2 count: 10 sum: 55.5 quantile_values { value: 1 } quantile_values { quantile: 0.99 value: 9.9 } attributes { key: "ok" value { bool_value: true } } } }',
      'gauge { data_points { start_time_unix_nano: 1 time_unix_nano: 3 as_double: 0.042 exemplars { time_unix_nano: 4 as_double: 0.5 span_id: "\\000\\360g\\252\\013\\251\\002\\267"',
      'filtered_attributes { key: "u" value { string_value: "x" } }',
      'schema_url: "https://r"',
    ]) assert.ok(text.includes(want), `protoc output lacks ${want}:\n${text}`);
  });
});

describe('server.mjs against fake-stackhouse', () => {
  test('starts, learns its endpoints, runs sql, survives kill -9 and restarts on the same data dir', { timeout: 60_000 }, async () => {
    const s = await startServer({ bin: FAKE, name: 'harness' });
    try {
      assert.match(s.otlpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(s.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(s.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(await s.sql('SELECT 1 AS x'), { columns: [{ name: 'x', type: 'String' }], rows: [[1]], elapsed_ms: 0 });
      await assert.rejects(s.sql('SELECT nonsense'), /HTTP 400.*"code":62/s);
      const r = await fetch(`${s.otlpUrl}/v1/logs`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'h' } }] },
          scopeLogs: [{ logRecords: [{ body: { stringValue: 'payload a-0 x' }, attributes: [{ key: 'rid', value: { stringValue: 'a-0' } }, { key: 'req', value: { stringValue: 'a' } }] }] }] }] }),
      });
      assert.equal(r.status, 200);
      const pid = s.pid;
      await s.kill9();
      assert.equal(s.running, false);
      assert.throws(() => process.kill(pid, 0), /ESRCH/);
      await s.start();
      assert.notEqual(s.pid, pid);
      const [row] = await s.sqlObjects('SELECT count() AS rows', { svc: 'h' });
      assert.deepEqual(row, { rows: '1', ids: '1' }, 'data dir kept across the restart');
      await s.restart();
      assert.equal(s.running, true);
    } finally {
      await s.cleanup();
    }
    assert.equal(fs.existsSync(s.workDir), false, 'temporary directory removed');
  });

  test('a crash before "ready" is reported with the server output', { timeout: 30_000 }, async () => {
    await assert.rejects(startServer({ bin: FAKE, env: { FAKE_STACKHOUSE_MODE: 'crash' } }),
      /exited before "ready" \(code=3[\s\S]*crashing as asked/);
  });

  test('no "ready" within the start timeout is an error, and the child is killed', { timeout: 30_000 }, async () => {
    const s = new StackhouseServer({ bin: FAKE, env: { FAKE_STACKHOUSE_MODE: 'hang' }, startTimeoutMs: 1500 });
    await assert.rejects(s.start(), /did not print "ready" within 1\.5 s/);
    assert.equal(s.running, false);
    await s.cleanup();
  });

  test('a missing listener is an error', { timeout: 30_000 }, async () => {
    await assert.rejects(startServer({ bin: FAKE, env: { FAKE_STACKHOUSE_MODE: 'no-api' } }), /no "listening" line for component api/);
  });

  test('a missing binary is a clear error', async () => {
    await assert.rejects(startServer({ bin: '/nonexistent/stackhouse' }), /binary not found at \/nonexistent\/stackhouse/);
  });

  test('the server dies with the test process, even on SIGKILL', { timeout: 30_000 }, async () => {
    const script = `
      import { startServer } from ${JSON.stringify(path.join(here, 'server.mjs'))};
      const s = await startServer({ bin: ${JSON.stringify(FAKE)} });
      console.log(JSON.stringify({ pid: s.pid, dir: s.workDir }));
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(d.toString()));
      child.once('exit', (code) => reject(new Error(`helper exited ${code}`)));
    });
    const { pid, dir } = JSON.parse(line);
    process.kill(pid, 0);            // alive
    child.kill('SIGKILL');
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try { process.kill(pid, 0); } catch { gone = true; }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    assert.ok(gone, `server pid ${pid} outlived its SIGKILLed parent`);
  });
});

describe('proxy.mjs', () => {
  test('forwards unchanged and records both sides', { timeout: 30_000 }, async () => {
    const s = await startServer({ bin: FAKE });
    const p = await startRecordingProxy(() => s.otlpUrl);
    try {
      const r = await fetch(`${p.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'x-e2e-tag': 't' }, body: Buffer.from([1, 2, 3]) });
      assert.equal(r.status, 200);
      assert.equal(p.requests.length, 1);
      const rec = p.requests[0];
      assert.equal(rec.tag, 't');
      assert.equal(rec.path, '/v1/traces');
      assert.deepEqual([...rec.body], [1, 2, 3]);
      assert.equal(rec.status, 200);
      assert.equal(rec.responseHeaders['content-type'], 'application/x-protobuf');
    } finally {
      await p.close();
      await s.cleanup();
    }
  });
});

describe('durability.test.mjs can fail', () => {
  const run = (bug) => new Promise((resolve) => {
    const env = { ...process.env, STACKHOUSE_BIN: FAKE, FAKE_STACKHOUSE_BUG: bug };
    delete env.NODE_TEST_CONTEXT;    // a test runner of its own, not a child of this one
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', path.join(here, '..', 'durability.test.mjs')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => resolve({ code, out }));
  });

  test('passes against a server that keeps its promise', { timeout: 60_000 }, async () => {
    const { code, out } = await run('');
    assert.equal(code, 0, out);
  });

  test('catches acknowledged records lost by kill -9', { timeout: 60_000 }, async () => {
    const { code, out } = await run('lose');
    assert.notEqual(code, 0, out);
    assert.match(out, /acknowledged requests with records missing after kill -9 and restart: [1-9]/, out);
  });

  test('catches retried requests stored twice', { timeout: 60_000 }, async () => {
    const { code, out } = await run('dup');
    assert.notEqual(code, 0, out);
    assert.match(out, /retried requests stored more than once: [1-9]/, out);
    assert.match(out, /retried requests not stored exactly once: [1-9]/, out);
  });
});
