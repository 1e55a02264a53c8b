// Small helpers shared by the end-to-end tests: time conversions, the stored form of attribute
// values, and a minimal OTLP protobuf encoder for the metric kinds the JS SDK cannot produce
// (summary, and gauges carrying exemplars).

import assert from 'node:assert/strict';
import http from 'node:http';

// ---- OTLP/HTTP -----------------------------------------------------------------------------------

// POSTs an OTLP/JSON logs body on `agent` (a keep-alive http.Agent, or false). Never rejects:
// resolves {status, headers, text} for an answer, or {error} when none came in time. The time is
// timeoutMs without traffic on the socket; with `afterSent`, it is timeoutMs from the moment the
// whole request was handed to the kernel, so a client that gives up has still delivered its bytes
// (on a loaded machine a few milliseconds from the start may not even cover the connect). With
// `afterSent` and timeoutMs 0 the client gives up as soon as the request is sent, before its
// event loop can read any answer: a timer of even 1 ms loses that race on a loaded machine, where
// the answer is read in the same turn of the loop that would have fired it.
export function postLogs(baseUrl, body, agent, timeoutMs, { afterSent = false } = {}) {
  return new Promise((resolve) => {
    let timer;
    const giveUp = () => req.destroy(new Error(`no answer in ${timeoutMs} ms`));
    const done = (result) => { clearTimeout(timer); resolve(result); };
    const req = http.request(new URL('/v1/logs', baseUrl), {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => done({ error: e.message }));
    });
    if (afterSent) req.on('finish', () => { if (timeoutMs <= 0) giveUp(); else timer = setTimeout(giveUp, timeoutMs); });
    else req.setTimeout(timeoutMs, giveUp);
    req.on('error', (e) => done({ error: e.code ?? e.message }));
    req.end(body);
  });
}

// ---- time ---------------------------------------------------------------------------------------

export function hrTimeToNs([s, ns]) {
  return BigInt(s) * 1_000_000_000n + BigInt(ns);
}

export function nsToHrTime(ns) {
  const big = BigInt(ns);
  return [Number(big / 1_000_000_000n), Number(big % 1_000_000_000n)];
}

// ClickHouse's rendering of a DateTime64(9) in UTC: "YYYY-MM-DD hh:mm:ss.nnnnnnnnn".
export function nsToDateTime64(ns) {
  const big = BigInt(ns);
  const secs = big / 1_000_000_000n;
  const frac = (big % 1_000_000_000n).toString().padStart(9, '0');
  const iso = new Date(Number(secs) * 1000).toISOString(); // YYYY-MM-DDThh:mm:ss.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}`;
}

// ---- attribute values as stored ---------------------------------------------------------------

// A JS attribute value as the exporter encodes it on the wire, then as the store keeps it:
// strings as-is, booleans "true"/"false", integers in decimal, doubles in shortest round-trip form,
// arrays and maps as compact JSON text, bytes as base64 (the collector's AnyValue.AsString()).
// Returns {text} for exact comparisons or {json} for values compared as parsed JSON.
export function storedForm(v) {
  if (typeof v === 'string') return { text: v };
  if (typeof v === 'boolean') return { text: v ? 'true' : 'false' };
  if (typeof v === 'number') return { text: String(v) };
  if (v instanceof Uint8Array) return { text: Buffer.from(v).toString('base64') };
  if (Array.isArray(v) || (v && typeof v === 'object')) return { json: toJsonValue(v) };
  throw new Error(`no stored form for ${typeof v}`);
}

function toJsonValue(v) {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonValue(x)]));
  return v;
}

// Asserts that a stored attribute value (a string) is what `sent` becomes.
export function assertStoredValue(got, sent, where) {
  const exp = storedForm(sent);
  assert.equal(typeof got, 'string', `${where}: expected a string, got ${JSON.stringify(got)}`);
  if ('text' in exp) {
    assert.equal(got, exp.text, `${where}: sent ${describe(sent)}`);
    return;
  }
  let parsed;
  try { parsed = JSON.parse(got); } catch {
    assert.fail(`${where}: sent ${describe(sent)}, expected JSON text, got ${JSON.stringify(got)}`);
  }
  assert.deepEqual(parsed, exp.json, `${where}: sent ${describe(sent)}, got ${got}`);
  assert.equal(got, JSON.stringify(parsed), `${where}: JSON text is not compact: ${got}`);
}

// Asserts that a stored Map(String, String) (a JSON object) holds exactly the sent attributes.
export function assertStoredMap(got, sent, where) {
  assert.ok(got && typeof got === 'object' && !Array.isArray(got),
    `${where}: expected a map (JSON object), got ${JSON.stringify(got)}`);
  assert.deepEqual(Object.keys(got).sort(), Object.keys(sent).sort(),
    `${where}: keys differ; got ${JSON.stringify(got)}`);
  for (const [k, v] of Object.entries(sent)) assertStoredValue(got[k], v, `${where}[${JSON.stringify(k)}]`);
}

