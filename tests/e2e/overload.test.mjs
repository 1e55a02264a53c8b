// Overload: clients offer about ten times what the server stores, for 30 s, over OTLP/HTTP
// (protobuf, keep-alive) and OTLP/gRPC (@grpc/grpc-js), against a server whose memory limit is
// small (otelConfig.processors.memoryLimiter.limitMiB: 256). Requests are sent open-loop, at a rate that
// does not wait for the answers, like a fleet of SDKs that each have data to export; the rate is
// steered to ten times what the server acknowledges, so the test is a real overload on a fast
// machine and does not starve the server of CPU on a slow one.
//
// Checked:
//  - the server's resident memory (VmRSS, sampled every 100 ms) never exceeds the limit plus a
//    stated margin (MARGIN_MIB below, measured; see docs/operations.md, "Memory and overload");
//  - every refused request is refused the OTLP way: HTTP 503 or 429 with Retry-After, gRPC
//    UNAVAILABLE or RESOURCE_EXHAUSTED with a google.rpc.RetryInfo in grpc-status-details-bin;
//    nothing else goes wrong (no other status, no connection error, no timeout);
//  - the load really was an overload (offered at least OVERLOAD_MIN times what was acknowledged);
//  - after the load stops, every record of every acknowledged request is stored exactly once, and
//    no request is stored in part or twice.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/overload.test.mjs   (env STACKHOUSE_BIN;
// E2E_OVERLOAD_SECONDS, _RPS, _IN_FLIGHT, _ENGINE_MIB, _BATCH_ROWS, _MARGIN_MIB change the set-up).
// It prints one "overload summary" line (rates, counts, RSS, held bytes) to stderr.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';

import * as grpc from '@grpc/grpc-js';

import { StackhouseServer } from './lib/server.mjs';

const LIMIT_MIB = 256;
// The engine's own memory (inserts, merges, caches) is capped apart from the limit:
// otelConfig.processors.memoryLimiter.engineLimitMiB. Inserts of 20k rows keep what it needs well
// under the cap (the default 50k-row inserts want ~450 MiB).
const ENGINE_MIB = Number(process.env.E2E_OVERLOAD_ENGINE_MIB ?? 384);
const BATCH_ROWS = Number(process.env.E2E_OVERLOAD_BATCH_ROWS ?? 20000);
// The margin over LIMIT_MIB, measured on the 2-core development machine: the engine's cap, plus
// ~250 MiB the process holds before any load (mostly the engine's code and static data: RSS right
// after start), plus ~770 MiB of headroom for what neither the limiter nor the engine's tracker
// counts (free memory the allocator keeps in its heaps, engine allocations outside its tracker,
// per-connection buffers for ~1000 connections, grpc's own buffers). Observed maxima under this
// test: 1024-1350 MiB with one allocator arena per core (what stackhouse sets); the bound,
// 256 + 1408, leaves about a fifth above the highest for a slower or busier machine.
const MARGIN_MIB = Number(process.env.E2E_OVERLOAD_MARGIN_MIB ?? ENGINE_MIB + 1024);
const LOAD_MS = Number(process.env.E2E_OVERLOAD_SECONDS ?? 30) * 1000;
// Requests offered per second in total, 500 log records each (~230 KB of protobuf). The rate starts
// at OFFER_RPS and then follows what the server acknowledges: every second it is set to
// OVERLOAD_TARGET times the acknowledged rate of the last five seconds (never below OFFER_RPS), so the
// offer stays ~10x whatever this machine stores (15-20k rows/s on one 2-core machine, 36k on
// another, both sharing their cores with the clients).
const OFFER_RPS = Number(process.env.E2E_OVERLOAD_RPS ?? 200);
const OVERLOAD_TARGET = 10;
const MAX_OFFER_RPS = 4000;
const GRPC_SHARE = 0.1;              // of the requests, over gRPC; the rest over HTTP
// Requests awaiting an answer, per transport; a tick that finds them all busy offers nothing.
const MAX_IN_FLIGHT = Number(process.env.E2E_OVERLOAD_IN_FLIGHT ?? 1024);
// The load generator shares the 2 cores with the server, and what it can offer is what is left:
// the load must be an overload of at least 3x (refusals on both transports are required either
// way). Since a full queue refuses a request from its header (before its body is read or
// decoded), the server acknowledges about twice as much under the same offered load (30k rows/s
// -> 61k measured side by side here), so the generator's 10x target is further out of reach on
// a busy machine than the server's behaviour would suggest.
const OVERLOAD_MIN = 3;
// Requests are acknowledged once in the clickhouse sink's queue; a small queue fills within
// seconds at this load, so the overload is met by the queue's backpressure (503/UNAVAILABLE)
// as well as by the memory limit.
const QUEUE_MIB = Number(process.env.E2E_OVERLOAD_QUEUE_MIB ?? 64);
const RECORDS = 500;
const DRAIN_DEADLINE_MS = 90_000;  // after the load, the queue's acknowledged records are stored by then
const REQUEST_TIMEOUT_MS = 30_000;
const TICK_MS = 20;
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const SVC = `e2e-overload-${RUN}`;
const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

