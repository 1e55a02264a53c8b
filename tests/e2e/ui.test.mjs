// The web UI in a real browser (playwright-core driving Debian's /usr/bin/chromium; no browser is
// ever downloaded), against the real server:
//   - the embedded UI is served from the binary: security headers, gzip, immutable hashed assets,
//     index.html for the app's own paths, 404 for a missing asset, GET only;
//   - seed-user login, the forced password change, a seeded log (sent over OTLP/HTTP) found by
//     free text and by attribute, the histogram drawn, zoom by dragging across it, a row's detail,
//     click-to-filter and its negation, live tail showing a log sent after it started, the phone
//     width, logout;
//   - the first load of the UI on loopback (cold, and warm from the browser cache), printed.
// Screenshots of each page go to tests/e2e/artifacts/ (ignored by git).
//
// Run by hand: node --test --test-reporter=spec tests/e2e/ui.test.mjs   (env STACKHOUSE_BIN)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { StackhouseServer } from './lib/server.mjs';
import { keyValues, postLogs } from './lib/otlp.mjs';

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
const NO_AUTH_CONFIG = CONFIG.replace(/^ {4}seedUser.*\n/m, '');

let server;
let browser;
let hasAuth = true;
let hasSearch = true;

function logsBody(records) {
  const byService = new Map();
  for (const r of records) byService.set(r.service, [...(byService.get(r.service) ?? []), r]);
  return JSON.stringify({
    resourceLogs: [...byService].map(([service, recs]) => ({
      resource: { attributes: keyValues({ 'service.name': service, 'host.name': 'web-7' }) },
      scopeLogs: [{
        scope: { name: 'ui-test' },
        logRecords: recs.map((r) => ({
          timeUnixNano: String(BigInt(r.timeMs) * 1_000_000n),
          severityText: r.severity,
          severityNumber: { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 }[r.severity],
          body: { stringValue: r.body },
          attributes: keyValues(r.attributes ?? {}),
        })),
      }],
    })),
  });
}

async function sendLogs(records) {
  const body = logsBody(records);
  const r = await postLogs(server.otlpUrl, Buffer.from(body), false, 10_000);
  assert.equal(r.status, 200, `OTLP/HTTP answered ${r.status ?? r.error}: ${r.text ?? ''}`);
}