function describe(v) {
  if (v instanceof Uint8Array) return `bytes ${Buffer.from(v).toString('hex')}`;
  return JSON.stringify(v);
}

// ---- OTLP/JSON attribute encoding (for hand-written requests) ---------------------------------

export function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (v && typeof v === 'object') return { kvlistValue: { values: keyValues(v) } };
  throw new Error(`cannot encode ${typeof v}`);
}

export function keyValues(obj) {
  return Object.entries(obj).map(([key, v]) => ({ key, value: anyValue(v) }));
}

// ---- minimal protobuf writer for OTLP metrics requests ----------------------------------------

class Writer {
  constructor() { this.parts = []; }
  push(bytes) { this.parts.push(bytes); }
  varint(v) {
    let x = BigInt.asUintN(64, BigInt(v));
    const out = [];
    while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }
  tag(field, wire) { this.varint((field << 3) | wire); }
  fixed64(field, v) {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
    this.push(b);
  }
  double(field, v) {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.push(b);
  }
  uint(field, v) { this.tag(field, 0); this.varint(v); }
  bytes(field, bytes) { this.tag(field, 2); this.varint(bytes.length); this.push(bytes); }
  string(field, s) { this.bytes(field, Buffer.from(s, 'utf8')); }
  message(field, fn) {
    const w = new Writer();
    fn(w);
    this.bytes(field, w.finish());
  }
  finish() { return Buffer.concat(this.parts); }
}

function writeAnyValue(w, v) {
  if ('stringValue' in v) w.string(1, v.stringValue);
  else if ('boolValue' in v) w.uint(2, v.boolValue ? 1 : 0);
  else if ('intValue' in v) w.uint(3, BigInt(v.intValue));
  else if ('doubleValue' in v) w.double(4, v.doubleValue);
  else if ('arrayValue' in v) w.message(5, (a) => v.arrayValue.values.forEach((x) => a.message(1, (m) => writeAnyValue(m, x))));
  else if ('kvlistValue' in v) w.message(6, (l) => writeKeyValues(l, 1, v.kvlistValue.values));
  else if ('bytesValue' in v) w.bytes(7, Buffer.from(v.bytesValue, 'base64'));
  else throw new Error(`unknown AnyValue ${JSON.stringify(v)}`);
}

function writeKeyValues(w, field, kvs = []) {
  for (const kv of kvs) {
    w.message(field, (m) => {
      m.string(1, kv.key);
      m.message(2, (x) => writeAnyValue(x, kv.value));
    });
  }
}

const hexBytes = (h) => Buffer.from(h, 'hex');

function writeExemplar(w, e) {
  w.fixed64(2, BigInt(e.timeUnixNano));
  if ('asDouble' in e) w.double(3, e.asDouble);
  if (e.spanId) w.bytes(4, hexBytes(e.spanId));
  if (e.traceId) w.bytes(5, hexBytes(e.traceId));
  if ('asInt' in e) w.fixed64(6, BigInt(e.asInt));
  writeKeyValues(w, 7, e.filteredAttributes);
}

// Field order follows the JS SDK's own serializer (start, time, value, attributes), so the unit
// test can compare bytes with it.
function writeNumberDataPoint(w, p) {
  w.fixed64(2, BigInt(p.startTimeUnixNano ?? 0));
  w.fixed64(3, BigInt(p.timeUnixNano));
  if ('asInt' in p) w.fixed64(6, BigInt(p.asInt));
  else w.double(4, p.asDouble);
  writeKeyValues(w, 7, p.attributes);
  for (const e of p.exemplars ?? []) w.message(5, (m) => writeExemplar(m, e));
  if (p.flags) w.uint(8, p.flags);
}

function writeSummaryDataPoint(w, p) {
  w.fixed64(2, BigInt(p.startTimeUnixNano ?? 0));
  w.fixed64(3, BigInt(p.timeUnixNano));
  w.fixed64(4, BigInt(p.count));
  w.double(5, p.sum);
  for (const q of p.quantileValues ?? []) {
    w.message(6, (m) => { m.double(1, q.quantile ?? 0); m.double(2, q.value ?? 0); });
  }
  writeKeyValues(w, 7, p.attributes);
  if (p.flags) w.uint(8, p.flags);
}

function writeMetric(w, m) {
  w.string(1, m.name);
  if (m.description) w.string(2, m.description);
  if (m.unit) w.string(3, m.unit);
  if (m.gauge) w.message(5, (g) => m.gauge.dataPoints.forEach((p) => g.message(1, (x) => writeNumberDataPoint(x, p))));
  else if (m.summary) w.message(11, (s) => m.summary.dataPoints.forEach((p) => s.message(1, (x) => writeSummaryDataPoint(x, p))));
  else throw new Error(`encodeMetricsRequest: only gauge and summary metrics (${m.name})`);
}

