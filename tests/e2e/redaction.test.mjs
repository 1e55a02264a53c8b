// Telemetry controls end to end (issue 4): records carrying every kind of sensitive content, in
// every place it can hide (resource, scope, record and span attributes, string and map log bodies,
// span names, status messages, events, links, metric data-point attributes, exemplars; URLs with
// file names in span names, URL attributes and bodies), sent over
// OTLP/HTTP as JSON and as protobuf. The stored rows must hold masks or hashes where the content
// was and keep everything that is not sensitive byte for byte; and a server whose config turns
// rules off must store that content as sent (so the rule is what removed it).
//
// Run by hand: node --test --test-reporter=spec tests/e2e/redaction.test.mjs   (env STACKHOUSE_BIN)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

import { startServer, PORT0_CONFIG, repoRoot, defaultBin } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const protoRoot = path.join(repoRoot, 'tests', 'otlp', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(protoRoot, target);
root.loadSync([
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
], { keepCase: false });
const ProtoType = {
  logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  traces: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  metrics: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
};
void here;

// ---- the corpus ---------------------------------------------------------------------------------

// Each sensitive sample, and the part of it that must never be stored.
const SECRETS = {
  bearer: { text: 'Authorization: Bearer abcdef0123456789abcdefXYZ', needle: 'abcdef0123456789abcdefXYZ' },
  jwt: { text: 'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', needle: 'dozjgNryP4J3jVmNHl0w5N' },
  aws: { text: 'key AKIAIOSFODNN7EXAMPLE', needle: 'AKIAIOSFODNN7EXAMPLE' },
  privateKey: { text: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----', needle: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC' },
  basic: { text: 'Basic dXNlcjpwYXNzd29yZA==', needle: 'dXNlcjpwYXNzd29yZA' },
  connection: { text: 'Server=db;User Id=app;Password=Hunter2Secret;', needle: 'Hunter2Secret' },
  email: { text: 'mail jane.doe@example.com', needle: 'jane.doe@example.com' },
  card: { text: 'card 4111 1111 1111 1111', needle: '4111 1111 1111 1111' },
  urlUser: { text: 'fetch https://bob:pw123xyz@files.example.com/x', needle: 'pw123xyz' },
  urlQuery: { text: 'GET https://files.example.com/doc?name=acme-contract-q3', needle: 'acme-contract-q3' },
  urlFileName: { text: 'GET https://files.example-customer.com/Customer_Q3_financials_CONFIDENTIAL.pdf?sig=s1g', needle: 'Customer_Q3_financials_CONFIDENTIAL' },
};
const SENSITIVE_TEXT = Object.values(SECRETS).map((s) => s.text).join(' | ');
const NEEDLES = Object.values(SECRETS).map((s) => s.needle);

// Ordinary operational values: must come through unchanged.
const BENIGN = [
  'GET /healthz 200 3ms',
  '123e4567-e89b-12d3-a456-426614174000',
  '4bf92f3577b34da6a3ce929d0e0e4736',
  'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'v1.24.3-rc.1',
  '2026-11-25T22:36:48.123456789Z',
  'ts=1732573200000000000',
];
const BENIGN_TEXT = BENIGN.join(' ');

// Attributes whose key alone makes them sensitive, and a file path.
const KEYED = {
  'gen_ai.prompt': 'summarise the confidential XYZZY-DOC',
  'http.request.header.authorization': 'Token plugh-credential',
  'db.password': 'plover-pass',
  'document.content': 'page one of the FROTZ report',
};
const KEYED_NEEDLES = ['XYZZY-DOC', 'plugh-credential', 'plover-pass', 'FROTZ'];
const FILE_PATH = '/srv/customers/acme-corp/invoice-0042.pdf';
const FILE_NEEDLES = ['acme-corp', 'invoice-0042', 'customers'];
const ALL_NEEDLES = [...NEEDLES, ...KEYED_NEEDLES, ...FILE_NEEDLES];

const kv = (obj) => Object.entries(obj).map(([key, value]) => ({ key, value: { stringValue: value } }));
const sensitiveAttrs = (prefix) => [
  ...kv({ [`${prefix}.note`]: SENSITIVE_TEXT, [`${prefix}.benign`]: BENIGN_TEXT, 'file.path': FILE_PATH }),
  ...kv(KEYED),
];
const resource = (svc) => ({ attributes: [...kv({ 'service.name': svc }), ...sensitiveAttrs('res')] });
const scope = { name: 'redaction-e2e', version: '1.0.0', attributes: sensitiveAttrs('scope') };

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

function logsRequest(svc) {
  const t = String(nowNs());
  return {
    resourceLogs: [{
      resource: resource(svc),
      scopeLogs: [{
        scope,
        logRecords: [
          { timeUnixNano: t, severityText: 'INFO', severityNumber: 9, body: { stringValue: `${SENSITIVE_TEXT} ${BENIGN_TEXT}` },
            attributes: sensitiveAttrs('log') },
          { timeUnixNano: t, severityText: 'INFO', severityNumber: 9,
            body: { kvlistValue: { values: [
              ...kv({ message: SENSITIVE_TEXT, benign: BENIGN_TEXT }),
              { key: 'request', value: { kvlistValue: { values: kv({ password: 'plover-pass', path: '/ok' }) } } },
              { key: 'to', value: { arrayValue: { values: [{ stringValue: 'jane.doe@example.com' }] } } },
            ] } },
            attributes: kv({ 'log.kind': 'map-body' }) },
          { timeUnixNano: t, severityText: 'INFO', severityNumber: 9, body: { stringValue: BENIGN_TEXT },
            attributes: kv({ 'log.kind': 'benign' }) },
        ],
      }],
    }],
  };
}

function tracesRequest(svc) {
  const start = nowNs();
  return {
    resourceSpans: [{
      resource: resource(svc),
      scopeSpans: [{
        scope,
        spans: [{
          traceId: TRACE_ID, spanId: SPAN_ID, name: 'GET https://files.example-customer.com/Customer_Q3_financials_CONFIDENTIAL.pdf?name=acme-contract-q3', kind: 2,
          startTimeUnixNano: String(start), endTimeUnixNano: String(start + 1_000_000n),
          attributes: [...sensitiveAttrs('span'), ...kv({
            'url.full': 'https://bob:pw123xyz@files.example.com/doc/Customer_Q3_financials_CONFIDENTIAL.pdf?name=acme-contract-q3&page=2',
            'url.path': '/doc/Customer_Q3_financials_CONFIDENTIAL.pdf',
            'http.target': '/doc/Customer%20Q3%20financials%20CONFIDENTIAL.pdf?download=1',
            'http.route': '/doc/{name}.pdf',
            'url.original': 'https://api.example.com/v1.2/items/123',
          })],
          events: [{ timeUnixNano: String(start + 10n), name: 'exception', attributes: sensitiveAttrs('event') }],
          links: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', attributes: sensitiveAttrs('link') }],
          status: { code: 2, message: SENSITIVE_TEXT },
        }],
      }],
    }],
  };
}

function metricsRequest(svc) {
  const t = String(nowNs());
  return {
    resourceMetrics: [{
      resource: resource(svc),
      scopeMetrics: [{
        scope,
        metrics: [{
          name: 'redaction.e2e.gauge', unit: '1',
          gauge: { dataPoints: [{
            timeUnixNano: t, asDouble: 1.5, attributes: sensitiveAttrs('point'),
            exemplars: [{ timeUnixNano: t, asDouble: 1.5, spanId: SPAN_ID, traceId: TRACE_ID, filteredAttributes: sensitiveAttrs('exemplar') }],
          }] },
        }],
      }],
    }],
  };
}

// The OTLP/JSON request as protobuf: ids are hex in JSON and bytes in protobuf.
function toProtobuf(signal, req) {
  const json = JSON.parse(JSON.stringify(req), (key, value) =>
    (['traceId', 'spanId'].includes(key) && typeof value === 'string' ? Buffer.from(value, 'hex').toString('base64') : value));
  const type = ProtoType[signal];
  return Buffer.from(type.encode(type.fromObject(json)).finish());
}

async function send(server, signal, req, encoding) {
  const body = encoding === 'json' ? JSON.stringify(req) : toProtobuf(signal, req);
  const res = await fetch(`${server.otlpUrl}/v1/${signal}`, {
    method: 'POST',
    headers: { 'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf' },
    body,
  });
  assert.equal(res.status, 200, `${signal} over ${encoding}: ${await res.text()}`);
}

async function sendAll(server, svc, encoding) {
  await send(server, 'logs', logsRequest(svc), encoding);
  await send(server, 'traces', tracesRequest(svc), encoding);
  await send(server, 'metrics', metricsRequest(svc), encoding);
}

// Every stored row of the service, as one JSON text per table.
async function storedText(server, svc) {
  const q = (table, cols) => server.sql(`SELECT ${cols} FROM otel.${table} WHERE ServiceName = {svc:String}`, { svc });
  const logs = await q('otel_logs', 'Body, ResourceAttributes, ScopeAttributes, LogAttributes');
  const spans = await q('otel_traces', 'SpanName, StatusMessage, ResourceAttributes, SpanAttributes, Events.Attributes, Links.Attributes');
  const gauge = await q('otel_metrics_gauge', 'ResourceAttributes, ScopeAttributes, Attributes, Exemplars.FilteredAttributes');
  return { logs, spans, gauge };
}

async function waitRows(server, svc) {
  for (let i = 0; i < 100; i++) {
    const s = await storedText(server, svc);
    if (s.logs.rows.length === 3 && s.spans.rows.length === 1 && s.gauge.rows.length === 1) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('rows did not arrive');
}

// `stackhouse audit` against the running server's API (its config points at the API's port).
function audit(server) {
  const config = path.join(server.workDir, 'audit.yaml');
  fs.writeFileSync(config, `clickstack:\n  hyperdx: {listen: "${server.apiUrl.replace('http://', '')}"}\n`);
  const r = spawnSync(defaultBin(), ['audit', '--config', config, '--data-dir', server.dataDir, '--since', '1h'], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

// ---- default policy --------------------------------------------------------------------------------

describe('default policy', () => {
  let server;
  before(async () => { server = await startServer(); }, { timeout: 90_000 });
  after(async () => { await server?.cleanup(); });

  for (const encoding of ['json', 'protobuf']) {
    test(`${encoding}: every place is redacted and nothing else`, { timeout: 60_000 }, async () => {
      const svc = `redact-${encoding}`;
      await sendAll(server, svc, encoding);
      const stored = await waitRows(server, svc);
      for (const [table, result] of Object.entries(stored)) {
        const text = JSON.stringify(result.rows);
        for (const needle of ALL_NEEDLES) {
          assert.ok(!text.includes(needle), `${table} still holds ${JSON.stringify(needle)}`);
        }
        for (const benign of BENIGN) {
          assert.ok(text.includes(benign), `${table} lost the ordinary value ${JSON.stringify(benign)}`);
        }
        for (const mask of ['****', 'REDACTED:REDACTED', 'name=REDACTED']) {
          assert.ok(text.includes(mask), `${table} shows no ${mask}`);
        }
        assert.match(text, /\/[0-9a-f]{12}\/[0-9a-f]{12}\/[0-9a-f]{12}\/[0-9a-f]{12}\.pdf/, `${table}: file path not hashed`);
      }
      // Places one by one: a mask in each.
      const rows = stored.logs.rows;
      const logRow = rows.find((r) => String(r[0]).startsWith('Authorization'));
      const mapRow = rows.find((r) => String(r[0]).startsWith('{'));
      const benignRow = rows.find((r) => r[3]['log.kind'] === 'benign');
      assert.ok(logRow && mapRow && benignRow, JSON.stringify(rows));
      assert.ok(String(logRow[0]).includes('Bearer ****'), `string body: ${logRow[0]}`);
      assert.ok(String(mapRow[0]).includes('"password":"****"'), `map body: ${mapRow[0]}`);
      assert.ok(String(mapRow[0]).includes('"to":["****"]'), `map body: ${mapRow[0]}`);
      assert.equal(benignRow[0], BENIGN_TEXT, 'a benign body is stored as sent');
      for (const [i, where] of [[1, 'resource'], [2, 'scope'], [3, 'record']]) {
        assert.equal(logRow[i]['gen_ai.prompt'], '****', `${where} attributes: ${JSON.stringify(logRow[i])}`);
      }
      assert.ok(Number(logRow[3]['redaction.masked.count']) > 0, 'log summary attribute');
      const [span] = stored.spans.rows;
      assert.match(span[0], /^GET https:\/\/files\.example-customer\.com\/[0-9a-f]{12}\.pdf\?name=REDACTED$/, 'span name');
      assert.ok(span[1].includes('Bearer ****'), `status message: ${span[1]}`);
      assert.match(span[3]['url.full'], /^https:\/\/REDACTED:REDACTED@files\.example\.com\/doc\/[0-9a-f]{12}\.pdf\?name=REDACTED&page=REDACTED$/);
      const fileHash = span[0].slice('GET https://files.example-customer.com/'.length, -'.pdf?name=REDACTED'.length);
      assert.equal(span[3]['url.path'], `/doc/${fileHash}.pdf`, 'url.path: the same hash as in the span name');
      assert.match(span[3]['http.target'], /^\/doc\/[0-9a-f]{12}\.pdf\?download=REDACTED$/, 'http.target (percent-encoded name)');
      assert.equal(span[3]['http.route'], '/doc/{name}.pdf', 'a route template stays');
      assert.equal(span[3]['url.original'], 'https://api.example.com/v1.2/items/123', 'versions and ids stay');
      assert.ok(String(logRow[0]).includes(`https://files.example-customer.com/${fileHash}.pdf?sig=REDACTED`), `string body: ${logRow[0]}`);
      assert.ok(String(mapRow[0]).includes(`https://files.example-customer.com/${fileHash}.pdf?sig=REDACTED`), `map body: ${mapRow[0]}`);
      assert.equal(span[4][0]['db.password'], '****', 'event attributes');
      assert.equal(span[5][0]['db.password'], '****', 'link attributes');
      assert.ok(Number(span[3]['redaction.masked.count']) > 0, 'span summary attribute');
      const [point] = stored.gauge.rows;
      assert.equal(point[2]['db.password'], '****', 'data-point attributes');
      assert.equal(point[3][0]['db.password'], '****', 'exemplar attributes');
      assert.equal(point[2]['redaction.masked.count'], undefined, 'no summary attribute on metric points');
    });
  }

  test('stackhouse audit finds nothing in what was stored', { timeout: 60_000 }, async () => {
    const { status, out } = audit(server);
    assert.equal(status, 0, out);
    assert.match(out, /nothing found/);
    assert.match(out, /scanned [1-9]\d* rows/);
  });

  test('per-rule counters on /metrics', async () => {
    const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
    for (const rule of ['blockedKeys', 'bearerTokens', 'jwts', 'cloudKeys', 'privateKeys', 'basicAuth',
      'connectionStrings', 'emails', 'cardNumbers', 'urlUserinfo', 'urlQuery', 'fileNames']) {
      const m = text.match(new RegExp(`stackhouse_redaction_values_total\\{rule="${rule}",action="masked"\\} (\\d+)`));
      assert.ok(m && Number(m[1]) > 0, `no masked count for ${rule}`);
    }
    for (const needle of ALL_NEEDLES) assert.ok(!text.includes(needle), `/metrics holds ${needle}`);
  });

  test('the server\'s own logs hold none of it', async () => {
    const log = fs.readFileSync(server.logPath, 'utf8');
    for (const needle of ALL_NEEDLES) assert.ok(!log.includes(needle), `the server log holds ${needle}`);
  });
});

// ---- rules turned off ----------------------------------------------------------------------------

describe('rules turned off in config', () => {
  let server;
  before(async () => {
    server = await startServer({ config: `${PORT0_CONFIG}  processors:
    redaction:
      rules: {emails: false, cardNumbers: false, fileNames: false}
` });
  }, { timeout: 90_000 });
  after(async () => { await server?.cleanup(); });

  test('their content is stored as sent; the other rules still apply', { timeout: 60_000 }, async () => {
    const svc = 'redact-off';
    await sendAll(server, svc, 'json');
    const { logs } = await waitRows(server, svc);
    const text = JSON.stringify(logs.rows);
    assert.ok(text.includes('jane.doe@example.com'), 'email kept');
    assert.ok(text.includes('4111 1111 1111 1111'), 'card number kept');
    assert.ok(text.includes(FILE_PATH), 'file path kept');
    assert.ok(!text.includes(SECRETS.bearer.needle), 'bearer token still masked');
    assert.ok(!text.includes('plover-pass'), 'blocked key still masked');
  });
});

describe('urls.hashHosts', () => {
  let server;
  before(async () => {
    server = await startServer({ config: `${PORT0_CONFIG}  processors:
    redaction:
      urls: {hashHosts: true}
` });
  }, { timeout: 90_000 });
  after(async () => { await server?.cleanup(); });

  test('hosts of URLs are hashed too, everywhere', { timeout: 60_000 }, async () => {
    const svc = 'redact-hosts';
    await sendAll(server, svc, 'json');
    const stored = await waitRows(server, svc);
    for (const [table, result] of Object.entries(stored)) {
      const text = JSON.stringify(result.rows);
      for (const host of ['files.example-customer.com', 'files.example.com']) {
        assert.ok(!text.includes(host), `${table} still holds the host ${host}`);
      }
    }
    const [span] = stored.spans.rows;
    assert.match(span[0], /^GET https:\/\/[0-9a-f]{12}\/[0-9a-f]{12}\.pdf\?name=REDACTED$/, 'span name');
    assert.match(span[3]['url.full'], /^https:\/\/REDACTED:REDACTED@[0-9a-f]{12}\/doc\/[0-9a-f]{12}\.pdf\?/);
  });
});

describe('redaction disabled', () => {
  let server;
  before(async () => {
    server = await startServer({ config: `${PORT0_CONFIG}  processors:
    redaction: {enabled: false}
` });
  }, { timeout: 90_000 });
  after(async () => { await server?.cleanup(); });

  test('everything is stored as sent', { timeout: 60_000 }, async () => {
    const svc = 'redact-disabled';
    await sendAll(server, svc, 'protobuf');
    const { logs } = await waitRows(server, svc);
    const text = JSON.stringify(logs.rows);
    for (const needle of ALL_NEEDLES) assert.ok(text.includes(needle), `${needle} should be stored when redaction is off`);
  });

  test('stackhouse audit reports it, per table, column and rule, and exits 1', { timeout: 60_000 }, async () => {
    const { status, out } = audit(server);
    assert.equal(status, 1, out);
    for (const line of [/otel_logs\s+Body\s+emails\s+\d+/, /otel_logs\s+LogAttributes\s+blockedKeys\s+\d+/,
      /otel_traces\s+SpanName\s+urlQuery\s+1/, /otel_traces\s+SpanName\s+fileNames\s+1/, /otel_metrics_gauge\s+Exemplars.FilteredAttributes\s+cardNumbers\s+1/,
      /otel_logs\s+ResourceAttributes\s+fileNames\s+\d+/]) {
      assert.match(out, line);
    }
    for (const needle of ALL_NEEDLES) assert.ok(!out.includes(needle), `the audit printed ${needle}`);
  });
});
