#!/usr/bin/env node
// A stand-in for `stackhouse run`, used only by the harness self-test (lib/harness.test.mjs): it
// speaks the same start-up contract (JSON "listening"/"ready" lines, /readyz), accepts OTLP/HTTP,
// keeps OTLP/JSON logs in <data-dir>/logs.jsonl (fsync before the 2xx; a request whose bytes were
// stored before is not stored again) and answers the few SQL queries the durability test sends.
// It is not a model of the real server's behaviour.
//
// FAKE_STACKHOUSE_MODE: ok (default) | crash (exit 3 before ready) | hang (never ready)
//                       | no-api (ready without an "api" listening line)
// FAKE_STACKHOUSE_BUG: lose (acks before the data is on disk) | dup (a long gap between durable and
//                      ack, so retries after kill -9 store twice): the durability test must fail

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

const mode = process.env.FAKE_STACKHOUSE_MODE || 'ok';
const bug = process.env.FAKE_STACKHOUSE_BUG || '';   // lose | dup: for proving the durability test fails
const args = process.argv.slice(2);
const arg = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
if (args[0] !== 'run' || !arg('--config') || !arg('--data-dir')) {
  process.stderr.write(`fake-stackhouse: usage: run --config FILE --data-dir DIR (got ${args.join(' ')})\n`);
  process.exit(2);
}
const dataDir = arg('--data-dir');
fs.readFileSync(arg('--config'), 'utf8');
const logFile = path.join(dataDir, 'logs.jsonl');
// One line per stored request (a JSON array of its records), written in one write: a kill -9
// during that write leaves a torn last line, a request that was never durable (nor acknowledged).
// It is cut off at start, as a journal's torn tail is.
function storedRequests() {
  if (!fs.existsSync(logFile)) return [];
  const text = fs.readFileSync(logFile, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
if (fs.existsSync(logFile)) {
  const text = fs.readFileSync(logFile, 'utf8');
  fs.truncateSync(logFile, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
}
// Requests already stored, by the hash of their bytes: a retried request is stored once.
const seen = new Set(storedRequests().map((records) => records[0]?.h));
const log = (o) => process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'info', thread: 1, ...o })}\n`);

if (mode === 'crash') { process.stderr.write('fake-stackhouse: crashing as asked\n'); process.exit(3); }

// Resolves the (gunzipped) body, or null when the client went away before sending all of it: the
// request is then dropped, as the real server drops it.
function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let b = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') b = zlib.gunzipSync(b);
      resolve(b);
    });
    req.on('error', () => resolve(null));
  });
}

const otlp = http.createServer(async (req, res) => {
  const body = await readBody(req);
  if (body === null) return;
  const json = (req.headers['content-type'] || '').startsWith('application/json');
  if (req.url === '/v1/logs' && json) {
    const doc = JSON.parse(body.toString('utf8'));
    const h = crypto.createHash('sha256').update(body).digest('hex');
    const lines = [];
    for (const rl of doc.resourceLogs ?? []) {
      const svc = rl.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '';
      for (const sl of rl.scopeLogs ?? []) {
        for (const lr of sl.logRecords ?? []) {
          const attrs = Object.fromEntries((lr.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
          lines.push(JSON.stringify({ svc, body: lr.body?.stringValue ?? '', attrs, h }));
        }
      }
    }
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));   // a "batch window"
    const write = () => {
      if (seen.has(h) && bug !== 'dup') return;
      seen.add(h);
      const fd = fs.openSync(logFile, 'a');
      fs.writeSync(fd, `[${lines.join(',')}]\n`);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    };
    if (bug === 'lose') {            // acknowledges before the data is durable
      setTimeout(write, 300);
    } else {
      write();
      if (bug === 'dup') await new Promise((r) => setTimeout(r, 300));   // durable long before the ack
    }
  }
  res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
  res.end(json ? '{}' : '');
});

function readLogs() {
  return storedRequests().flat();
}

const api = http.createServer(async (req, res) => {
  const body = await readBody(req);
  if (body === null) return;
  const { query = '', params = {} } = JSON.parse(body.toString('utf8') || '{}');
  const answer = (columns, rows) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ columns: columns.map((name) => ({ name, type: 'String' })), rows, elapsed_ms: 0 }));
  };
  const rows = readLogs().filter((r) => r.svc === params.svc);
  if (/GROUP BY req/.test(query)) {
    const by = new Map();
    for (const r of rows) {
      const e = by.get(r.attrs.req) ?? { n: 0, ids: new Set(), bad: 0 };
      e.n += 1; e.ids.add(r.attrs.rid);
      if (r.body !== `payload ${r.attrs.rid} ${params.pad}`) e.bad += 1;
      by.set(r.attrs.req, e);
    }
    return answer(['req', 'n', 'ids', 'bad_body'], [...by].map(([k, e]) => [k, String(e.n), String(e.ids.size), String(e.bad)]));
  }
  if (/count\(\) AS rows/.test(query)) {
    return answer(['rows', 'ids'], [[String(rows.length), String(new Set(rows.map((r) => r.attrs.rid)).size)]]);
  }
  // The durability test's wait until every acknowledged record is queryable.
  if (/^\s*SELECT uniqExact\(LogAttributes\['rid'\]\) AS ids FROM/.test(query)) {
    return answer(['ids'], [[String(new Set(rows.map((r) => r.attrs.rid)).size)]]);
  }
  if (/^\s*SELECT 1\b/.test(query)) return answer(['x'], [[1]]);
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code: 62, message: `fake-stackhouse does not run: ${query.slice(0, 80)}` } }));
});

const admin = http.createServer((req, res) => {
  res.writeHead(req.url === '/readyz' ? 200 : 404, { 'content-type': 'text/plain' });
  res.end(req.url === '/readyz' ? 'ready\n' : 'not found\n');
});

const listen = (srv) => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));
const ports = { 'otlp-http': await listen(otlp), api: await listen(api), admin: await listen(admin) };
for (const [component, port] of Object.entries(ports)) {
  if (mode === 'no-api' && component === 'api') continue;
  log({ msg: 'listening', component, endpoint: `127.0.0.1:${port}` });
}
if (mode !== 'hang') log({ msg: 'ready' });
process.on('SIGTERM', () => { log({ msg: 'stopping' }); process.exit(0); });
