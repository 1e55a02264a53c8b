// The search API through the real binary: logs sent over OTLP/HTTP, then found by free text and by
// attribute, paged by cursor, counted by the histogram, refused with the column of a syntax error,
// SQL mode checked like /api/v1/sql, and a live tail (long polling) that answers with a log sent
// after it started, and with a late one (timed before the newest shown) sent after that.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

let server;
before(async () => { server = await startServer({ name: 'search-api' }); });
after(async () => { await server?.cleanup(); });

async function sendLogs(records) {
  const body = {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } },
        { key: 'k8s.pod.name', value: { stringValue: 'api-7f9' } }] },
      scopeLogs: [{ logRecords: records.map((r) => ({
        timeUnixNano: String(r.ns), severityText: r.level, body: { stringValue: r.body },
        attributes: Object.entries(r.attrs || {}).map(([key, v]) => ({ key, value: { stringValue: v } })),
      })) }],
    }],
  };
  const res = await fetch(`${server.otlpUrl}/v1/logs`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
  // Acknowledged once in the queue; stored a moment later (the batch timeout plus one insert).
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

async function api(endpoint, body) {
  const res = await fetch(`${server.apiUrl}${endpoint}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...server.authHeaders() }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const nowNs = () => BigInt(Date.now()) * 1000000n;

test('search, pages, histogram, errors and SQL mode', { timeout: 60_000 }, async () => {
  const base = nowNs() - 60_000_000_000n;
  const records = [];
  for (let i = 0; i < 25; i++) {
    records.push({ ns: base + BigInt(i) * 1000000n, level: i % 5 === 0 ? 'ERROR' : 'INFO',
      body: `order ${i} paid priority-3${i === 7 ? ' connection reset by peer' : ''}`,
      attrs: { 'job.id': `JOB-${i}` } });
  }
  await sendLogs(records);
  const range = { from: Date.now() - 3600_000, to: Date.now() + 1000 };

  let r = await api('/api/v1/search', { source: 'logs', query: '"Connection reset"', ...range });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.rows.length, 1);
  assert.match(r.json.rows[0][4], /order 7 paid/);
  assert.equal(r.json.cursor, null);

  r = await api('/api/v1/search', { source: 'logs', query: 'job.id:job-12 k8s.pod.name:API-7F9', ...range });
  assert.equal(r.json.rows.length, 1, JSON.stringify(r.json));

  // Pages of 10: 25 rows in three pages, newest first, no row twice.
  const seen = [];
  let cursor = null;
  do {
    r = await api('/api/v1/search', { source: 'logs', query: 'priority-3', limit: 10,
      select: ['Timestamp', 'Body'], cursor, ...range });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    seen.push(...r.json.rows.map((row) => row[1]));
    cursor = r.json.cursor;
  } while (cursor);
  assert.equal(seen.length, 25);
  assert.equal(new Set(seen).size, 25);
  assert.match(seen[0], /order 24 /);

  r = await api('/api/v1/search/histogram', { source: 'logs', query: 'paid', ...range });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.total, 25);
  const sev = {};
  for (const b of r.json.buckets) for (const [k, v] of Object.entries(b.bySeverity)) sev[k] = (sev[k] || 0) + v;
  assert.deepEqual(sev, { ERROR: 5, INFO: 20 });
  // 1 h and 1 s in at most 60 buckets: 2 min each.
  assert.equal(r.json.width_ms, 120000);
  assert.ok(r.json.buckets.length <= 60, String(r.json.buckets.length));

  r = await api('/api/v1/search', { source: 'logs', query: 'level:error AND )', ...range });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.message, "unexpected ')' at column 17");

  r = await api('/api/v1/search', { source: 'logs', mode: 'sql', query: "SeverityText = 'ERROR'", ...range });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.rows.length, 5);
  r = await api('/api/v1/search', { source: 'logs', mode: 'sql', query: "file('/etc/passwd') != ''", ...range });
  assert.equal(r.status, 403, JSON.stringify(r.json));
  r = await api('/api/v1/search', { source: 'nope', query: '' });
  assert.equal(r.status, 400);
});

test('a live tail answers with a log sent after it started', { timeout: 60_000 }, async () => {
  const first = await api('/api/v1/search/tail', { source: 'logs', query: 'tailed', timeout_ms: 0 });
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.equal(first.json.rows.length, 0);
  const started = Date.now();
  const poll = api('/api/v1/search/tail', { source: 'logs', query: 'tailed', after: first.json.after, timeout_ms: 15000 });
  await new Promise((r) => setTimeout(r, 1500));
  await sendLogs([{ ns: nowNs(), level: 'WARN', body: 'a tailed line' }]);
  const r = await poll;
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.rows.length, 1);
  assert.match(r.json.rows[0][4], /a tailed line/);
  assert.ok(Date.now() - started < 10000);
  // The cursor is "<newest time ns>:<newest insert block>"; both move on.
  const [t0ns, b0] = first.json.after.split(':').map(BigInt);
  const [t1ns, b1] = r.json.after.split(':').map(BigInt);
  assert.ok(t1ns > t0ns && b1 > b0, `${first.json.after} -> ${r.json.after}`);
  // Nothing newer: held for its timeout, then answered empty with the same `after`.
  // A late record (timed ten minutes before the newest one shown) sent now is shown once.
  const late = api('/api/v1/search/tail', { source: 'logs', query: 'tailed', after: r.json.after, timeout_ms: 15000 });
  await new Promise((res) => setTimeout(res, 500));
  await sendLogs([{ ns: nowNs() - 600_000_000_000n, level: 'INFO', body: 'a late tailed line' }]);
  const lateAnswer = await late;
  assert.equal(lateAnswer.json.rows.length, 1, JSON.stringify(lateAnswer.json));
  assert.match(lateAnswer.json.rows[0][4], /a late tailed line/);
  const t0 = Date.now();
  const empty = await api('/api/v1/search/tail', { source: 'logs', query: 'tailed', after: lateAnswer.json.after, timeout_ms: 1500 });
  assert.equal(empty.json.rows.length, 0);
  assert.equal(empty.json.after, lateAnswer.json.after);
  assert.ok(Date.now() - t0 >= 1400);
});
