// The metrics page in a real browser (playwright-core driving Debian's /usr/bin/chromium), against
// the real server. A counter (cumulative, monotonic) and a histogram are sent with the official
// OpenTelemetry JS SDK over OTLP/HTTP in three exports a step apart; then, after logging in:
//   - the metric picker finds the counter as you type (its type and unit shown), the default
//     aggregation is rate, and the chart is drawn; the rate per step in the API's answer equals
//     the one computed here by SQL (POST /api/v1/sql) from the stored points, and the table view
//     shows the same values; grouped by route it has one series per route (legend, hover values);
//   - the histogram's default aggregation is p99; its value per step equals the quantile computed
//     here from the bucket increases read by SQL (Prometheus's histogram_quantile, in JS);
//   - stacked bars, the number view and the previous period render.
// Screenshots go to tests/e2e/artifacts/metrics-*.png (ignored by git).
//
// Run by hand: node --test --test-reporter=spec tests/e2e/ui_metrics.test.mjs  (env STACKHOUSE_BIN)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, AggregationType } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter, AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';

import { StackhouseServer } from './lib/server.mjs';

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
const COUNTER = 'shop.orders';
const HISTOGRAM = 'shop.checkout.duration';

// The answer to the page's metrics query whose request matches `want` (an earlier query of the
// page may still be answered after the next control changed: waiting for any answer can catch it).
function metricsAnswer(page, want) {
  return page.waitForResponse((r) => {
    if (!r.url().endsWith('/api/v1/metrics/query')) return false;
    let body;
    try { body = r.request().postDataJSON(); } catch { return false; }
    return Boolean(body) && want(body);
  });
}
const BOUNDS = [5, 10, 25, 50, 100, 250, 500, 1000];
// The auto step of the last 15 minutes is 5 s: exports 5.5 s apart fall in different steps.
const GAP_MS = 5_500;
const STEP_MS = 5_000;

// What each export adds: orders per route, and the durations recorded.
const rounds = [
  { a: 10, b: 4, latencies: [3, 7, 12, 40] },
  { a: 90, b: 6, latencies: Array.from({ length: 100 }, (_, i) => 2 + i * 4.5) },
  { a: 45, b: 30, latencies: Array.from({ length: 60 }, (_, i) => 20 + i * 15) },
];

let server;
let browser;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `metrics-${name}.png`), fullPage: false });
}

// Three exports, a step apart, of a counter (two routes) and a histogram, cumulative as the SDK's
// default.
async function sendMetrics() {
  const exporter = new OTLPMetricExporter({
    url: `${server.otlpUrl}/v1/metrics`,
    temporalityPreference: AggregationTemporalityPreference.CUMULATIVE,
  });
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop', 'host.name': 'web-1' }),
    readers: [reader],
    views: [{ instrumentName: HISTOGRAM, aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: BOUNDS } } }],
  });
  const meter = provider.getMeter('ui-metrics-test');
  const orders = meter.createCounter(COUNTER, { description: 'Orders placed', unit: '{order}', valueType: ValueType.INT });
  const duration = meter.createHistogram(HISTOGRAM, { description: 'Checkout duration', unit: 'ms' });
  for (let i = 0; i < rounds.length; i += 1) {
    const r = rounds[i];
    orders.add(r.a, { route: '/cart' });
    orders.add(r.b, { route: '/pay' });
    for (const v of r.latencies) duration.record(v, { route: '/pay' });
    await provider.forceFlush();
    if (i < rounds.length - 1) await sleep(GAP_MS);
  }
  await provider.shutdown();
}

// The rate per step of the counter, from the stored points alone: per series (attributes,
// resource, start time) the increase between consecutive points, attributed to the step of the
// later point, summed, divided by the step in seconds. Keyed by the step's start (ms).
async function sqlRates(base, step) {
  const { rows } = await server.sql(`
    SELECT toInt64(intDiv(toUnixTimestamp64Milli(TimeUnix) - {base:Int64}, {step:Int64})) AS k,
           sum(d) / ({step:Int64} / 1000) AS rate
    FROM (
      SELECT TimeUnix,
             Value - lagInFrame(Value) OVER w AS d,
             row_number() OVER w AS n
      FROM otel.otel_metrics_sum WHERE MetricName = {m:String}
      WINDOW w AS (PARTITION BY Attributes, ResourceAttributes, StartTimeUnix ORDER BY TimeUnix
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
    WHERE n > 1 GROUP BY k ORDER BY k`, { base, step, m: COUNTER });
  return new Map(rows.map(([k, v]) => [base + Number(k) * step, Number(v)]));
}