// ---- a minimal protobuf writer and reader -------------------------------------------------------

function varint(v) {
  const out = [];
  let x = BigInt(v);
  while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
  out.push(Number(x));
  return Buffer.from(out);
}
const tag = (field, wire) => varint((field << 3) | wire);
const lenField = (field, bytes) => Buffer.concat([tag(field, 2), varint(bytes.length), bytes]);
const strField = (field, s) => lenField(field, Buffer.from(s, 'utf8'));
function fixed64Field(field, v) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return Buffer.concat([tag(field, 1), b]);
}
// A KeyValue with a string value, as field `field` of its message.
const keyValue = (field, k, v) => lenField(field, Buffer.concat([strField(1, k), lenField(2, strField(1, v))]));

// Field number → [values] of one message (wire types 0 and 2 only: what google.rpc.Status,
// google.protobuf.Any, RetryInfo and Duration use).
function readMessage(buf) {
  const fields = new Map();
  let i = 0;
  const readVarint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const field = key >> 3;
    let value;
    if ((key & 7) === 0) {
      value = readVarint();
    } else if ((key & 7) === 2) {
      const n = Number(readVarint());
      value = buf.subarray(i, i + n);
      i += n;
    } else {
      throw new Error(`unexpected wire type ${key & 7}`);
    }
    if (!fields.has(field)) fields.set(field, []);
    fields.get(field).push(value);
  }
  return fields;
}

// The retry delay (ms) of the RetryInfo in a grpc-status-details-bin value, or null.
function retryDelayMs(details) {
  const status = readMessage(details);
  for (const any of status.get(3) ?? []) {
    const a = readMessage(any);
    if (a.get(1)?.[0]?.toString() !== 'type.googleapis.com/google.rpc.RetryInfo') continue;
    const info = readMessage(a.get(2)?.[0] ?? Buffer.alloc(0));
    const duration = readMessage(info.get(1)?.[0] ?? Buffer.alloc(0));
    return Number(duration.get(1)?.[0] ?? 0n) * 1000 + Number(duration.get(2)?.[0] ?? 0n) / 1e6;
  }
  return null;
}

// ---- requests -----------------------------------------------------------------------------------