function writeResourceScope(w, resource, scope) {
  w.message(1, (res) => writeKeyValues(res, 1, resource?.attributes));
  return (s) => s.message(1, (sc) => {
    if (scope?.name) sc.string(1, scope.name);
    if (scope?.version) sc.string(2, scope.version);
  });
}

function writeLogRecord(w, r) {
  if (r.timeUnixNano !== undefined) w.fixed64(1, BigInt(r.timeUnixNano));
  if (r.severityNumber) w.uint(2, r.severityNumber);
  if (r.severityText) w.string(3, r.severityText);
  if (r.body) w.message(5, (b) => writeAnyValue(b, r.body));
  writeKeyValues(w, 6, r.attributes);
  if (r.observedTimeUnixNano !== undefined) w.fixed64(11, BigInt(r.observedTimeUnixNano));
}

// Encodes an ExportLogsServiceRequest given in its OTLP/JSON shape (times, severity, body,
// attributes).
export function encodeLogsRequest(req) {
  const w = new Writer();
  for (const rl of req.resourceLogs) {
    w.message(1, (r) => {
      for (const sl of rl.scopeLogs ?? []) {
        const scope = writeResourceScope(r, rl.resource, sl.scope);
        r.message(2, (s) => {
          scope(s);
          for (const lr of sl.logRecords ?? []) s.message(2, (x) => writeLogRecord(x, lr));
        });
      }
    });
  }
  return w.finish();
}

function writeSpan(w, sp) {
  w.bytes(1, hexBytes(sp.traceId));
  w.bytes(2, hexBytes(sp.spanId));
  w.string(5, sp.name);
  if (sp.kind) w.uint(6, sp.kind);
  w.fixed64(7, BigInt(sp.startTimeUnixNano ?? 0));
  w.fixed64(8, BigInt(sp.endTimeUnixNano ?? 0));
  writeKeyValues(w, 9, sp.attributes);
  for (const e of sp.events ?? []) {
    w.message(11, (m) => {
      m.fixed64(1, BigInt(e.timeUnixNano ?? 0));
      if (e.name) m.string(2, e.name);
    });
  }
}

// Encodes an ExportTraceServiceRequest given in its OTLP/JSON shape (ids, name, kind, times,
// attributes, events).
export function encodeTraceRequest(req) {
  const w = new Writer();
  for (const rs of req.resourceSpans) {
    w.message(1, (r) => {
      for (const ss of rs.scopeSpans ?? []) {
        const scope = writeResourceScope(r, rs.resource, ss.scope);
        r.message(2, (s) => {
          scope(s);
          for (const sp of ss.spans ?? []) s.message(2, (x) => writeSpan(x, sp));
        });
      }
    });
  }
  return w.finish();
}

// Reads the partial success of an Export*ServiceResponse in protobuf: {rejected, errorMessage}.
export function decodeExportResponse(buf) {
  const out = { rejected: 0, errorMessage: '' };
  let i = 0;
  const varint = () => {
    let x = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      x |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return x;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    if (tag !== 0x0a) throw new Error(`unexpected field ${tag} in an export response`);
    const end = i + Number(varint());
    while (i < end) {
      const t = Number(varint());
      if (t === 0x08) out.rejected = Number(varint());
      else if (t === 0x12) {
        const n = Number(varint());
        out.errorMessage = buf.subarray(i, i + n).toString('utf8');
        i += n;
      } else throw new Error(`unexpected field ${t} in a partial success`);
    }
  }
  return out;
}

// Encodes an ExportMetricsServiceRequest given in its OTLP/JSON shape (gauge and summary only).
export function encodeMetricsRequest(req) {
  const w = new Writer();
  for (const rm of req.resourceMetrics) {
    w.message(1, (r) => {
      r.message(1, (res) => {
        writeKeyValues(res, 1, rm.resource?.attributes);
        if (rm.resource && 'droppedAttributesCount' in rm.resource) res.uint(2, rm.resource.droppedAttributesCount);
      });
      for (const sm of rm.scopeMetrics ?? []) {
        r.message(2, (s) => {
          s.message(1, (sc) => {
            if (sm.scope?.name) sc.string(1, sm.scope.name);
            if (sm.scope?.version) sc.string(2, sm.scope.version);
            writeKeyValues(sc, 3, sm.scope?.attributes);
          });
          for (const m of sm.metrics ?? []) s.message(2, (x) => writeMetric(x, m));
          if (sm.schemaUrl) s.string(3, sm.schemaUrl);
        });
      }
      if (rm.schemaUrl) r.string(3, rm.schemaUrl);
    });
  }
  return w.finish();
}
