// The admin page and the detail panel's time zone in a real browser (Debian's Chromium through
// playwright-core), against the real server:
//   - an admin reaches Admin from the search page; invites a member (the temporary password shown
//     once works, and must be changed), ends that user's sessions, creates an API key (shown once,
//     it authenticates) and revokes it, deletes the user; each change asks for a confirmation;
//   - a member sees no Admin entry, and /admin shows the search page to them;
//   - the detail panel shows a record's time in the browser's zone (Asia/Kolkata here, UTC+05:30)
//     or in UTC, whichever the time picker says.
// Screenshots: tests/e2e/artifacts/admin-*.png, tz-*.png.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/ui_admin.test.mjs   (env STACKHOUSE_BIN)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { StackhouseServer } from './lib/server.mjs';
import { keyValues, postLogs } from './lib/otlp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ADMIN = 'admin@example.com';
const SEED_PASSWORD = 'seeded-Passw0rd-admin';
const ADMIN_PASSWORD = 'the admin passphrase 9';
const CONFIG = `clickstack:
  hyperdx:
    listen: "127.0.0.1:0"
    seedUser: {email: "${ADMIN}", password: "${SEED_PASSWORD}"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
`;

let server;
let browser;

before(async () => {
  server = new StackhouseServer({ config: CONFIG, name: 'ui-admin' });
  await server.start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
});

after(async () => {
  await browser?.close();
  await server?.cleanup();
});

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: false });
}

// A page with console errors collected (the expected ones aside).
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 820 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // 401 before login; 409 is the deliberate duplicate invite.
    if (m.type() === 'error' && !/status of 40[19]/.test(m.text())) errors.push(m.text());
  });
  return { context, page, errors };
}

// Logs in through the form; `next` set: the forced change to it follows.
async function logIn(page, email, password, next) {
  await page.goto(`${server.apiUrl}/`);
  await page.getByTestId('login-form').waitFor();
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('login').click();
  if (next) {
    await page.getByTestId('password-form').waitFor();
    await page.getByTestId('current-password').fill(password);
    await page.getByTestId('new-password').fill(next);
    await page.getByTestId('new-password-again').fill(next);
    await page.getByTestId('change-password').click();
  }
  await page.getByTestId('query').waitFor();
}