// histogram_quantile as Prometheus computes it, over per-bucket counts with a +Inf bucket last.
function quantile(q, bounds, counts) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let b = 0; b < counts.length; b += 1) {
    if (counts[b] > 0 && below + counts[b] >= rank) {
      if (b === bounds.length) return bounds[bounds.length - 1];
      const lower = b === 0 ? 0 : bounds[b - 1];
      return lower + (bounds[b] - lower) * ((rank - below) / counts[b]);
    }
    below += counts[b];
  }
  return bounds[bounds.length - 1];
}

// p99 per step of the histogram: the bucket counts' increase between consecutive points of each
// series (read by SQL), attributed to the later point's step.
async function sqlP99(base, step) {
  const { rows } = await server.sql(`
    SELECT TimeUnix, BucketCounts, ExplicitBounds,
           toInt64(intDiv(toUnixTimestamp64Milli(TimeUnix) - {base:Int64}, {step:Int64})) AS k
    FROM otel.otel_metrics_histogram WHERE MetricName = {m:String} ORDER BY TimeUnix`, { base, step, m: HISTOGRAM });
  const byStep = new Map();
  let prev = null;
  for (const [, counts, bounds, k] of rows) {
    const now = counts.map(Number);
    if (prev) {
      const inc = now.map((c, i) => c - prev[i]);
      const key = base + Number(k) * step;
      const acc = byStep.get(key) ?? { bounds: bounds.map(Number), counts: new Array(now.length).fill(0) };
      inc.forEach((c, i) => { acc.counts[i] += c; });
      byStep.set(key, acc);
    }
    prev = now;
  }
  return new Map([...byStep].map(([t, h]) => [t, quantile(0.99, h.bounds, h.counts)]));
}

function assertClose(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

// The points of an answer's series summed per time (without groupBy there is one series).
function pointsOf(answer) {
  const out = new Map();
  for (const s of answer.series) for (const [t, v] of s.points) out.set(t, (out.get(t) ?? 0) + v);
  return out;
}

// Moves the cursor across the plot from the right until the legend shows a value for the first
// series; returns the legend's text.
async function hoverValue(page) {
  const over = page.locator('[data-testid="metric-plot"] .u-over');
  const box = await over.boundingBox();
  for (let x = box.width - 1; x > 0; x -= 3) {
    await page.mouse.move(box.x + x, box.y + box.height / 2);
    const text = await page.locator('[data-testid="metric-plot"] .u-legend .u-series:nth-child(2) .u-value').textContent();
    if (/\d/.test(text)) return page.locator('[data-testid="metric-plot"] .u-legend').textContent();
  }
  throw new Error('no value under the cursor anywhere on the chart');
}

// Non-blank pixels of the chart's canvas: the chart was drawn, not just laid out.
async function drawnPixels(page) {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid="metric-plot"] canvas');
    if (!c) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n += 1;
    return n;
  });
}

before(async () => {
  server = new StackhouseServer({ config: CONFIG, name: 'ui-metrics' });
  await server.start();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  await server?.cleanup();
});

