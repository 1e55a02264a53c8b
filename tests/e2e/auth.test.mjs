// Users, sessions, API keys and the ingestion key, against the real server:
//   - every /api/ route answers 401 without a session or an API key, and so does every
//     unregistered /api/ path or wrong method (no 404 or 405 before authentication);
//   - the seed user logs in, must change the password first (403 until then), and a state change
//     made with the cookie but without the CSRF token is refused (403);
//   - failed logins are throttled per (account, address) with 429 + Retry-After, while the real
//     user from another address still gets in; unknown users and wrong passwords look the same;
//   - cookie flags on loopback and behind an ingress (Secure, __Host-);
//   - no default credentials: without a configured password one is generated and printed once,
//     on stderr, never in the JSON logs;
//   - password hashes are argon2id and session tokens are stored hashed (read from app.sqlite);
//   - an OTLP receiver beyond loopback without an ingestion key refuses to start, and with a key
//     configured every OTLP request must carry it.
//
// Run by hand: node --test --test-reporter=spec tests/e2e/auth.test.mjs   (env STACKHOUSE_BIN)

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { StackhouseServer, defaultBin } from './lib/server.mjs';

const SEED_EMAIL = 'admin@example.com';
const SEED_PASSWORD = 'first seed password';
const NEW_PASSWORD = 'a much better passphrase';

const listeners = `  hyperdx:
    listen: "127.0.0.1:0"
    seedUser: {email: "${SEED_EMAIL}", password: "${SEED_PASSWORD}"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
`;

const ROUTES = [
  ['POST', '/api/v1/sql', { query: 'SELECT 1' }],
  ['POST', '/api/v1/auth/logout', {}],
  ['POST', '/api/v1/auth/password', { currentPassword: 'x', newPassword: 'y' }],
  ['GET', '/api/v1/auth/me'],
  ['POST', '/api/v1/users', { email: 'x@example.com' }],
  ['GET', '/api/v1/users'],
  ['POST', '/api/v1/users/delete', { email: 'x@example.com' }],
  ['POST', '/api/v1/sessions/revoke', { email: SEED_EMAIL }],
  ['POST', '/api/v1/apikeys', { name: 'k' }],
  ['GET', '/api/v1/apikeys'],
  ['POST', '/api/v1/apikeys/revoke', { id: 1 }],
  ['GET', '/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736'],
  ['GET', '/api/v1/traces/not-an-id'],
  ['POST', '/api/v1/services', {}],
  ['POST', '/api/v1/services/operations', { service: 'x' }],
];