async function api(method, route, { headers = {}, body } = {}) {
  const res = await fetch(`${server.apiUrl}${route}`, {
    method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

test('admin: invite, end sessions, API keys, delete; members see no admin page', async () => {
  const { context, page, errors } = await newPage();
  await logIn(page, ADMIN, SEED_PASSWORD, ADMIN_PASSWORD);
  await page.getByTestId('nav-admin').click();
  await page.waitForFunction(() => location.pathname === '/admin');
  await page.getByTestId('users').waitFor();
  assert.equal(await page.getByTestId('user-row').count(), 1);
  await shot(page, 'admin-01-users');

  // Invite a member: the temporary password is shown once and works, for a forced change.
  await page.getByTestId('invite-email').fill('Dev@Example.com');
  await page.getByTestId('invite').click();
  await page.getByTestId('secret').filter({ hasText: 'dev@example.com' }).waitFor();
  const temporary = (await page.getByTestId('secret-value').textContent()).trim();
  assert.ok(temporary.length >= 16, temporary);
  await page.getByTestId('user-row').filter({ hasText: 'dev@example.com' }).waitFor();
  assert.match(await page.getByTestId('user-row').filter({ hasText: 'dev@example.com' }).textContent(), /must change password/);
  await shot(page, 'admin-02-invited');
  await page.getByTestId('secret-done').click();
  assert.equal(await page.getByTestId('secret').count(), 0);
  const dev = await server.login('dev@example.com', temporary);
  assert.equal(dev.status, 200);
  assert.equal(dev.user.mustChangePassword, true);
  const devMe = () => api('GET', '/api/v1/auth/me', { headers: { cookie: dev.cookie } });
  assert.equal((await devMe()).status, 200);

  // End the member's sessions: asks first, then the cookie no longer works.
  const devRow = page.getByTestId('user-row').filter({ hasText: 'dev@example.com' });
  await devRow.getByTestId('end-sessions').click();
  await shot(page, 'admin-03-confirm');
  await devRow.getByTestId('end-sessions-yes').click();
  await page.getByTestId('admin-done').filter({ hasText: '1 session(s) ended' }).waitFor();
  assert.equal((await devMe()).status, 401);

  // An API key: shown once, authenticates, then revoked.
  await page.getByTestId('key-name').fill('deploy-bot');
  await page.getByTestId('create-key').click();
  const key = (await page.getByTestId('secret-value').textContent()).trim();
  assert.match(key, /^shk_/);
  await page.getByTestId('key-row').filter({ hasText: 'deploy-bot' }).waitFor();
  await shot(page, 'admin-04-key');
  await page.getByTestId('secret-done').click();
  const bearer = { authorization: `Bearer ${key}` };
  assert.equal((await api('POST', '/api/v1/sql', { headers: bearer, body: { query: 'SELECT 1' } })).status, 200);
  const keyRow = page.getByTestId('key-row').filter({ hasText: 'deploy-bot' });
  await keyRow.getByTestId('revoke-key').click();
  await keyRow.getByTestId('revoke-key-yes').click();
  await page.getByTestId('admin-done').filter({ hasText: 'revoked' }).waitFor();
  assert.equal(await page.getByTestId('key-row').filter({ hasText: 'deploy-bot' }).count(), 0);
  assert.equal((await api('POST', '/api/v1/sql', { headers: bearer, body: { query: 'SELECT 1' } })).status, 401);

  // A member: no Admin entry, and /admin is the search page for them.
  await page.getByTestId('invite-email').fill('member@example.com');
  await page.getByTestId('invite').click();
  await page.getByTestId('secret').filter({ hasText: 'member@example.com' }).waitFor();
  const memberPassword = (await page.getByTestId('secret-value').textContent()).trim();
  await page.getByTestId('secret-done').click();
  const member = await newPage();
  await logIn(member.page, 'member@example.com', memberPassword, 'the member passphrase 7');
  assert.equal(await member.page.getByTestId('nav-admin').count(), 0);
  await member.page.goto(`${server.apiUrl}/admin`);
  await member.page.getByTestId('query').waitFor();
  assert.equal(await member.page.getByTestId('users').count(), 0);
  assert.deepEqual(member.errors, []);
  await member.context.close();

  // Delete the first member: asks first; the row goes and the login with it. No deleting oneself.
  assert.equal(await page.getByTestId('user-row').filter({ hasText: ADMIN }).getByTestId('delete-user').count(), 0);
  await devRow.getByTestId('delete-user').click();
  await devRow.getByTestId('delete-user-yes').click();
  await page.getByTestId('admin-done').filter({ hasText: 'dev@example.com deleted' }).waitFor();
  assert.equal(await page.getByTestId('user-row').filter({ hasText: 'dev@example.com' }).count(), 0);
  assert.equal((await server.login('dev@example.com', temporary)).status, 401);
  await shot(page, 'admin-05-after');

  // An error is said, not swallowed: inviting an existing user.
  await page.getByTestId('invite-email').fill('member@example.com');
  await page.getByTestId('invite').click();
  await page.getByTestId('admin-error').waitFor();
  await shot(page, 'admin-06-error');

  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'admin-07-phone');
  await page.setViewportSize({ width: 1366, height: 820 });

  // Back to the search.
  await page.getByTestId('nav-logs').click();
  await page.getByTestId('query').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the detail panel shows times in the chosen zone', async () => {
  const nowMs = Date.now();
  const ts = BigInt(nowMs - 60_000) * 1_000_000n + 123_456n;  // nanoseconds the UI must keep
  const token = `tzcheck${nowMs.toString(36)}`;
  const body = JSON.stringify({
    resourceLogs: [{
      resource: { attributes: keyValues({ 'service.name': 'tz' }) },
      scopeLogs: [{ logRecords: [{ timeUnixNano: String(ts), severityText: 'INFO', body: { stringValue: `a ${token} line` } }] }],
    }],
  });
  const sent = await postLogs(server.otlpUrl, Buffer.from(body), false, 10_000);
  assert.equal(sent.status, 200);
  for (let i = 0; i < 100; i++) {
    const { rows } = await server.sql('SELECT count() FROM otel.otel_logs WHERE hasToken(Body, {t:String})', { t: token });
    if (Number(rows[0][0]) > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const { context, page, errors } = await newPage({ timezoneId: 'Asia/Kolkata' });
  await logIn(page, ADMIN, ADMIN_PASSWORD);
  const utc = new Date(Number(ts / 1_000_000n));
  const local = new Date(utc.getTime() + 330 * 60_000); // UTC+05:30, no daylight saving
  const text = (d) => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}`;
  const fraction = String(ts % 1_000_000_000n).padStart(9, '0');
  for (const [tz, when, zone] of [['local', local, 'UTC+05:30'], ['utc', utc, 'UTC']]) {
    await page.goto(`${server.apiUrl}/?q=${token}&tz=${tz}`);
    await page.getByTestId('row').first().click();
    const shown = (await page.getByTestId('detail').getByTestId('time-Timestamp').textContent()).trim();
    assert.equal(shown, `${text(when)}.${fraction} ${zone}`, `${tz}: ${shown}`);
    await shot(page, `tz-${tz}-detail`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});