test('metrics page: a counter rate and a histogram p99 drawn and checked against SQL', { timeout: 120_000 }, async () => {
  const sent = sendMetrics();
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // 401: "who am I" before login. 429: every query slot busy for a moment; the page waits and asks
  // again (the charts below are checked, so a request that never succeeded would fail them).
  page.on('console', (m) => { if (m.type() === 'error' && !/status of (401|429)/.test(m.text())) errors.push(m.text()); });

  // Log in while the exports run (the seed user must change the password first).
  await page.goto(`${server.apiUrl}/metrics?range=15m`);
  await page.getByTestId('email').fill(EMAIL);
  await page.getByTestId('password').fill(SEED_PASSWORD);
  await page.getByTestId('login').click();
  await page.getByTestId('current-password').fill(SEED_PASSWORD);
  await page.getByTestId('new-password').fill(NEW_PASSWORD);
  await page.getByTestId('new-password-again').fill(NEW_PASSWORD);
  await page.getByTestId('change-password').click();
  await page.getByTestId('metric-picker').waitFor();
  await sent;
  for (let i = 0; i < 100; i += 1) {
    const { rows } = await server.sql('SELECT (SELECT count() FROM otel.otel_metrics_sum WHERE MetricName = {c:String}) + (SELECT count() FROM otel.otel_metrics_histogram WHERE MetricName = {h:String})', { c: COUNTER, h: HISTOGRAM });
    if (Number(rows[0][0]) === 9) break;
    await sleep(100);
  }
  await page.reload();  // the catalogue as it is now

  // The picker: type part of the name; the option shows its kind and unit.
  await page.getByTestId('metric-picker').fill('orders');
  const option = page.getByTestId('metric-option').filter({ hasText: COUNTER });
  await option.waitFor();
  assert.match(await option.textContent(), /counter, cumulative · \{order\}/);
  await shot(page, '01-picker');
  let answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/metrics/query'));
  await option.click();
  let rate = await (await answer).json();
  assert.equal(rate.aggregation, 'rate');
  assert.equal(rate.type, 'sum');
  assert.equal(rate.step, STEP_MS);
  await page.locator('[data-testid="metric-plot"] canvas').waitFor();
  assert.equal(await page.getByTestId('metric-aggregation').inputValue(), 'rate');

  const base = Math.floor(rate.from / rate.step) * rate.step;
  const expectedRates = await sqlRates(base, rate.step);
  assert.equal(expectedRates.size, 2, 'the test sends three exports: two increases');
  const got = pointsOf(rate);
  assert.deepEqual([...got.keys()].sort(), [...expectedRates.keys()].sort());
  for (const [t, v] of expectedRates) assertClose(got.get(t), v, `rate at ${new Date(t).toISOString()}`);
  // (90 + 6) / 5 s and (45 + 30) / 5 s: the SQL above reads the same.
  assert.deepEqual([...expectedRates.values()].sort((a, b) => a - b), [15, 19.2]);
  assert.ok((await drawnPixels(page)) > 500, 'the rate chart is drawn');
  // Hover over the chart: the legend shows the value under the cursor with its unit.
  const legend = await hoverValue(page);
  await shot(page, '02-counter-rate');
  assert.match(legend, /shop\.orders:?\s*(15|19\.2) order\/s/);

  // The table view: the same values.
  await page.getByTestId('metric-display').selectOption('table');
  await page.getByTestId('metric-table').waitFor();
  const maxRaw = Number(await page.locator('[data-testid="metric-table"] tbody tr td:nth-child(5)').first().getAttribute('data-raw'));
  assertClose(maxRaw, Math.max(...expectedRates.values()), 'table max');
  assert.match(await page.getByTestId('metric-table').textContent(), /19\.2 order\/s/);
  await shot(page, '03-counter-table');

  // Grouped by route, drawn as lines: a series per route.
  await page.getByTestId('metric-display').selectOption('line');
  answer = metricsAnswer(page, (b) => (b.groupBy ?? [])[0] === 'route' && !b.comparePrevious);
  await page.getByTestId('metric-groupby-0').selectOption('route');
  const grouped = await (await answer).json();
  assert.deepEqual(grouped.series.map((s) => s.labels.route).sort(), ['/cart', '/pay']);
  const cart = new Map(grouped.series.find((s) => s.labels.route === '/cart').points);
  assert.deepEqual([...cart.values()].sort((a, b) => a - b), [9, 18]);  // 45 / 5, 90 / 5
  await page.locator('[data-testid="metric-plot"] canvas').waitFor();
  const routes = await hoverValue(page);
  await shot(page, '04-counter-by-route');
  assert.match(routes, /route=\/cart:?\s*(9|18) order\/s.*route=\/pay/s);

  // Stacked bars, and the previous period.
  await page.getByTestId('metric-display').selectOption('bar');
  answer = metricsAnswer(page, (b) => b.comparePrevious === true);
  await page.getByTestId('metric-compare').check();
  const compared = await (await answer).json();
  assert.ok(Array.isArray(compared.previous), 'the previous period is in the answer');
  await page.locator('[data-testid="metric-plot"] canvas').waitFor();
  assert.ok((await drawnPixels(page)) > 200, 'the bars are drawn');
  // The legend shows each series' own value, not the stacked sum.
  assert.match(await hoverValue(page), /route=\/cart:?\s*(9|18) order\/s/);
  await shot(page, '05-counter-stacked');
  await page.getByTestId('metric-compare').uncheck();
  await page.getByTestId('metric-groupby-0').selectOption('');

  // The histogram: p99 by default, against the quantile of the stored bucket increases.
  answer = metricsAnswer(page, (b) => b.metric === HISTOGRAM);
  await page.getByTestId('metric-picker').fill('checkout.dur');
  await page.getByTestId('metric-option').filter({ hasText: HISTOGRAM }).click();
  const p99 = await (await answer).json();
  assert.equal(p99.aggregation, 'p99');
  assert.equal(p99.unit, 'ms');
  const expectedP99 = await sqlP99(base, p99.step);
  assert.equal(expectedP99.size, 2);
  const gotP99 = pointsOf(p99);
  assert.deepEqual([...gotP99.keys()].sort(), [...expectedP99.keys()].sort());
  for (const [t, v] of expectedP99) assertClose(gotP99.get(t), v, `p99 at ${new Date(t).toISOString()}`);
  // The same from the values recorded (rounds two and three), bucketed here: value <= bound.
  const fromRecorded = rounds.slice(1).map((r) => {
    const counts = new Array(BOUNDS.length + 1).fill(0);
    for (const v of r.latencies) counts[BOUNDS.findIndex((b) => v <= b) === -1 ? BOUNDS.length : BOUNDS.findIndex((b) => v <= b)] += 1;
    return quantile(0.99, BOUNDS, counts);
  });
  const stepsInOrder = [...expectedP99.keys()].sort((a, b) => a - b);
  stepsInOrder.forEach((t, i) => assertClose(expectedP99.get(t), fromRecorded[i], `p99 of round ${i + 2}`));
  await page.getByTestId('metric-display').selectOption('line');
  await page.locator('[data-testid="metric-plot"] canvas').waitFor();
  assert.ok((await drawnPixels(page)) > 500, 'the p99 chart is drawn');
  assert.match(await hoverValue(page), /shop\.checkout\.duration:?\s*[\d.]+ ms/);
  await shot(page, '06-histogram-p99');

  await page.getByTestId('metric-display').selectOption('number');
  await page.getByTestId('metric-number').first().waitFor();
  assert.match(await page.getByTestId('metric-number').first().textContent(), /ms$/);
  await shot(page, '07-histogram-number');

  // The URL holds the state: a reload shows the same chart. (The page before the reload may still
  // hold the server's query slots for a moment; the UI waits out a 429 and asks again.) Only an
  // answer to a request the reloaded page made: one the page before it still had in flight may
  // arrive first, and its body is gone with that page.
  const reloadedAt = Date.now();
  answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/metrics/query') && r.status() === 200 &&
    r.request().timing().startTime >= reloadedAt);
  await page.reload();
  assert.equal((await (await answer).json()).metric, HISTOGRAM);
  await page.getByTestId('metric-number').first().waitFor();

  // Phone width.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.getByTestId('metric-display').selectOption('line');
  await page.locator('[data-testid="metric-plot"] canvas').waitFor();
  // The select names the chart's aggregation at once, and offers them all once the catalogue
  // answered; every page link is on screen (none cut off or scrolled away).
  assert.equal(await page.getByTestId('metric-aggregation').inputValue(), 'p99');
  await page.waitForFunction(() => !document.querySelector('[data-testid="metric-aggregation"]').disabled);
  for (const link of await page.getByTestId('nav').locator('a').all()) {
    const box = await link.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${await link.textContent()} is on screen`);
  }
  await shot(page, '08-phone');
  assert.deepEqual(errors, []);
  await context.close();
});