async function waitStored(token) {
  for (let i = 0; i < 100; i++) {
    const { rows } = await server.sql(
      'SELECT count() FROM otel.otel_logs WHERE hasToken(Body, {t:String})', { t: token });
    if (Number(rows[0][0]) > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the log with ${token} was not stored within 10 s`);
}

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: false });
}

before(async () => {
  server = new StackhouseServer({ config: CONFIG, name: 'ui' });
  try {
    await server.start();
  } catch (e) {
    // A build without the login (the seed user's keys unknown to its config) still serves the UI.
    if (!/seedUser.*not available in this build/.test(e.message)) throw e;
    hasAuth = false;
    await server.cleanup();
    server = new StackhouseServer({ config: NO_AUTH_CONFIG, name: 'ui' });
    await server.start();
  }
  // The login and the search API come from their own branches of this issue; until a build has
  // them, the parts that need them are skipped, never faked.
  const me = await fetch(`${server.apiUrl}/api/v1/auth/me`);
  hasAuth = hasAuth && me.status !== 404;
  await me.arrayBuffer();
  const probe = await fetch(`${server.apiUrl}/api/v1/search`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
  });
  // Without a session an existing route answers 401, a missing one 404.
  hasSearch = probe.status !== 404;
  await probe.arrayBuffer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
});

after(async () => {
  await browser?.close();
  await server?.cleanup();
});

test('the embedded UI is served with its security and caching headers', async () => {
  const page = await fetch(`${server.apiUrl}/`, { headers: { 'accept-encoding': 'gzip' } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  const csp = page.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');

  const js = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];
  const css = html.match(/href="(\/assets\/[^"]+\.css)"/)[1];
  for (const asset of [js, css]) {
    const r = await fetch(`${server.apiUrl}${asset}`, { headers: { 'accept-encoding': 'gzip, br' } });
    const body = Buffer.from(await r.arrayBuffer());  // fetch inflates it
    assert.equal(r.status, 200, asset);
    assert.equal(r.headers.get('content-encoding'), 'gzip', asset);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable', asset);
    assert.ok(body.length > 1000, asset);
  }
  const plain = await fetch(`${server.apiUrl}${js}`, { headers: { 'accept-encoding': 'identity' } });
  assert.equal(plain.headers.get('content-encoding'), null);
  assert.match(plain.headers.get('content-type'), /^text\/javascript/);
  await plain.arrayBuffer();

  const spa = await fetch(`${server.apiUrl}/search?q=x`);
  assert.equal(spa.status, 200);
  assert.equal(await spa.text(), html, 'the app routes its own paths: index.html');
  const missing = await fetch(`${server.apiUrl}/assets/index-gone.js`);
  assert.equal(missing.status, 404);
  await missing.arrayBuffer();
  const post = await fetch(`${server.apiUrl}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(post.status, 405);
  await post.arrayBuffer();
  const api = await fetch(`${server.apiUrl}/api/v1/nothing-here`);
  assert.ok([401, 404].includes(api.status), `unknown /api/ paths are never the UI (${api.status})`);
  assert.match(api.headers.get('content-type'), /^application\/json/);
  await api.arrayBuffer();
  // fetch cannot set Host: a plain request from node:http can, as a DNS-rebinding page's would be.
  const rebinding = await new Promise((resolve, reject) => {
    http.get(`${server.apiUrl}/`, { headers: { host: 'evil.example' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject);
  });
  assert.equal(rebinding, 403, 'the Host check covers the UI too');
});

test('log search in Chromium: login, search, histogram, zoom, detail, filter, live tail, logout', async (t) => {
  const now = Date.now();
  const token = `zq${now.toString(36)}`;
  const severities = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR', 'INFO', 'TRACE', 'FATAL'];
  const filler = [];
  for (let i = 0; i < 120; i++) {
    filler.push({
      service: ['checkout', 'payments', 'api-gateway', 'inventory'][i % 4],
      severity: severities[i % severities.length],
      timeMs: now - 13 * 60e3 + i * 6_000,
      body: [
        `GET /api/v1/cart/${1000 + i} 200 in ${i % 37} ms`,
        `payment authorized for order ${5000 + i} amount=${(i * 7.3).toFixed(2)} EUR`,
        `cache miss for key inventory:sku:${i} refilling from primary`,
        `upstream connect error or disconnect/reset before headers. retried=${i % 3} reset reason: connection termination`,
      ][i % 4],
      attributes: { 'http.route': '/api/v1/cart', 'worker.id': String(i % 5) },
    });
  }
  const seeded = {
    service: 'checkout', severity: 'ERROR', timeMs: now - 60e3,
    body: `checkout failed for cart ${token}: card declined by issuer (code 51)`,
    attributes: { 'order.id': 'A-77123', 'customer.tier': 'gold', 'http.status_code': 402 },
  };
  await sendLogs([...filler, seeded]);
  await waitStored(token);

  const context = await browser.newContext({ viewport: { width: 1366, height: 820 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Expected: the 401s of "who am I" before login, of the wrong password and after logout, and
  // the 400s of the query with a syntax error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[01]/.test(m.text())) errors.push(m.text());
  });
  await page.goto(`${server.apiUrl}/`);

  await t.test('seed-user login and the forced password change', async (st) => {
    if (!hasAuth) return st.skip('this build has no login (issue-10 auth not merged)');
    await page.getByTestId('login-form').waitFor();
    await shot(page, '01-login');
    await page.getByTestId('email').fill(EMAIL);
    await page.getByTestId('password').fill('wrong-password');
    await page.getByTestId('login').click();
    await page.getByTestId('login-error').waitFor();
    await shot(page, '02-login-error');
    await page.getByTestId('password').fill(SEED_PASSWORD);
    await page.getByTestId('login').click();
    await page.getByTestId('password-form').waitFor();
    await shot(page, '03-password-change');
    await page.getByTestId('current-password').fill(SEED_PASSWORD);
    await page.getByTestId('new-password').fill(NEW_PASSWORD);
    await page.getByTestId('new-password-again').fill(NEW_PASSWORD);
    await page.getByTestId('change-password').click();
    await page.getByTestId('query').waitFor();
    return undefined;
  });

  await page.getByTestId('query').waitFor();
  if (!hasSearch) {
    await shot(page, '04-search-unavailable');
    t.skip('this build has no /api/v1/search (issue-10 search not merged)');
    await context.close();
    return;
  }

  const search = async (q) => {
    await page.getByTestId('query').fill(q);
    await page.getByTestId('query').press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.includes('shown'));
  };
  const rowWith = (s) => page.getByTestId('row').filter({ hasText: s });

  await t.test('a seeded log found by free text and by attribute', async () => {
    await page.keyboard.press('Escape');
    await page.locator('body').press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'query', '/ focuses the search');
    await search(token);
    await rowWith(token).first().waitFor();
    assert.equal(await page.getByTestId('row').count(), 1);
    await search('');
    await page.getByTestId('row').nth(50).waitFor();
    await shot(page, '04-search');
    // Infinite scroll: the end of the first page (100 rows) brings the next by the cursor.
    assert.equal(await page.getByTestId('row').count(), 100);
    await page.getByTestId('results').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.getByTestId('row').nth(100).waitFor();
    assert.equal(await page.getByTestId('row').count(), 121, 'every log of the range, once');
    await search('order.id:"A-77123"');
    await rowWith(token).first().waitFor();
    assert.equal(await page.getByTestId('row').count(), 1);
    assert.match(page.url(), /q=order\.id%3A%22A-77123%22/, 'the URL holds the query');
    // The URL is the whole search: opened elsewhere, it shows the same.
    const shared = await context.newPage();
    await shared.goto(page.url());
    await shared.getByTestId('row').filter({ hasText: token }).first().waitFor();
    assert.equal(await shared.getByTestId('query').inputValue(), 'order.id:"A-77123"');
    await shared.close();
  });

  await t.test('a query error names its column; SQL mode', async () => {
    await page.getByTestId('query').fill('checkout)');
    await page.getByTestId('query').press('Enter');
    const error = page.getByTestId('error');
    await error.waitFor();
    assert.match(await error.textContent(), /column \d+/);
    await shot(page, '05-query-error');
    await page.getByTestId('query').fill(`Body LIKE '%${token}%' AND ServiceName = 'checkout'`);
    await page.getByTestId('mode').selectOption('sql');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('mode') === 'sql');
    await rowWith(token).first().waitFor();
    assert.equal(await page.getByTestId('row').count(), 1);
    await page.getByTestId('query').fill(token);
    await page.getByTestId('mode').selectOption('search');
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('mode'));
    await rowWith(token).first().waitFor();
  });

  await t.test('the time picker: a typed relative range and the time zone', async () => {
    await page.getByTestId('time').click();
    await page.getByTestId('time-from').fill('1h ago');
    await shot(page, '05b-time-picker');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === '1h ago');
    await rowWith(token).first().waitFor();
    await page.getByTestId('time').click();
    await page.getByLabel('UTC', { exact: true }).check();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('tz') === 'utc');
    await page.keyboard.press('Escape');
    const shown = await rowWith(token).first().locator('time').textContent();
    const utc = new Date(seeded.timeMs).toISOString();
    assert.equal(shown, `${utc.slice(0, 10)} ${utc.slice(11, 23)}`, 'times in UTC');
    await page.getByTestId('time').click();
    await page.getByRole('button', { name: 'Last 15m' }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === '15m ago');
  });

  await t.test('the histogram is drawn, and dragging across it zooms the range', async () => {
    await search('');
    await page.waitForFunction(() => /[1-9]/.test(document.querySelector('[data-testid=histogram-total]')?.textContent ?? ''));
    const canvas = page.getByTestId('histogram').locator('canvas');
    await canvas.waitFor();
    const painted = await canvas.evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2])) n++;
      return n;
    });
    assert.ok(painted > 200, `coloured bars drawn (${painted} coloured pixels)`);
    await shot(page, '06-histogram');
    const box = await page.getByTestId('histogram').locator('.u-over').boundingBox();
    const before = new URL(page.url()).searchParams.get('from');
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction((b) => new URL(location.href).searchParams.get('from') !== b, before);
    const u = new URL(page.url()).searchParams;
    const from = Number(u.get('from'));
    const to = Number(u.get('to'));
    assert.ok(from > now - 16 * 60e3 && to <= now + 60e3 && to - from < 10 * 60e3,
      `zoomed to ${new Date(from).toISOString()} – ${new Date(to).toISOString()}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.includes('shown'));
    await shot(page, '07-zoomed');
    await page.getByTestId('time').click();
    await page.getByRole('button', { name: 'Last 15m' }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === '15m ago');
  });

  await t.test('the detail panel, and click-to-filter by an attribute value or its negation', async () => {
    await search(`${token} OR service:payments`);
    await rowWith(token).first().click();
    const detail = page.getByTestId('detail');
    await detail.waitFor();
    for (const s of ['order.id', 'A-77123', 'customer.tier', 'service.name', 'ServiceName', 'checkout']) {
      assert.ok((await detail.textContent()).includes(s), `the detail shows ${s}`);
    }
    await shot(page, '08-detail');
    await detail.getByTestId('filter-customer.tier').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=query]').value.endsWith(') customer.tier:"gold"'));
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.includes('shown'));
    await rowWith(token).first().waitFor();
    assert.equal(await page.getByTestId('row').count(), 1);
    await search(`${token} OR service:payments`);
    await rowWith(token).first().click();
    await page.getByTestId('detail').getByTestId('exclude-order.id').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=query]').value.endsWith('-order.id:"A-77123"'));
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.includes('shown'));
    await page.getByTestId('row').first().waitFor();
    assert.equal(await rowWith(token).count(), 0, 'the negation removes the seeded log');
  });

  await t.test('configurable columns, and the search history', async () => {
    await search(token);
    await rowWith(token).first().waitFor();
    await page.getByTestId('columns').click();
    await page.getByLabel('LogAttributes.order.id', { exact: true }).check();
    await shot(page, '09-columns');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('thead th').last().getAttribute('title'), 'LogAttributes.order.id');
    assert.equal(await page.locator('thead th').last().textContent(), 'order.id');
    assert.match(await rowWith(token).first().textContent(), /A-77123/);
    assert.match(page.url(), /cols=Timestamp%2CServiceName%2CSeverityText%2CBody%2CLogAttributes\.order\.id/);
    const history = await page.evaluate(() => JSON.parse(localStorage.getItem('stackhouse.searchHistory')));
    assert.ok(history.includes('order.id:"A-77123"'), `history: ${JSON.stringify(history)}`);
    await page.getByTestId('columns').click();
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.keyboard.press('Escape');
  });

  await t.test('CSV export of the results', async () => {
    await search(token);
    await rowWith(token).first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv').click()]);
    const file = await download.path();
    const csv = fs.readFileSync(file, 'utf8');
    assert.match(csv, /^Timestamp,ServiceName,SeverityText,Body\r\n/);
    assert.ok(csv.includes(token));
  });

  await t.test('live tail shows a log sent after the tail started', async () => {
    const liveToken = `live${Date.now().toString(36)}`;
    await search(`${token} OR ${liveToken}`);
    await page.getByTestId('live').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('live') === '1');
    await page.waitForTimeout(2500);  // at least one poll without the new log
    assert.equal(await rowWith(liveToken).count(), 0);
    await sendLogs([{ service: 'payments', severity: 'WARN', timeMs: Date.now(), body: `retrying settlement batch ${liveToken}` }]);
    await rowWith(liveToken).first().waitFor({ timeout: 15_000 });
    await shot(page, '09-live-tail');
    await page.getByTestId('live').click();
  });

  await t.test('phone width', async () => {
    await search('');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('row').first().waitFor();
    await shot(page, '10-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scroll of the page at 390 px (${overflow} px over)`);
    // Every page link is on screen at 390 and at 360 px: none cut off, none scrolled away.
    for (const width of [390, 360]) {
      await page.setViewportSize({ width, height: 844 });
      for (const link of await page.getByTestId('nav').locator('a').all()) {
        const box = await link.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= width, `${await link.textContent()} is on screen at ${width} px`);
      }
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('row').first().click();
    await page.getByTestId('detail').waitFor();
    await shot(page, '11-phone-detail');
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1366, height: 820 });
  });

  await t.test('logout', async (st) => {
    if (!hasAuth) return st.skip('this build has no login');
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    await shot(page, '12-logged-out');
    const status = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status);
    assert.equal(status, 401, 'the session is gone');
    return undefined;
  });

  assert.deepEqual(errors, [], 'no errors in the browser console');
  await context.close();
});

