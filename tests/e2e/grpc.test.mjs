// End to end over OTLP/gRPC with the official OpenTelemetry JS SDK's gRPC exporters
// (exporter-*-otlp-grpc, on @grpc/grpc-js), gzip message compression on and off: the same spans,
// logs and metrics as sdk.test.mjs (lib/sdk-scenario.mjs), the hand-written summary/exemplar
// request sent with grpc-js directly, then the stored rows compared value by value.
//
// Each flavour goes through its own TCP relay that reads the HTTP/2 frames the client sends and
// notes, for each request message, gRPC's compressed flag: so the test can tell that gzip really
// was used on the wire for the gzip flavour, and not for the other.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/grpc.test.mjs   (env STACKHOUSE_BIN)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';

import { startServer } from './lib/server.mjs';
import { encodeMetricsRequest } from './lib/otlp.mjs';
import { sendAll, storedRowTests, assertExportsSucceeded, rejectedCount, TIMEOUT } from './lib/sdk-scenario.mjs';

const FLAVOURS = [
  { name: 'grpc-identity', gzip: false, delta: false },
  { name: 'grpc-gzip', gzip: true, delta: true },
];
const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const GRPC_GZIP = 2;  // grpc-js CompressionAlgorithms.gzip

let server;
const relays = new Map();  // flavour name → relay

// Follows the client → server half of one HTTP/2 connection (preface, then 9-byte frame headers)
// and records the compressed flag (the first byte of the gRPC message prefix) of the first DATA
// frame of every stream into `flags`.
function h2FlagReader(flags) {
  let buf = Buffer.alloc(0);
  let prefaceLeft = 24;
  const seen = new Set();
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (prefaceLeft > 0) {
      const n = Math.min(prefaceLeft, buf.length);
      buf = buf.subarray(n);
      prefaceLeft -= n;
    }
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      const type = buf[3];
      const frameFlags = buf[4];
      const stream = buf.readUInt32BE(5) & 0x7fffffff;
      let payload = buf.subarray(9, 9 + len);
      if (type === 0 && (frameFlags & 0x8)) payload = payload.subarray(1, payload.length - payload[0]);  // PADDED
      if (type === 0 && payload.length > 0 && !seen.has(stream)) {
        seen.add(stream);
        flags.push(payload[0]);
      }
      buf = buf.subarray(9 + len);
    }
  };
}

// A TCP relay to the server's gRPC port that notes the compressed flag of every request message.
function startRelay(target) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const relay = { compressedFlags: [], sockets: new Set() };
  relay.server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    relay.sockets.add(client).add(upstream);
    client.on('data', h2FlagReader(relay.compressedFlags));
    client.pipe(upstream).pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  return new Promise((resolve) => relay.server.listen(0, '127.0.0.1', () => {
    relay.endpoint = `127.0.0.1:${relay.server.address().port}`;
    relay.close = () => new Promise((r) => {
      for (const s of relay.sockets) s.destroy();
      relay.server.close(() => r());
    });
    resolve(relay);
  }));
}

before(async () => {
  server = await startServer({ name: 'grpc' });
  assert.ok(server.otlpGrpcEndpoint, 'no "listening" line for component otlp-grpc');
  for (const f of FLAVOURS) relays.set(f.name, await startRelay(server.otlpGrpcEndpoint));
}, { timeout: 90_000 });

after(async () => {
  for (const r of relays.values()) await r.close();
  await server?.cleanup();
});

function exporterOptions(f) {
  return {
    url: `http://${relays.get(f.name).endpoint}`,
    compression: f.gzip ? 'gzip' : 'none',
    timeoutMillis: 30_000,
  };
}

const grpcTransport = {
  traceExporter: (f) => new OTLPTraceExporter(exporterOptions(f)),
  logExporter: (f) => new OTLPLogExporter(exporterOptions(f)),
  metricExporter: (f, temporalityPreference) => new OTLPMetricExporter({ ...exporterOptions(f), temporalityPreference }),
  // The hand-written request as raw protobuf bytes over a generic grpc-js client.
  sendMetricsRequest(f, handRequest) {
    const client = new grpc.Client(relays.get(f.name).endpoint, grpc.credentials.createInsecure(),
      f.gzip ? { 'grpc.default_compression_algorithm': GRPC_GZIP } : {});
    const bytes = encodeMetricsRequest(handRequest);
    return new Promise((resolve) => {
      client.makeUnaryRequest(METRICS_EXPORT, (b) => b, (b) => b, bytes, { deadline: Date.now() + 30_000 }, (err, response) => {
        client.close();
        resolve(err
          ? { ok: false, status: err.code, text: err.details ?? String(err) }
          : { ok: true, status: grpc.status.OK, text: '', body: response });
      });
    });
  },
};

for (const f of FLAVOURS) {
  describe(`${f.name} (exporter-*-otlp-grpc, compression ${f.gzip ? 'gzip' : 'none'})`, () => {
    let sent;
    const ctx = { server: null, sent: null };
    before(async () => {
      sent = await sendAll(f, grpcTransport);
      Object.assign(ctx, { server, sent });
    }, TIMEOUT);

    test('every export succeeded, with nothing rejected', TIMEOUT, () => {
      assertExportsSucceeded(sent.spanExporter, 'traces');
      assertExportsSucceeded(sent.logExporter, 'logs');
      assertExportsSucceeded(sent.metricExporter, 'metrics');
      assert.equal(sent.metricExporter.items.length, 1, 'test bug: the SDK should export metrics exactly once');
      assert.ok(sent.hand.ok, `hand-written summary/exemplar call: gRPC status ${sent.hand.status} ${sent.hand.text}`);
      assert.equal(rejectedCount({ responseHeaders: { 'content-type': 'application/x-protobuf' }, responseBody: sent.hand.body }), 0,
        'partial success rejected data points in the hand-written call');
    });

    storedRowTests(ctx);
  });
}

test('on the wire, every gzip-flavour request message was compressed and no identity one was', () => {
  const identity = relays.get('grpc-identity').compressedFlags;
  const gzip = relays.get('grpc-gzip').compressedFlags;
  // traces, logs, metrics and the hand-written call: at least 4 request messages each
  assert.ok(identity.length >= 4, `identity flavour: ${identity.length} request messages seen`);
  assert.ok(gzip.length >= 4, `gzip flavour: ${gzip.length} request messages seen`);
  assert.deepEqual(identity, identity.map(() => 0), `identity flavour compressed flags: ${identity}`);
  assert.deepEqual(gzip, gzip.map(() => 1), `gzip flavour compressed flags: ${gzip}`);
});
