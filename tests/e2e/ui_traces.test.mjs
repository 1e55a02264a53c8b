// Traces, the waterfall and services in a real browser (playwright-core driving Debian's
// /usr/bin/chromium), against the real server, with data sent by the official OpenTelemetry JS SDK:
//   - a trace over two services: nested spans with events, a link to another trace, an error, a
//     span whose parent was never sent, and logs emitted inside its spans;
//   - the API: GET /api/v1/traces/<id> (and its 400 and 404), POST /api/v1/services;
//   - the waterfall: span count, errors, nesting, the orphan, event marks, the span detail, a
//     collapsed subtree, the page at a phone's width, a link followed to the other trace, the
//     trace's logs and a span's;
//   - from a log row's detail to its trace (one click) and back to its logs in log search;
//   - span search: a service's spans, status:error, the histogram by status;
//   - services: the service's rate, error rate and p50/p95/p99 checked against SQL;
//   - a trace of 10,000 spans: rendered in a few dozen rows, scrolled to its last span.
// Screenshots of each page go to tests/e2e/artifacts/ (ignored by git).
//
// Run by hand: node --test --test-reporter=spec tests/e2e/ui_traces.test.mjs   (env STACKHOUSE_BIN)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';

import { StackhouseServer } from './lib/server.mjs';
import { keyValues, nsToHrTime } from './lib/otlp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const EMAIL = 'oncall@example.com';
const SEED_PASSWORD = 'seeded-Passw0rd-1';
const NEW_PASSWORD = 'my-own-Passw0rd-42';
const CONFIG = `clickstack:
  hyperdx:
    listen: "127.0.0.1:0"
    seedUser: {email: "${EMAIL}", password: "${SEED_PASSWORD}"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
`;
const RUN = Date.now().toString(36);
const FRONT = `shop-front-${RUN}`;
const PAY = `payments-${RUN}`;
const TOKEN = `zt${RUN}`;

let server;
let browser;
const sent = {}; // name -> span context, and the trace ids

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: false });
}

// Two services (one provider each, as two processes would), spans one minute ago with
// sub-millisecond times, the child of the front's span continued in the payments service.
async function sendTrace() {
  const exporter = () => new OTLPTraceExporter({ url: `${server.otlpUrl}/v1/traces`, timeoutMillis: 10_000 });
  const provider = (svc) => new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': svc, 'service.version': '2.4.1' }),
    spanProcessors: [new SimpleSpanProcessor(exporter())],
  });
  const front = provider(FRONT);
  const pay = provider(PAY);
  const ft = front.getTracer('ui-traces');
  const pt = pay.getTracer('ui-traces');
  const base = (BigInt(Date.now()) - 60_000n) * 1_000_000n;
  const at = (ms) => nsToHrTime(base + BigInt(Math.round(ms * 1e6)));

  // A span of another trace, for the link.
  const other = ft.startSpan('enqueue-order', { kind: SpanKind.PRODUCER, startTime: at(-5) }, ROOT_CONTEXT);
  other.end(at(-4.5));
  sent.other = other.spanContext();

  const root = ft.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: at(0), attributes: { 'http.request.method': 'GET', 'http.route': '/checkout' } }, ROOT_CONTEXT);
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  const render = ft.startSpan('render cart', { kind: SpanKind.INTERNAL, startTime: at(1.25) }, rootCtx);
  render.addEvent('template.loaded', { 'template.name': 'cart.html' }, at(1.5));
  render.end(at(3.75));
  const call = ft.startSpan('POST /pay', { kind: SpanKind.CLIENT, startTime: at(4), attributes: { 'peer.service': PAY } }, rootCtx);
  const callCtx = trace.setSpan(rootCtx, call);
  const charge = pt.startSpan('charge card', {
    kind: SpanKind.SERVER, startTime: at(4.5), attributes: { 'payment.provider': 'acme', 'order.id': 'A-77123' },
    links: [{ context: sent.other, attributes: { 'link.reason': 'order queued' } }],
  }, callCtx);
  const chargeCtx = trace.setSpan(callCtx, charge);
  const db = pt.startSpan('SELECT card', { kind: SpanKind.CLIENT, startTime: at(5), attributes: { 'db.system': 'postgresql' } }, chargeCtx);
  db.addEvent('retry', { 'retry.count': 1 }, at(6.25));
  db.end(at(7.125));
  charge.addEvent('exception', { 'exception.type': 'CardDeclined', 'exception.message': 'issuer said no (51)' }, at(9));
  charge.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined (51)' });

  // Logs inside spans carry their ids.
  const logs = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': PAY }),
    processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${server.otlpUrl}/v1/logs`, timeoutMillis: 10_000 }) })],
  });
  const logger = logs.getLogger('ui-traces');
  logger.emit({ timestamp: at(8), severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: `card declined for order A-77123 ${TOKEN}`, context: chargeCtx });
  logger.emit({ timestamp: at(5.5), severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: `looking up card ${TOKEN}`, context: trace.setSpan(chargeCtx, db) });

  charge.end(at(10.5));
  call.end(at(11));
  root.end(at(12.5));
  // A span whose parent was never sent (a lost span): the waterfall must still show it.
  const lostParent = { traceId: root.spanContext().traceId, spanId: 'feedfacefeedface', traceFlags: 1, isRemote: true };
  const orphan = ft.startSpan('late callback', { kind: SpanKind.CONSUMER, startTime: at(13) }, trace.setSpanContext(ROOT_CONTEXT, lostParent));
  orphan.end(at(14));

  await Promise.all([front.forceFlush(), pay.forceFlush(), logs.forceFlush()]);
  await Promise.all([front.shutdown(), pay.shutdown(), logs.shutdown()]);
  Object.assign(sent, {
    traceId: root.spanContext().traceId,
    root: root.spanContext(), charge: charge.spanContext(), db: db.spanContext(), orphan: orphan.spanContext(),
  });
}

async function waitRows(sql, params, n) {
  for (let i = 0; i < 100; i++) {
    const { rows } = await server.sql(sql, params);
    if (Number(rows[0][0]) >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fewer than ${n} rows within 10 s: ${sql}`);
}

