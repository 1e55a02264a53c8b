// TLS on the UI listener (clickstack.hyperdx.tls), with a self-signed certificate the openssl
// command makes for this run:
//   - a client that trusts the certificate gets the UI and the API over HTTPS; one that does not
//     is refused at the handshake, and plain HTTP on the port gets no HTTP answer;
//   - the session cookie is __Host- and Secure over TLS, even on loopback;
//   - `stackhouse sql` reaches the running server over TLS (it trusts the configured certificate);
//   - Chromium, trusting only this certificate's key, logs in over HTTPS and holds a Secure cookie.
// Screenshot: tests/e2e/artifacts/tls-01-login.png.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/tls.test.mjs   (env STACKHOUSE_BIN)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { StackhouseServer, defaultBin } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const EMAIL = 'tls@example.com';
const PASSWORD = 'a seeded tls passphrase';

const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackhouse-tls-'));
const certFile = path.join(certDir, 'ui.crt');
const keyFile = path.join(certDir, 'ui.key');
let server;
let ca;

before(async () => {
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  ca = fs.readFileSync(certFile);
  server = new StackhouseServer({
    name: 'tls',
    config: `clickstack:
  hyperdx:
    listen: "127.0.0.1:0"
    seedUser: {email: "${EMAIL}", password: "${PASSWORD}"}
    tls: {certFile: "${certFile}", keyFile: "${keyFile}"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
`,
  });
  await server.start();
});

after(async () => {
  await server?.cleanup();
  fs.rmSync(certDir, { recursive: true, force: true });
});

// One HTTPS request; `trust` false: the default CAs only.
function request(method, route, { body, headers = {}, trust = true } = {}) {
  const url = new URL(route, server.apiUrl);
  const data = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method, ca: trust ? ca : undefined, agent: false,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        'content-length': Buffer.byteLength(data), ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

test('the UI and the API over HTTPS; untrusting and plain clients get nothing', async () => {
  assert.match(server.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  const page = await request('GET', '/');
  assert.equal(page.status, 200);
  assert.match(page.text, /<html/i);
  await assert.rejects(request('GET', '/', { trust: false }), /self[- ]signed/i);
  const plain = await new Promise((resolve) => {
    const u = new URL(server.apiUrl);
    http.get({ host: u.hostname, port: u.port, path: '/' }, (res) => { res.resume(); resolve(res.statusCode); })
      .on('error', (e) => resolve(e.code ?? e.message));
  });
  assert.notEqual(plain, 200, 'plain HTTP on the TLS port');
});

test('the session cookie is __Host- and Secure over TLS on loopback', async () => {
  const login = await request('POST', '/api/v1/auth/login', { body: { email: EMAIL, password: PASSWORD } });
  assert.equal(login.status, 200, login.text);
  const cookie = login.headers['set-cookie'][0];
  assert.match(cookie, /^__Host-stackhouse_session=/);
  assert.match(cookie, /; Secure/);
  assert.match(cookie, /; Path=\//);
  assert.doesNotMatch(cookie, /Domain=/i);
  const me = await request('GET', '/api/v1/auth/me', { headers: { cookie: cookie.split(';')[0] } });
  assert.equal(me.status, 200, me.text);
  assert.equal(JSON.parse(me.text).user.email, EMAIL);
  const noKey = await request('GET', '/api/v1/nothing');
  assert.equal(noKey.status, 401);
});

test('stackhouse sql reaches the running server over TLS', () => {
  // The CLI finds the server by the configured listen address: the port it got, not 0.
  const cliConfig = path.join(certDir, 'cli.yaml');
  fs.writeFileSync(cliConfig, fs.readFileSync(server.configPath, 'utf8')
    .replace('listen: "127.0.0.1:0"', `listen: "127.0.0.1:${new URL(server.apiUrl).port}"`));
  const r = spawnSync(defaultBin(), ['sql', '--config', cliConfig, '--data-dir', server.dataDir,
    '--json', 'SELECT 40 + 2 AS answer'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /42/);
});

test('Chromium logs in over HTTPS, trusting only this certificate', async () => {
  // The certificate's public key, pinned: nothing else is trusted beyond the system's CAs.
  const spki = crypto.createHash('sha256')
    .update(new crypto.X509Certificate(ca).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', `--ignore-certificate-errors-spki-list=${spki}`],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
    });
    await page.goto(`${server.apiUrl}/`);
    await page.getByTestId('login-form').waitFor();
    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'tls-01-login.png') });
    await page.getByTestId('email').fill(EMAIL);
    await page.getByTestId('password').fill(PASSWORD);
    await page.getByTestId('login').click();
    await page.getByTestId('password-form').waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === '__Host-stackhouse_session');
    assert.ok(session, JSON.stringify(cookies.map((c) => c.name)));
    assert.equal(session.secure, true);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