test('first load of the UI on loopback (cold cache, then warm)', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 820 } });
  const page = await context.newPage();
  // A renderer is started first (about:blank), so that the figure is the UI's load, not the
  // browser's start; the context's cache is empty for the first load.
  await page.goto('about:blank');
  const measure = async () => {
    await page.goto(`${server.apiUrl}/`, { waitUntil: 'load' });
    await page.locator(hasAuth ? '[data-testid=login-form]' : '[data-testid=query]').waitFor();
    await page.waitForFunction(() => performance.getEntriesByName('stackhouse-first-page').length > 0);
    // Milliseconds since the navigation started, in the page's own clock: the load event, and when
    // the app had its first page (login, after GET /api/v1/auth/me) on screen.
    return page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource').filter((r) => r.name.includes('/assets/'));
      return {
        shown: Math.round(performance.getEntriesByName('stackhouse-first-page')[0].startTime),
        load: Math.round(n.loadEventEnd),
        bytes: res.reduce((s, r) => s + r.transferSize, 0),
        cached: res.every((r) => r.transferSize === 0),
      };
    });
  };
  const cold = await measure();
  const warm = await measure();
  console.log(`UI first load on loopback: cold cache ${cold.load} ms to the load event, page shown by ${cold.shown} ms ` +
    `(${cold.bytes} asset bytes over the wire); warm ${warm.load} ms to load, shown by ${warm.shown} ms (assets from cache: ${warm.cached})`);
  assert.ok(warm.cached, 'hashed assets come from the browser cache on the second load');
  assert.ok(cold.bytes < 80_000, `compressed assets (${cold.bytes} bytes)`);
  // The goal is < 1 s; the bound leaves room for a machine busy with other builds.
  assert.ok(cold.shown < 5000, `first page after ${cold.shown} ms`);
  await context.close();
});