// A trace of `n` spans in one OTLP/JSON request: a root, 100 children, the rest below them.
async function sendBigTrace(n) {
  const traceId = `b16${RUN}`.padEnd(32, '0').slice(0, 32).replace(/[^0-9a-f]/g, 'a');
  const base = (BigInt(Date.now()) - 120_000n) * 1_000_000n;
  const id = (i) => (i + 1).toString(16).padStart(16, '0');
  const spans = [];
  for (let i = 0; i < n; i++) {
    const parent = i === 0 ? '' : i <= 100 ? id(0) : id(1 + ((i - 101) % 100));
    const start = base + BigInt(i) * 37_000n;
    spans.push({
      traceId, spanId: id(i), parentSpanId: parent, name: `op-${i % 50}`, kind: 2,
      startTimeUnixNano: String(start), endTimeUnixNano: String(start + (i === 0 ? BigInt(n) * 37_000n + 1_000_000n : 250_000n)),
      attributes: keyValues({ 'span.index': i }), status: { code: i % 97 === 0 ? 2 : 0 },
    });
  }
  const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: keyValues({ 'service.name': `big-${RUN}` }) }, scopeSpans: [{ scope: { name: 'big' }, spans }] }] });
  const r = await fetch(`${server.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(r.status, 200, await r.text());
  await waitRows('SELECT count() FROM otel.otel_traces WHERE TraceId = {t:String}', { t: traceId }, n);
  return traceId;
}

before(async () => {
  server = new StackhouseServer({ config: CONFIG, name: 'ui-traces' });
  await server.start();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  await server?.cleanup();
});

test('traces, waterfall, log <-> trace, span search and services in Chromium', { timeout: 90_000 }, async (t) => {
  await sendTrace();
  await waitRows('SELECT count() FROM otel.otel_traces WHERE TraceId = {t:String}', { t: sent.traceId }, 6);
  await waitRows('SELECT count() FROM otel.otel_logs WHERE TraceId = {t:String}', { t: sent.traceId }, 2);

  const context = await browser.newContext({ viewport: { width: 1440, height: 860 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[0134]/.test(m.text())) errors.push(m.text());
  });

  // Log in (the seed user must change its password first).
  await page.goto(`${server.apiUrl}/trace/${sent.traceId}`);
  await page.getByTestId('email').fill(EMAIL);
  await page.getByTestId('password').fill(SEED_PASSWORD);
  await page.getByTestId('login').click();
  await page.getByTestId('current-password').fill(SEED_PASSWORD);
  await page.getByTestId('new-password').fill(NEW_PASSWORD);
  await page.getByTestId('new-password-again').fill(NEW_PASSWORD);
  await page.getByTestId('change-password').click();
  await page.getByTestId('span-count').waitFor({ timeout: 15_000 }).catch(async (e) => {
    await shot(page, 'traces-00-failed');
    throw new Error(`${e.message}\npage: ${await page.locator('body').innerText()}`);
  });
  const api = (p, init) => page.evaluate(async ([p2, i2]) => {
    const headers = { 'content-type': 'application/json', 'x-csrf-token': sessionStorage.getItem('stackhouse.csrf') ?? '' };
    const r = await fetch(p2, i2 ? { method: 'POST', headers, body: JSON.stringify(i2) } : {});
    return { status: r.status, body: await r.json() };
  }, [p, init]);

  await t.test('the trace API: every span, its logs, clear errors', async () => {
    const r = await api(`/api/v1/traces/${sent.traceId.toUpperCase()}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.traceId, sent.traceId);
    assert.equal(r.body.spans.length, 6);
    const byName = Object.fromEntries(r.body.spans.map((s) => [s.name, s]));
    assert.equal(byName['charge card'].parentSpanId, byName['POST /pay'].spanId);
    assert.equal(byName['charge card'].service, PAY);
    assert.equal(byName['charge card'].statusCode, 'Error');
    assert.equal(byName['charge card'].statusMessage, 'card declined (51)');
    assert.deepEqual(byName['charge card'].links.map((l) => [l.traceId, l.spanId, l.attributes['link.reason']]), [[sent.other.traceId, sent.other.spanId, 'order queued']]);
    assert.deepEqual(byName['charge card'].events.map((e) => e.name), ['exception']);
    assert.equal(byName['SELECT card'].durationNano, '2125000');
    assert.equal(byName['late callback'].parentSpanId, 'feedfacefeedface');
    assert.deepEqual(r.body.logs.map((l) => l.spanId).sort(), [sent.charge.spanId, sent.db.spanId].sort());
    const bad = await api('/api/v1/traces/not-a-trace');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /32 hexadecimal digits/);
    const none = await api(`/api/v1/traces/${'0'.repeat(31)}1`);
    assert.equal(none.status, 404);
  });

  await t.test('the waterfall: count, errors, nesting, orphan, events, detail, collapse', async () => {
    assert.equal(await page.getByTestId('span-count').textContent(), '6 spans');
    assert.equal(await page.getByTestId('error-count').textContent(), '1 error');
    assert.equal(await page.getByTestId('total-duration').textContent(), '14.0 ms');
    const rows = await page.getByTestId('span-row').evaluateAll((els) => els.map((e) => [e.querySelector('.name').textContent, Number(e.dataset.depth)]));
    assert.deepEqual(rows, [
      ['GET /checkout', 0], ['render cart', 1], ['POST /pay', 1], ['charge card', 2], ['SELECT card', 3], ['late callback', 0],
    ]);
    const orphan = page.getByTestId('span-row').filter({ hasText: 'late callback' });
    assert.match(await orphan.textContent(), /missing parent/);
    assert.equal(await page.getByTestId('event-mark').count(), 3);
    // Bars: "charge card" starts 4.5 ms into 14 ms.
    const charge = page.getByTestId('span-row').filter({ hasText: 'charge card' });
    const left = await charge.locator('.bar').evaluate((e) => e.style.left);
    assert.equal(Number.parseFloat(left).toFixed(4), ((4.5 / 14) * 100).toFixed(4));
    await charge.click();
    const detail = page.getByTestId('span-detail');
    await detail.waitFor();
    const text = await detail.textContent();
    for (const s of ['card declined (51)', 'payment.provider', 'acme', 'order.id', 'A-77123', 'exception', 'CardDeclined', 'issuer said no (51)', 'order queued', PAY, 'Server', '6.00 ms']) {
      assert.ok(text.includes(s), `span detail shows ${s}`);
    }
    assert.match(page.url(), new RegExp(`span=${sent.charge.spanId}`));
    await shot(page, 'traces-01-waterfall');
    // Collapse the root: only it and the orphan stay.
    await page.getByTestId('span-row').first().getByTestId('toggle').click();
    assert.equal(await page.getByTestId('span-row').count(), 2);
    await shot(page, 'traces-02-collapsed');
    await page.getByTestId('span-row').first().getByTestId('toggle').click();
    assert.equal(await page.getByTestId('span-row').count(), 6);
    // At a phone's width: the waterfall above the detail, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.waitForTimeout(200);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(over <= 0, `no horizontal scroll at 390 px (${over} px over)`);
    await shot(page, 'traces-02b-phone');
    await page.setViewportSize({ width: 1440, height: 860 });
  });

  await t.test("the trace's logs, and a span's", async () => {
    await page.getByTestId('tab-logs').click();
    await page.getByTestId('trace-log').first().waitFor();
    assert.equal(await page.getByTestId('trace-log').count(), 2);
    await page.getByTestId('only-span-logs').check();
    assert.equal(await page.getByTestId('trace-log').count(), 1);
    assert.match(await page.getByTestId('trace-log').textContent(), /card declined for order A-77123/);
    await shot(page, 'traces-03-span-logs');
  });

  await t.test('a link is followed to the other trace', async () => {
    await page.getByTestId('tab-span').click();
    await page.getByTestId('link-trace').click();
    await page.waitForURL(new RegExp(`/trace/${sent.other.traceId}`));
    await page.getByTestId('span-count').waitFor();
    assert.equal(await page.getByTestId('span-count').textContent(), '1 span');
    assert.match(await page.getByTestId('span-detail').textContent(), /enqueue-order/);
    await page.goBack();
    await page.getByTestId('span-count').waitFor();
    assert.equal(await page.getByTestId('span-count').textContent(), '6 spans');
  });

  await t.test('from a log to its trace in one click, and back to its logs', async () => {
    await page.goto(`${server.apiUrl}/?q=${encodeURIComponent(`${TOKEN} level:error`)}`);
    await page.getByTestId('row').first().waitFor();
    await page.getByTestId('row').first().click();
    await page.getByTestId('open-trace').click();
    await page.waitForURL(new RegExp(`/trace/${sent.traceId}\\?span=${sent.charge.spanId}`));
    await page.getByTestId('span-detail').waitFor();
    assert.match(await page.getByTestId('span-detail').textContent(), /charge card/);
    await shot(page, 'traces-04-from-log');
    await page.getByTestId('trace-logs-link').click();
    await page.waitForURL(/\/\?q=trace_id/);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.includes('shown'));
    // The status can say "shown" a moment before the rows are drawn: wait for them, bounded.
    await page
      .waitForFunction(() => document.querySelectorAll('[data-testid=row]').length >= 2, null, { timeout: 10_000 })
      .catch(() => {});
    assert.equal(await page.getByTestId('row').count(), 2);
    await shot(page, 'traces-05-back-to-logs');
  });

  await t.test('span search: a service, errors, the histogram by status', async () => {
    await page.getByTestId('nav').getByText('Traces').click();
    await page.waitForURL(/\/traces/);
    await page.getByTestId('query').fill(`service:"${PAY}"`);
    await page.getByTestId('query').press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.startsWith('2 shown'));
    await page.waitForFunction(() => /^2 matching spans/.test(document.querySelector('[data-testid=histogram-total]')?.textContent ?? ''));
    await page.getByTestId('query').fill(`service:"${PAY}" status:error duration:>5`);
    await page.getByTestId('query').press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.startsWith('1 shown'));
    assert.match(await page.getByTestId('row').textContent(), /charge card.*6\.00 ms.*Error/);
    await page.getByTestId('row').click();
    await shot(page, 'traces-06-span-search');
    await page.getByTestId('span-logs').click();
    await page.waitForURL(/span_id/);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.startsWith('1 shown'));
  });

  await t.test('services: figures checked against SQL', async () => {
    await page.goto(`${server.apiUrl}/services?range=15m`);
    const row = page.locator(`[data-testid=service-row][data-service="${PAY}"]`);
    await row.waitFor();
    const { rows } = await server.sql(
      "SELECT count(), countIf(StatusCode = 'Error'), groupArray(Duration) FROM otel.otel_traces WHERE ServiceName = {s:String}", { s: PAY });
    const [n, errs, durations] = [Number(rows[0][0]), Number(rows[0][1]), rows[0][2].map(Number).sort((a, b) => a - b)];
    assert.equal(n, 2);
    const pct = (q) => {
      const r = q * (durations.length - 1);
      const lo = Math.floor(r);
      const hi = Math.min(lo + 1, durations.length - 1);
      return durations[lo] + (durations[hi] - durations[lo]) * (r - lo);
    };
    const ms = (ns) => `${(ns / 1e6).toPrecision(3)} ms`;
    assert.equal(await row.getByTestId('error-rate').textContent(), `${((errs / n) * 100).toFixed(0)}%`);
    assert.equal(await row.getByTestId('p50').textContent(), ms(pct(0.5)));
    assert.equal(await row.getByTestId('p95').textContent(), ms(pct(0.95)));
    assert.equal(await row.getByTestId('p99').textContent(), ms(pct(0.99)));
    assert.equal(await row.getByTestId('rate').getAttribute('title'), `${n} spans`);
    const a = await api('/api/v1/services', { from: Date.now() - 15 * 60e3, to: Date.now() });
    const pay = a.body.services.find((s) => s.service === PAY);
    assert.equal(pay.spans, n);
    assert.equal(pay.errors, errs);
    assert.ok(Math.abs(pay.rate - n / 900) < 1e-3, `rate ${pay.rate}`);
    await row.getByTestId('service-open').click();
    await page.getByTestId('operations').waitFor();
    assert.equal(await page.getByTestId('operation-row').count(), 2);
    assert.equal(await page.getByTestId('slow-trace').count(), 1);
    await shot(page, 'traces-07-services');
    await page.getByTestId('slow-trace').click();
    await page.waitForURL(new RegExp(`/trace/${sent.traceId}`));
    await page.getByTestId('span-detail').waitFor();
  });

  await t.test('10,000 spans: a few dozen rows rendered, the last one reached by scrolling', async () => {
    const big = await sendBigTrace(10_000);
    await page.goto(`${server.apiUrl}/trace/${big}`);
    await page.getByTestId('span-count').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByTestId('span-count').textContent(), '10,000 spans');
    assert.equal(await page.getByTestId('error-count').textContent(), '104 errors');
    const rendered = await page.getByTestId('span-row').count();
    assert.ok(rendered > 10 && rendered < 120, `${rendered} rows in the DOM`);
    const drawn = await page.evaluate(() => performance.getEntriesByName('stackhouse-trace-drawn')[0]?.detail);
    t.diagnostic(`10,000-span trace: fetched and drawn in ${Math.round(drawn)} ms`);
    await page.getByTestId('waterfall').evaluate((e) => { e.scrollTop = e.scrollHeight; });
    // The last row of the tree (depth first, children by start): the root's last child (span 100)
    // and its last child, span 9900.
    const last = (9900 + 1).toString(16).padStart(16, '0');
    await page.waitForFunction((id) => [...document.querySelectorAll('[data-testid=span-row]')].some((e) => e.dataset.spanId === id), last);
    const bottom = await page.getByTestId('span-row').evaluateAll((els) => els.reduce((a, e) => (parseFloat(e.style.top) > parseFloat(a.style.top) ? e : a)).dataset.spanId);
    assert.equal(bottom, last);
    assert.ok((await page.getByTestId('span-row').count()) < 120);
    await shot(page, 'traces-08-10k-spans');
  });

  assert.deepEqual(errors, [], 'no page errors');
  await context.close();
});