// An ExportLogsServiceRequest of RECORDS realistic records (10 attributes, ~200-byte bodies) whose
// resource carries a fixed-width request id; stamp() writes a new id into a copy, so every request
// is distinct (the request ledger answers exact repeats without storing them) and costs no encoding.
function makeTemplate() {
  const idPlaceholder = 'R'.repeat(16);
  const resource = Buffer.concat([keyValue(1, 'service.name', SVC), keyValue(1, 'req', idPlaceholder)]);
  const now = BigInt(Date.now()) * 1_000_000n;
  const records = [];
  for (let i = 0; i < RECORDS; i++) {
    const attrs = [];
    for (let a = 0; a < 10; a++) attrs.push(keyValue(6, `attr.${a}`, `value-${a}-${i % 97}`));
    records.push(lenField(2, Buffer.concat([
      fixed64Field(1, now + BigInt(i)),
      tag(2, 0), varint(9),
      strField(3, 'INFO'),
      lenField(5, strField(1, `request handled in ${i % 1000} ms by worker ${i % 16}: `.padEnd(200, 'x'))),
      ...attrs,
    ])));
  }
  const scopeLogs = Buffer.concat([lenField(1, strField(1, 'e2e-overload')), ...records]);
  const body = lenField(1, Buffer.concat([lenField(1, resource), lenField(2, scopeLogs)]));
  const at = body.indexOf(idPlaceholder);
  assert.ok(at > 0 && body.indexOf(idPlaceholder, at + 1) < 0);
  return {
    // A function that makes the body when it is needed: a refused HTTP request never needs it.
    stamp(id) {
      return () => {
        const copy = Buffer.from(body);
        copy.write(id.padEnd(16, '.'), at, 'latin1');
        return copy;
      };
    },
    size: body.length,
  };
}

// With `Expect: 100-continue` the body goes only once the server has admitted the request: a
// refused request then costs the client its header alone, which lets one process on the same two
// cores offer many times what the server can store.
function postProtobuf(baseUrl, size, makeBody, agent) {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r) => { if (!settled) { settled = true; resolve(r); } };
    const req = http.request(new URL('/v1/logs', baseUrl), {
      method: 'POST', agent,
      headers: {
        'content-type': 'application/x-protobuf', 'content-length': String(size),
        expect: '100-continue',
      },
    }, (res) => {
      res.resume();
      res.on('end', () => {
        done({ status: res.statusCode, retryAfter: res.headers['retry-after'] });
        if (!req.writableFinished) req.destroy();  // refused before the body: never send it
      });
      res.on('error', (e) => done({ error: e.message }));
    });
    req.on('continue', () => req.end(makeBody()));
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e) => done({ error: e.code ?? e.message }));
    req.flushHeaders();
  });
}

function grpcExport(client, body) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(LOGS_EXPORT, (b) => b, (b) => b, body,
      { deadline: Date.now() + REQUEST_TIMEOUT_MS }, (err) => {
        if (!err) return resolve({ code: 0 });
        const details = err.metadata?.get('grpc-status-details-bin')?.[0];
        resolve({ code: err.code, details: details ? Buffer.from(details) : null, message: err.details });
      });
  });
}

function vmRssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

// ---- the test -------------------------------------------------------------------------------------

let server;
after(async () => { await server?.cleanup(); });

