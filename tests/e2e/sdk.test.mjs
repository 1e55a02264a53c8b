// End to end with the official OpenTelemetry JS SDK: for each exporter flavour — OTLP/HTTP JSON
// (exporter-*-otlp-http) and protobuf (exporter-*-otlp-proto), gzip on and off — send nested spans
// with events, links and error status, logs of every severity with string and map bodies, and every
// metric kind (summary and exemplars hand-written, the SDK makes neither), then read the rows back
// through POST /api/v1/sql and compare them value by value with what was sent.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/sdk.test.mjs   (env STACKHOUSE_BIN)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './lib/server.mjs';
import { startRecordingProxy, describeRequest } from './lib/proxy.mjs';
import {
  sendAll, storedRowTests, assertExportsSucceeded, rejectedCount, otlpHttpTransport, TIMEOUT,
} from './lib/sdk-scenario.mjs';

const FLAVOURS = [
  { name: 'json-identity', proto: false, gzip: false, delta: false },
  { name: 'json-gzip', proto: false, gzip: true, delta: true },
  { name: 'proto-identity', proto: true, gzip: false, delta: true },
  { name: 'proto-gzip', proto: true, gzip: true, delta: false },
];

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

// ---- sending: OTLP/HTTP through the recording proxy ----------------------------------------------

const httpTransport = otlpHttpTransport(() => proxy.url);

for (const f of FLAVOURS) {
  describe(`${f.name} (${f.proto ? 'exporter-*-otlp-proto' : 'exporter-*-otlp-http'}, compression ${f.gzip ? 'gzip' : 'none'})`, () => {
    let sent;
    const ctx = { server: null, sent: null };
    before(async () => {
      sent = await sendAll(f, httpTransport);
      Object.assign(ctx, { server, sent });
    }, TIMEOUT);

    test('the exporters sent this flavour and every export succeeded', TIMEOUT, () => {
      const mine = proxy.requests.filter((r) => r.tag === f.name);
      for (const signal of ['traces', 'logs', 'metrics']) {
        assert.ok(mine.some((r) => r.path === `/v1/${signal}`), `no request to /v1/${signal} was sent`);
      }
      const wantType = f.proto ? 'application/x-protobuf' : 'application/json';
      for (const r of mine) {
        const what = describeRequest(r);
        assert.equal(r.method, 'POST', what);
        assert.equal(r.contentType?.split(';')[0], wantType, `request media type: ${what}`);
        if (f.gzip) {
          assert.equal(r.contentEncoding, 'gzip', `request encoding: ${what}`);
          assert.ok(r.body[0] === 0x1f && r.body[1] === 0x8b, `body is not gzip: ${what}`);
        } else {
          assert.ok(!r.contentEncoding || r.contentEncoding === 'identity', `request encoding: ${what}`);
        }
        assert.equal(r.error, null, `request failed: ${what}`);
        assert.equal(r.status, 200, `response status: ${what}`);
        assert.equal((r.responseHeaders['content-type'] ?? '').split(';')[0], wantType,
          `the response must be an Export*ServiceResponse in the request's encoding: ${what}`);
        assert.equal(rejectedCount(r), 0, `partial success rejected records: ${what}`);
      }
      assertExportsSucceeded(sent.spanExporter, 'traces');
      assertExportsSucceeded(sent.logExporter, 'logs');
      assertExportsSucceeded(sent.metricExporter, 'metrics');
      assert.equal(sent.metricExporter.items.length, 1, 'test bug: the SDK should export metrics exactly once');
      assert.equal(sent.hand.status, 200, `hand-written summary/exemplar request: HTTP ${sent.hand.status} ${sent.hand.text}`);
    });

    storedRowTests(ctx);
  });
}