// A request from a chosen local address (127.0.0.0/8 all reaches the loopback listener).
function request(server, method, route, { body, headers = {}, localAddress } = {}) {
  const url = new URL(server.apiUrl);
  const data = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, path: route, method, localAddress,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        'content-length': Buffer.byteLength(data), ...headers,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

function session(login) {
  return { cookie: login.cookie, 'x-csrf-token': login.csrfToken };
}

function sqlite(file, query) {
  const r = spawnSync('sqlite3', [file, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('seed user, sessions, CSRF, throttling', () => {
  let server;
  before(async () => {
    server = new StackhouseServer({ config: `clickstack:\n${listeners}`, name: 'auth' });
    await server.start();
  }, { timeout: 90_000 });
  after(async () => { await server?.cleanup(); });

  test('every /api/ route without a session or an API key answers 401', async () => {
    for (const [method, route, body] of ROUTES) {
      const r = await request(server, method, route, { body });
      assert.equal(r.status, 401, `${method} ${route}: ${r.text}`);
      assert.equal(r.json.error.name, 'UNAUTHENTICATED');
      const wrongKey = await request(server, method, route, { body, headers: { authorization: 'Bearer shk_wrong' } });
      assert.equal(wrongKey.status, 401, `${method} ${route} with a wrong key`);
      const wrongCookie = await request(server, method, route, { body, headers: { cookie: 'stackhouse_session=forged' } });
      assert.equal(wrongCookie.status, 401, `${method} ${route} with a forged cookie`);
    }
  });

  test('unregistered /api/ paths and wrong methods answer the same 401, revealing no route', async () => {
    for (const [method, route] of [['GET', '/api/v1/no-such-route'], ['POST', '/api/v1/no-such-route'],
      ['DELETE', '/api/v1/sql'], ['GET', '/api/v1/sql'], ['PUT', '/api/v1/users'], ['GET', '/api/']]) {
      const r = await request(server, method, route, { body: method === 'GET' ? undefined : {} });
      assert.equal(r.status, 401, `${method} ${route}: ${r.text}`);
      assert.equal(r.json.error.name, 'UNAUTHENTICATED');
    }
  });

  test('wrong passwords and unknown users get the same 401', async () => {
    const wrong = await request(server, 'POST', '/api/v1/auth/login',
      { body: { email: SEED_EMAIL, password: 'not it at all' }, localAddress: '127.0.0.9' });
    const unknown = await request(server, 'POST', '/api/v1/auth/login',
      { body: { email: 'nobody@example.com', password: 'not it at all' }, localAddress: '127.0.0.9' });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.text, unknown.text);
    assert.equal(wrong.headers['set-cookie'], undefined);
  });

  test('first login: cookie flags, forced password change, CSRF', async () => {
    const login = await server.login(SEED_EMAIL, SEED_PASSWORD);
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.deepEqual(login.user, { email: SEED_EMAIL, role: 'admin', mustChangePassword: true });
    assert.match(login.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    const flags = login.setCookie.split(';').map((s) => s.trim());
    assert.match(flags[0], /^stackhouse_session=[A-Za-z0-9_-]{43}$/);
    assert.ok(flags.includes('HttpOnly'), login.setCookie);
    assert.ok(flags.includes('SameSite=Strict'), login.setCookie);
    assert.ok(flags.includes('Path=/'), login.setCookie);
    assert.ok(!flags.includes('Secure'), 'no Secure on loopback');

    // Until the password is changed: 403 everywhere but the change, logout and me.
    const sql = await request(server, 'POST', '/api/v1/sql', { body: { query: 'SELECT 1' }, headers: session(login) });
    assert.equal(sql.status, 403);
    assert.equal(sql.json.error.name, 'PASSWORD_CHANGE_REQUIRED');
    const users = await request(server, 'GET', '/api/v1/users', { headers: session(login) });
    assert.equal(users.status, 403);
    const me = await request(server, 'GET', '/api/v1/auth/me', { headers: { cookie: login.cookie } });
    assert.equal(me.status, 200);
    assert.equal(me.json.user.mustChangePassword, true);
    assert.equal(me.json.csrfToken, login.csrfToken);

    // A second session of the same user, ended by the change.
    const other = await server.login(SEED_EMAIL, SEED_PASSWORD);
    assert.equal(other.status, 200);
    assert.notEqual(other.cookie, login.cookie, 'a new token at every login');

    const change = { currentPassword: SEED_PASSWORD, newPassword: NEW_PASSWORD };
    let r = await request(server, 'POST', '/api/v1/auth/password', { body: change, headers: { cookie: login.cookie } });
    assert.equal(r.status, 403, 'a state change without the CSRF token');
    assert.match(r.json.error.message, /X-CSRF-Token/);
    r = await request(server, 'POST', '/api/v1/auth/password',
      { body: change, headers: { cookie: login.cookie, 'x-csrf-token': other.csrfToken } });
    assert.equal(r.status, 403, "another session's CSRF token");
    r = await request(server, 'POST', '/api/v1/auth/password',
      { body: { currentPassword: SEED_PASSWORD, newPassword: 'short' }, headers: session(login) });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /at least 12/);
    r = await request(server, 'POST', '/api/v1/auth/password',
      { body: { currentPassword: SEED_PASSWORD, newPassword: SEED_PASSWORD }, headers: session(login) });
    assert.equal(r.status, 400);
    r = await request(server, 'POST', '/api/v1/auth/password', { body: change, headers: session(login) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.user.mustChangePassword, false);

    r = await request(server, 'POST', '/api/v1/sql', { body: { query: 'SELECT 1 AS x' }, headers: session(login) });
    assert.equal(r.status, 200, r.text);
    r = await request(server, 'POST', '/api/v1/sql', { body: { query: 'SELECT 1 AS x' }, headers: { cookie: login.cookie } });
    assert.equal(r.status, 403, 'cookie without CSRF token');
    r = await request(server, 'GET', '/api/v1/auth/me', { headers: { cookie: other.cookie } });
    assert.equal(r.status, 401, 'the other session ended with the password change');
    assert.equal((await server.login(SEED_EMAIL, SEED_PASSWORD)).status, 401, 'the old password is gone');

    // Logout ends the session.
    r = await request(server, 'POST', '/api/v1/auth/logout', { body: {}, headers: session(login) });
    assert.equal(r.status, 200);
    assert.match(r.headers['set-cookie'][0], /Max-Age=0/);
    r = await request(server, 'GET', '/api/v1/auth/me', { headers: { cookie: login.cookie } });
    assert.equal(r.status, 401);
  });

  test('admin: invite, API keys (no CSRF needed), revoke, delete', async () => {
    const admin = await server.login(SEED_EMAIL, NEW_PASSWORD);
    assert.equal(admin.status, 200);
    let r = await request(server, 'POST', '/api/v1/users', { body: { email: 'Dev@Example.com' }, headers: session(admin) });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.user.email, 'dev@example.com');
    assert.equal(r.json.user.role, 'member');
    const temporary = r.json.temporaryPassword;
    assert.ok(temporary.length >= 16);
    const dev = await server.login('dev@example.com', temporary);
    assert.equal(dev.status, 200);
    assert.equal(dev.user.mustChangePassword, true);
    r = await request(server, 'POST', '/api/v1/auth/password',
      { body: { currentPassword: temporary, newPassword: 'developer passphrase' }, headers: session(dev) });
    assert.equal(r.status, 200);
    r = await request(server, 'GET', '/api/v1/users', { headers: session(dev) });
    assert.equal(r.status, 403, 'a member cannot list users');
    r = await request(server, 'GET', '/api/v1/users', { headers: session(admin) });
    assert.deepEqual(r.json.users.map((u) => u.email), ['admin@example.com', 'dev@example.com']);

    r = await request(server, 'POST', '/api/v1/apikeys', { body: { name: 'script' }, headers: session(dev) });
    assert.equal(r.status, 201, r.text);
    const { id, key } = r.json;
    assert.match(key, /^shk_/);
    const bearer = { authorization: `Bearer ${key}` };
    r = await request(server, 'POST', '/api/v1/sql', { body: { query: 'SELECT 1 AS x' }, headers: bearer });
    assert.equal(r.status, 200, 'an API key needs no CSRF token');
    r = await request(server, 'GET', '/api/v1/apikeys', { headers: bearer });
    assert.deepEqual(r.json.apiKeys.map((k) => k.name), ['script']);
    r = await request(server, 'POST', '/api/v1/apikeys/revoke', { body: { id }, headers: bearer });
    assert.equal(r.status, 200);
    r = await request(server, 'POST', '/api/v1/sql', { body: { query: 'SELECT 1' }, headers: bearer });
    assert.equal(r.status, 401, 'a revoked key');

    r = await request(server, 'POST', '/api/v1/sessions/revoke', { body: { email: 'dev@example.com' }, headers: session(admin) });
    assert.equal(r.status, 200);
    assert.equal(r.json.revoked, 1);
    r = await request(server, 'GET', '/api/v1/auth/me', { headers: { cookie: dev.cookie } });
    assert.equal(r.status, 401, 'revoked by the admin');
    r = await request(server, 'POST', '/api/v1/users/delete', { body: { email: 'dev@example.com' }, headers: session(admin) });
    assert.equal(r.status, 200);
    assert.equal((await server.login('dev@example.com', 'developer passphrase')).status, 401);
  });

  test('throttling slows one (account, address) pair without locking the user out', async () => {
    const guess = (localAddress, password = 'guess guess guess') => request(server, 'POST', '/api/v1/auth/login',
      { body: { email: SEED_EMAIL, password }, localAddress });
    for (let i = 0; i < 5; i++) assert.equal((await guess('127.0.0.2')).status, 401, `attempt ${i + 1}`);
    const next = await guess('127.0.0.2', NEW_PASSWORD);
    assert.equal(next.status, 429, 'even the right password waits its turn on the hammering pair');
    assert.ok(Number(next.headers['retry-after']) >= 1, JSON.stringify(next.headers));
    const real = await guess('127.0.0.3', NEW_PASSWORD);
    assert.equal(real.status, 200, 'the real user from another address gets in');
  });

  test('password hashes are argon2id, session tokens and API keys stored hashed', async () => {
    const login = await server.login(SEED_EMAIL, NEW_PASSWORD);
    const token = login.cookie.split('=')[1];
    const db = path.join(server.dataDir, 'app.sqlite');
    assert.equal(fs.statSync(db).mode & 0o777, 0o600);
    for (const hash of sqlite(db, 'SELECT password_hash FROM users').split('\n')) {
      assert.match(hash, /^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
    }
    const dump = sqlite(db, '.dump');
    assert.ok(!dump.includes(token), 'the session token is in the database');
    assert.ok(!dump.includes(server.apiKey), 'the CLI key is in the database');
    assert.ok(!dump.includes(NEW_PASSWORD));
    assert.equal(fs.statSync(path.join(server.dataDir, 'cli-api-key')).mode & 0o777, 0o600);
  });
});

test('no default credentials: a generated password, printed once on stderr only', { timeout: 90_000 }, async () => {
  const server = new StackhouseServer({ name: 'auth-generated' });
  const lines = [];
  server.onLine((stream, line) => lines.push([stream, line]));
  try {
    await server.start();
    const printed = lines.filter(([, l]) => l.includes('generated password'));
    assert.equal(printed.length, 1, JSON.stringify(lines.slice(-20)));
    assert.equal(printed[0][0], 'stderr');
    const password = printed[0][1].match(/generated password (\S+)/)[1];
    assert.ok(lines.filter(([s]) => s === 'stdout').every(([, l]) => !l.includes(password)),
      'the password reached the JSON logs');
    for (const guess of ['', 'admin', 'password', 'changeme']) {
      assert.equal((await server.login('admin@yourcompany.com', guess)).status, 401, guess);
    }
    const login = await server.login('admin@yourcompany.com', password);
    assert.equal(login.status, 200);
    assert.equal(login.user.mustChangePassword, true);
    // Not printed again at a restart: the user exists.
    await server.stop();
    lines.length = 0;
    await server.start();
    assert.equal(lines.filter(([, l]) => l.includes('generated password')).length, 0);
  } finally {
    await server.cleanup();
  }
});

test('behind an ingress: Secure __Host- cookie, the ingress host accepted', { timeout: 90_000 }, async () => {
  const server = new StackhouseServer({ name: 'auth-ingress', config: `clickstack:
  hyperdx:
    listen: "127.0.0.1:0"
    ingress: {enabled: true, host: "observe.example.com"}
    seedUser: {email: "${SEED_EMAIL}", password: "${SEED_PASSWORD}"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
` });
  try {
    await server.start();
    const r = await request(server, 'POST', '/api/v1/auth/login', {
      body: { email: SEED_EMAIL, password: SEED_PASSWORD },
      headers: { host: 'observe.example.com', origin: 'https://observe.example.com' },
    });
    assert.equal(r.status, 200, r.text);
    const flags = r.headers['set-cookie'][0].split(';').map((s) => s.trim());
    assert.match(flags[0], /^__Host-stackhouse_session=/);
    for (const f of ['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(flags.includes(f), f);
    assert.ok(!flags.some((f) => f.startsWith('Domain')), '__Host- cookies carry no Domain');
    const foreign = await request(server, 'POST', '/api/v1/auth/login', {
      body: { email: SEED_EMAIL, password: SEED_PASSWORD }, headers: { host: 'evil.example' },
    });
    assert.equal(foreign.status, 403);
  } finally {
    await server.cleanup();
  }
});

describe('OTLP ingestion key', () => {
  test('a receiver beyond loopback without a key refuses to start', () => {
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'auth-public-'));
    const config = path.join(dir, 'config.yaml');
    fs.writeFileSync(config, `otelConfig:\n  receivers: {otlp: {http: {endpoint: "0.0.0.0:0"}}}\n`);
    const r = spawnSync(defaultBin(), ['run', '--config', config, '--data-dir', dir], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr,
      /otelConfig\.receivers\.otlp\.http\.endpoint: "0\.0\.0\.0:0" is beyond loopback and no ingestion key is configured/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('with a key, OTLP requests must carry it (Bearer or bare)', { timeout: 90_000 }, async () => {
    const server = new StackhouseServer({ name: 'auth-otlp', config: 'placeholder' });
    const secrets = path.join(server.workDir, 'secrets');
    fs.mkdirSync(path.join(secrets, 'otlp'), { recursive: true });
    fs.writeFileSync(path.join(secrets, 'otlp', 'INGEST_KEY'), 'ingest-key-0123456789\n');
    fs.writeFileSync(server.configPath, `clickstack:
  secretsDir: "${secrets}"
  hyperdx: {listen: "127.0.0.1:0"}
otelConfig:
  receivers:
    otlp:
      grpc: {endpoint: "127.0.0.1:0"}
      http: {endpoint: "127.0.0.1:0"}
      auth: {existingSecret: otlp, secretKey: INGEST_KEY}
  admin: {endpoint: "127.0.0.1:0"}
`);
    try {
      await server.start();
      const post = (headers) => fetch(`${server.otlpUrl}/v1/logs`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"resourceLogs":[]}',
      });
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await post({ authorization: 'ingest-key-012345678' })).status, 401);
      assert.equal((await post({ authorization: 'Bearer ingest-key-0123456789' })).status, 200);
      assert.equal((await post({ authorization: 'ingest-key-0123456789' })).status, 200);
    } finally {
      await server.cleanup();
    }
  });
});