test(`10x overload for ${LOAD_MS / 1000} s: memory bounded, refusals retryable, acknowledged rows stored once`,
  { timeout: LOAD_MS + 120_000 }, async () => {
    server = new StackhouseServer({
      name: 'overload',
      config: `clickstack:
  hyperdx: {listen: "127.0.0.1:0"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
  processors:
    memoryLimiter: {limitMiB: ${LIMIT_MIB}, engineLimitMiB: ${ENGINE_MIB}}
    batch: {sendBatchSize: ${BATCH_ROWS}}
  exporters: {clickhouse: {queue: {maxSize: ${QUEUE_MIB}Mi}}}
`,
    });
    await server.start();
    const pid = server.pid;
    const template = makeTemplate();

    // RSS every 100 ms from now until the checks are done.
    const rss = [];
    const sampler = setInterval(() => {
      try { rss.push(vmRssMiB(pid)); } catch { /* exited: the test fails elsewhere */ }
    }, 100);
    const idleRss = vmRssMiB(pid);
    // What the limiter counts, from /metrics, for the summary.
    let maxHeldMiB = 0;
    const heldSampler = setInterval(async () => {
      try {
        const text = await (await fetch(`${server.adminUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
        const m = /^stackhouse_memory_limiter_held_bytes (\S+)/m.exec(text);
        if (m) maxHeldMiB = Math.max(maxHeldMiB, Number(m[1]) / 1048576);
      } catch { /* busy: the next sample */ }
    }, 250);

    const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
    const client = new grpc.Client(server.otlpGrpcEndpoint, grpc.credentials.createInsecure(),
      { 'grpc.max_send_message_length': -1 });
    const sent = new Map();  // id → {transport, outcome}
    const pending = new Set();
    const counts = { httpOffered: 0, grpcOffered: 0, httpInFlight: 0, grpcInFlight: 0, skipped: 0, acked: 0 };
    const problems = [];
    let seq = 0;

    const sendHttp = () => {
      const id = `h${(seq++).toString(36)}`;
      const entry = { transport: 'http', acked: false };
      sent.set(id, entry);
      counts.httpOffered++;
      counts.httpInFlight++;
      const p = postProtobuf(server.otlpUrl, template.size, template.stamp(id), agent).then((r) => {
        counts.httpInFlight--;
        entry.result = r;
        if (r.status === 200) { entry.acked = true; counts.acked++; }
        else if ((r.status === 503 || r.status === 429) && /^\d+$/.test(r.retryAfter ?? '')) entry.refused = true;
        else problems.push(`HTTP ${id}: ${JSON.stringify(r)}`);
      });
      pending.add(p);
      p.finally(() => pending.delete(p));
    };
    const sendGrpc = () => {
      const id = `g${(seq++).toString(36)}`;
      const entry = { transport: 'grpc', acked: false };
      sent.set(id, entry);
      counts.grpcOffered++;
      counts.grpcInFlight++;
      const p = grpcExport(client, template.stamp(id)()).then((r) => {
        counts.grpcInFlight--;
        entry.result = { code: r.code, message: r.message };
        if (r.code === 0) {
          entry.acked = true;
          counts.acked++;
        } else if ((r.code === grpc.status.UNAVAILABLE || r.code === grpc.status.RESOURCE_EXHAUSTED) &&
                   r.details && retryDelayMs(r.details) > 0) {
          entry.refused = true;
        } else {
          problems.push(`gRPC ${id}: code ${r.code} ${r.message} (RetryInfo ${r.details ? retryDelayMs(r.details) : 'none'})`);
        }
      });
      pending.add(p);
      p.finally(() => pending.delete(p));
    };

    // Open loop: every tick, the requests due by now (fractions carried over), at a rate that
    // follows OVERLOAD_TARGET times what was acknowledged over the last five seconds.
    const t0 = Date.now();
    let due = 0;
    let rps = OFFER_RPS;
    let maxRps = rps;
    const ackHistory = [counts.acked];  // acknowledged requests so far, once a second
    const steer = setInterval(() => {
      ackHistory.push(counts.acked);
      const window = Math.min(5, ackHistory.length - 1);
      const ackedRps = (ackHistory.at(-1) - ackHistory.at(-1 - window)) / window;
      rps = Math.min(MAX_OFFER_RPS, Math.max(OFFER_RPS, OVERLOAD_TARGET * ackedRps));
      maxRps = Math.max(maxRps, rps);
    }, 1000);
    await new Promise((resolve) => {
      const ticker = setInterval(() => {
        const elapsed = Date.now() - t0;
        if (elapsed >= LOAD_MS) {
          clearInterval(ticker);
          clearInterval(steer);
          resolve();
          return;
        }
        due += (rps * TICK_MS) / 1000;
        for (; due >= 1; due -= 1) {
          if (Math.random() < GRPC_SHARE) {
            if (counts.grpcInFlight < MAX_IN_FLIGHT) sendGrpc(); else counts.skipped++;
          } else if (counts.httpInFlight < MAX_IN_FLIGHT) {
            sendHttp();
          } else {
            counts.skipped++;
          }
        }
      }, TICK_MS);
    });
    const loadSeconds = (Date.now() - t0) / 1000;
    const ackedDuringLoad = [...sent.values()].filter((e) => e.acked).length;
    while (pending.size > 0) await Promise.all([...pending]);
    client.close();
    agent.destroy();
    clearInterval(sampler);
    clearInterval(heldSampler);

    const entries = [...sent.entries()];
    const acked = entries.filter(([, e]) => e.acked);
    const refused = entries.filter(([, e]) => e.refused);
    const offeredRows = (counts.httpOffered + counts.grpcOffered) * RECORDS;
    const summary = {
      loadSeconds,
      requestBytes: template.size,
      offeredRowsPerSecond: Math.round(offeredRows / loadSeconds),
      maxOfferedRequestsPerSecond: Math.round(maxRps),
      ackedRowsPerSecond: Math.round((ackedDuringLoad * RECORDS) / loadSeconds),
      httpOffered: counts.httpOffered,
      grpcOffered: counts.grpcOffered,
      acked: acked.length,
      ackedGrpc: acked.filter(([, e]) => e.transport === 'grpc').length,
      refusedHttp: refused.filter(([, e]) => e.transport === 'http').length,
      refusedGrpc: refused.filter(([, e]) => e.transport === 'grpc').length,
      skippedTicks: counts.skipped,
      problems: problems.length,
      idleRssMiB: Math.round(idleRss),
      maxHeldMiB: Math.round(maxHeldMiB),
      maxRssMiB: Math.round(Math.max(...rss)),
      limitMiB: LIMIT_MIB,
      marginMiB: MARGIN_MIB,
      engineLimitMiB: ENGINE_MIB,
      insertFailures: server.tail.filter((l) => l.includes('"insert failed"')).length,
    };
    process.stderr.write(`overload summary: ${JSON.stringify(summary)}\n`);

    assert.deepEqual(problems.slice(0, 10), [], `requests that were neither acknowledged nor refused the OTLP way (${problems.length})`);
    assert.ok(rss.length >= LOAD_MS / 200, `too few RSS samples (${rss.length})`);
    assert.ok(Math.max(...rss) <= LIMIT_MIB + MARGIN_MIB,
      `RSS reached ${Math.round(Math.max(...rss))} MiB, above the limit ${LIMIT_MIB} MiB + margin ${MARGIN_MIB} MiB`);
    assert.ok(summary.refusedHttp > 0 && summary.refusedGrpc > 0, 'no request was refused: this was no overload');
    assert.ok(summary.ackedGrpc > 0 && acked.length > summary.ackedGrpc, 'both transports must get requests through');
    assert.ok(offeredRows >= OVERLOAD_MIN * ackedDuringLoad * RECORDS,
      `offered ${offeredRows} rows, only ${(offeredRows / (ackedDuringLoad * RECORDS)).toFixed(1)}x the ${ackedDuringLoad * RECORDS} acknowledged`);

    // Exactly once: per request id, RECORDS rows or none; every acknowledged one stored.
    // Acknowledged means synced into the queue: the sink stores it a moment later (up to a full
    // queue's worth after the load stops), so read until every acknowledged request is there or
    // the drain deadline passes, then judge.
    let stored;
    const drainStart = Date.now();
    for (const deadline = drainStart + DRAIN_DEADLINE_MS; ;) {
      const { rows } = await server.sql(
        `SELECT ResourceAttributes['req'] AS req, count() AS n FROM otel.otel_logs
         WHERE ServiceName = {svc:String} GROUP BY req`, { svc: SVC }, { timeoutMs: 60_000 });
      stored = new Map(rows.map(([req, n]) => [req.replace(/\.+$/, ''), Number(n)]));
      if (acked.every(([id]) => (stored.get(id) ?? 0) >= RECORDS) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    process.stderr.write(`overload drain: every acknowledged request stored ${Date.now() - drainStart} ms after the load\n`);
    const wrong = [];
    for (const [id, e] of entries) {
      const n = stored.get(id) ?? 0;
      if (e.acked ? n !== RECORDS : n !== 0 && n !== RECORDS) wrong.push(`${id} (${e.transport}, ${e.acked ? 'acked' : JSON.stringify(e.result)}): ${n} rows`);
    }
    for (const id of stored.keys()) if (!sent.has(id)) wrong.push(`${id}: stored but never sent`);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} requests stored wrongly`);
  });
