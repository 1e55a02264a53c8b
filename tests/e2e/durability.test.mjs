// Durability under load: 4 clients send OTLP/JSON logs over keep-alive HTTP (50 records a request,
// each record with a unique id), the server is killed with SIGKILL mid-load and restarted on the
// same data directory, clients retry their unacknowledged request with the same bytes (as SDKs do),
// send a little more, and stop. Then every record of every acknowledged request must be stored
// exactly once, and retried requests must not have been stored twice either.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/durability.test.mjs   (env STACKHOUSE_BIN)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { StackhouseServer } from './lib/server.mjs';

const CLIENTS = 4;
const RECORDS = 50;
const LOAD_BEFORE_KILL_MS = 3000;
const LOAD_AFTER_RESTART_MS = 1500;
const DRAIN_DEADLINE_MS = 20_000;    // after the load stops, pending requests must be acked by then
const REQUEST_TIMEOUT_MS = 15_000;   // no answer within this → treated as lost, retried
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const SVC = `e2e-durability-${RUN}`;
const PAD = 'x'.repeat(150);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bodyOf = (rid) => `payload ${rid} ${PAD}`;

let server;
after(async () => { await server?.cleanup(); });

function makeRequest(client, n) {
  const id = `c${client}-r${n}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  const logRecords = [];
  for (let i = 0; i < RECORDS; i++) {
    const rid = `${id}-${i}`;
    logRecords.push({
      timeUnixNano: String(now + BigInt(i)),
      severityNumber: 9,
      severityText: 'INFO',
      body: { stringValue: bodyOf(rid) },
      attributes: [
        { key: 'rid', value: { stringValue: rid } },
        { key: 'req', value: { stringValue: id } },
        { key: 'client', value: { intValue: String(client) } },
      ],
    });
  }
  const body = Buffer.from(JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: SVC } }] },
      scopeLogs: [{ scope: { name: 'e2e-durability' }, logRecords }],
    }],
  }));
  return { id, body, attempts: 0, acked: false, retried: false, sending: false, inFlightAtKill: false, errors: [] };
}

function post(baseUrl, body, agent) {
  return new Promise((resolve) => {
    const url = new URL('/v1/logs', baseUrl);
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

test('kill -9 under load from 4 clients loses and duplicates nothing that was acknowledged', { timeout: 90_000 }, async (t) => {
  const t0 = Date.now();
  server = new StackhouseServer({ name: 'durability' });
  await server.start();
  const startMs = Date.now() - t0;

  // The server's state as the clients see it: up (with a URL) or down (wait for the restart).
  let upResolve;
  let up = Promise.resolve();
  let stopping = false;
  const sent = [];          // every request, in creation order
  const fatal = [];         // answers that are neither 2xx nor retryable: a server bug

  async function client(c) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let n = 0;
    let current = null;
    try {
      for (;;) {
        if (!current) {
          if (stopping) return;
          current = makeRequest(c, n++);
          sent.push(current);
        }
        await up;
        const base = server.otlpUrl;
        current.attempts += 1;
        current.sending = true;
        const r = await post(base, current.body, agent);
        current.sending = false;
        if (r.status >= 200 && r.status < 300) {
          current.acked = true;
          current.ackedAfterRestart = server.starts > 1;
          current = null;
          continue;
        }
        if (r.status !== undefined && ![429, 502, 503, 504].includes(r.status)) {
          fatal.push(`${current.id}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
          current = null;      // not retryable: counted as a failure below
          continue;
        }
        // an error or no answer: retry the same bytes, as an SDK would
        current.retried = true;
        current.errors.push(r.error ?? `HTTP ${r.status}`);
        if (stopping && Date.now() > drainDeadline) {
          fatal.push(`${current.id}: still unacknowledged ${DRAIN_DEADLINE_MS} ms after the load stopped (${current.errors.slice(-3).join('; ')})`);
          return;
        }
        const retryAfter = Number(r.headers?.['retry-after']);
        await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 2) * 1000 : 50);
      }
    } finally {
      agent.destroy();
    }
  }

  let drainDeadline = Infinity;
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));

  await sleep(LOAD_BEFORE_KILL_MS);
  up = new Promise((r) => { upResolve = r; });
  const ackedBeforeKill = sent.filter((r) => r.acked).length;
  for (const r of sent) if (!r.acked && r.sending) r.inFlightAtKill = true;
  const killedPid = server.pid;
  await server.kill9();
  const tRestart = Date.now();
  await server.start();
  const restartMs = Date.now() - tRestart;
  upResolve();
  await sleep(LOAD_AFTER_RESTART_MS);
  stopping = true;
  drainDeadline = Date.now() + DRAIN_DEADLINE_MS;
  await Promise.all(clients);

  const acked = sent.filter((r) => r.acked);
  const retried = sent.filter((r) => r.retried);
  const inFlightAtKill = sent.filter((r) => r.inFlightAtKill);
  t.diagnostic(`start ${startMs} ms, restart ${restartMs} ms (killed pid ${killedPid}); requests: ${sent.length} sent, ` +
    `${ackedBeforeKill} acked before the kill, ${inFlightAtKill.length} in flight at the kill, ${retried.length} retried, ` +
    `${acked.length} acked in all (${acked.length * RECORDS} records)`);

  assert.equal(fatal.length, 0, `requests not acknowledged with a 2xx: ${fatal.length}, e.g.\n  ${fatal.slice(0, 12).join('\n  ')}`);
  assert.ok(ackedBeforeKill > 0, 'some requests were acknowledged before the kill');
  assert.ok(acked.some((r) => r.ackedAfterRestart), 'some requests were acknowledged after the restart');
  assert.ok(inFlightAtKill.length > 0, 'the kill hit requests in flight (else the test proves little)');

  // What the store holds, per request and in all.
  const perReq = await server.sqlObjects(
    `SELECT LogAttributes['req'] AS req, count() AS n, uniqExact(LogAttributes['rid']) AS ids,
            countIf(Body != concat('payload ', LogAttributes['rid'], ' ', {pad:String})) AS bad_body
     FROM otel.otel_logs WHERE ServiceName = {svc:String} GROUP BY req ORDER BY req`,
    { svc: SVC, pad: PAD }, { timeoutMs: 60_000 });
  const stored = new Map(perReq.map((r) => [r.req, { n: Number(r.n), ids: Number(r.ids), badBody: Number(r.bad_body) }]));
  const sentIds = new Set(sent.map((r) => r.id));

  const missing = [];
  const duplicated = [];
  const badBodies = [];
  for (const r of acked) {
    const s = stored.get(r.id) ?? { n: 0, ids: 0, badBody: 0 };
    const tag = `${r.id}${r.retried ? ` (retried ×${r.attempts - 1}${r.inFlightAtKill ? ', in flight at the kill' : ''})` : ''}`;
    if (s.ids < RECORDS) missing.push(`${tag}: ${RECORDS - s.ids} of ${RECORDS} records missing`);
    if (s.n > s.ids) duplicated.push(`${tag}: ${s.n} rows for ${s.ids} distinct ids`);
    if (s.ids > RECORDS) duplicated.push(`${tag}: ${s.ids} distinct ids (expected ${RECORDS})`);
    if (s.badBody) badBodies.push(`${tag}: ${s.badBody} rows whose Body does not match their id`);
  }
  // Requests never acknowledged (none expected) may be stored or not, but never twice.
  for (const r of sent.filter((x) => !x.acked)) {
    const s = stored.get(r.id);
    if (s && s.n > s.ids) duplicated.push(`${r.id} (never acknowledged): ${s.n} rows for ${s.ids} distinct ids`);
  }
  const unknown = [...stored.keys()].filter((id) => !sentIds.has(id));
  const retriedDuplicates = duplicated.filter((d) => d.includes('retried'));

  const none = (list, what) => assert.equal(list.length, 0,
    `${what}: ${list.length}, e.g.\n  ${list.slice(0, 12).join('\n  ')}`);
  none(missing, 'acknowledged requests with records missing after kill -9 and restart');
  none(retriedDuplicates, 'retried requests stored more than once');
  none(duplicated, 'requests stored more than once');
  none(badBodies, 'requests whose bodies were not stored intact');
  none(unknown, 'stored requests that were never sent');

  const [total] = await server.sqlObjects(
    `SELECT count() AS rows, uniqExact(LogAttributes['rid']) AS ids FROM otel.otel_logs WHERE ServiceName = {svc:String}`,
    { svc: SVC });
  const ackedRecords = acked.length * RECORDS;
  assert.ok(Number(total.rows) >= ackedRecords, `rows ${total.rows} < records acknowledged ${ackedRecords}`);
  assert.equal(Number(total.rows), Number(total.ids), 'no record id is stored twice');
});
