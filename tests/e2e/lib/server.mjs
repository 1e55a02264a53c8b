// Starts `stackhouse run` for an end-to-end test: a fresh temporary data directory, a config that
// puts every listener on 127.0.0.1 port 0, and the "listening"/"ready" JSON lines on stdout to learn
// where it listens. The child is always killed: on stop()/cleanup(), when this process exits, and
// (through `setpriv --pdeathsig KILL`, where available) even when this process is killed.
//
//   const server = await startServer();          // env STACKHOUSE_BIN, default <repo>/build/stackhouse
//   startServer({ command: 'collector' })          // `stackhouse collector`: no API (apiUrl null)
//   server.otlpUrl, server.apiUrl, server.adminUrl  // "http://127.0.0.1:PORT" (apiUrl https with TLS)
//   server.otlpGrpcEndpoint                          // "127.0.0.1:PORT"
//   await server.sql('SELECT 1 AS x WHERE 1 = {p:UInt8}', { p: 1 })  // → { columns, rows }
//   server.authHeaders()                             // { authorization: 'Bearer <key>' } for the API
//   await server.login(email, password)              // → { cookie, csrfToken, user } (a UI session)
//   await server.kill9(); await server.restart(); await server.cleanup();
//   const off = server.onLine((stream, line) => { ... });  // every stdout/stderr line as it arrives
//   await freePort()                                 // a 127.0.0.1 port nothing listens on (just now)

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');

export function defaultBin() {
  return process.env.STACKHOUSE_BIN || path.join(repoRoot, 'build', 'stackhouse');
}

export const PORT0_CONFIG = `clickstack:
  hyperdx: {listen: "127.0.0.1:0"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
`;

// A port on 127.0.0.1 that nothing listened on a moment ago (bound to port 0 and released).
export async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// Every child still running; killed with SIGKILL when this process exits for any reason we can see.
const live = new Set();
let hooksInstalled = false;
function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const child of live) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => { killAll(); process.exit(128 + os.constants.signals[sig]); });
  }
}

let setprivOk;
function hasSetpriv() {
  if (setprivOk === undefined) {
    const r = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
    setprivOk = r.status === 0;
  }
  return setprivOk;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves true when `promise` settles within ms, false otherwise; leaves no timer behind.
function within(promise, ms) {
  let timer;
  return Promise.race([
    promise.then(() => true),
    new Promise((r) => { timer = setTimeout(() => r(false), ms); }),
  ]).finally(() => clearTimeout(timer));
}

export class StackhouseServer {
  constructor({ bin = defaultBin(), config = PORT0_CONFIG, startTimeoutMs = 60_000,
                stopTimeoutMs = 20_000, extraArgs = [], env = {}, name = 'stackhouse',
                echo = !!process.env.STACKHOUSE_E2E_ECHO, command = 'run' } = {}) {
    this.bin = bin;
    this.command = command;
    this.startTimeoutMs = startTimeoutMs;
    this.stopTimeoutMs = stopTimeoutMs;
    this.extraArgs = extraArgs;
    this.env = env;
    this.echo = echo;
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-e2e-`));
    this.dataDir = path.join(this.workDir, 'data');
    this.configPath = path.join(this.workDir, 'config.yaml');
    this.logPath = path.join(this.workDir, 'server.log');
    fs.mkdirSync(this.dataDir);
    fs.writeFileSync(this.configPath, config);
    this.child = null;
    this.starts = 0;
    this.tail = [];            // last lines of stdout/stderr, for error messages
    this.lineListeners = new Set();
    this.otlpUrl = this.apiUrl = this.adminUrl = null;
    installExitHooks();
  }

  get running() {
    const c = this.child;
    return c !== null && !c.gone && c.exitCode === null && c.signalCode === null;
  }
  get pid() { return this.child?.pid; }

  remember(stream, line) {
    this.tail.push(`[${stream}] ${line}`);
    if (this.tail.length > 200) this.tail.splice(0, this.tail.length - 200);
    fs.appendFileSync(this.logPath, `[${stream}] ${line}\n`);
    if (this.echo) process.stderr.write(`[stackhouse ${stream}] ${line}\n`);
    if (stream === 'stdout' || stream === 'stderr') {
      for (const fn of this.lineListeners) fn(stream, line);
    }
  }

  // Calls fn(stream, line) for every line the child writes from now on ('stdout' or 'stderr'),
  // across restarts. Returns a function that removes the listener.
  onLine(fn) {
    this.lineListeners.add(fn);
    return () => this.lineListeners.delete(fn);
  }

  logTail(n = 40) { return this.tail.slice(-n).join('\n'); }

  async start() {
    if (this.running) throw new Error('stackhouse is already running');
    if (!fs.existsSync(this.bin)) {
      throw new Error(`stackhouse binary not found at ${this.bin} (set STACKHOUSE_BIN or build it: make build)`);
    }
    this.starts += 1;
    this.otlpUrl = this.apiUrl = this.adminUrl = null;
    const args = [this.command, '--config', this.configPath, '--data-dir', this.dataDir, ...this.extraArgs];
    const [cmd, argv] = hasSetpriv()
      ? ['setpriv', ['--pdeathsig', 'KILL', '--', this.bin, ...args]]
      : [this.bin, args];
    this.remember('harness', `start #${this.starts}: ${this.bin} ${args.join(' ')}`);
    const child = spawn(cmd, argv, {
      cwd: this.workDir,                      // chDB reads unqualified names as files in the cwd
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    const exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        child.gone = true;
        live.delete(child);
        this.remember('harness', `exit code=${code} signal=${signal}`);
        resolve({ code, signal });
      });
      child.on('error', (e) => {
        child.gone = true;
        live.delete(child);
        this.remember('harness', `spawn error: ${e.message}`);
        resolve({ code: null, signal: null, error: e });
      });
    });
    child.exitPromise = exited;

    const endpoints = {};
    let readyResolve;
    const ready = new Promise((r) => { readyResolve = r; });
    readline.createInterface({ input: child.stderr }).on('line', (l) => this.remember('stderr', l));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      this.remember('stdout', line);
      let ev;
      try { ev = JSON.parse(line); } catch { return; }
      if (ev && ev.msg === 'listening' && typeof ev.component === 'string') {
        endpoints[ev.component] = ev.endpoint;
      } else if (ev && ev.msg === 'ready') {
        this.apiTls = ev.api_tls === true;
        this.role = ev.role ?? 'run';
        readyResolve();
      }
    });

    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(
        `stackhouse did not print "ready" within ${this.startTimeoutMs / 1000} s`)), this.startTimeoutMs);
    });
    const died = exited.then(({ code, signal }) => {
      throw new Error(`stackhouse exited before "ready" (code=${code} signal=${signal})`);
    });
    try {
      await Promise.race([ready, timeout, died]);
      // The collector role (`collector`, or `run` with clickstack.enabled: false) has no API.
      for (const c of this.role === 'collector' ? ['otlp-http', 'admin'] : ['otlp-http', 'api', 'admin']) {
        if (!endpoints[c]) throw new Error(`"ready" printed but no "listening" line for component ${c}`);
      }
      this.otlpUrl = `http://${endpoints['otlp-http']}`;
      this.otlpGrpcEndpoint = endpoints['otlp-grpc'] ?? null;  // "127.0.0.1:PORT" (host:port, no scheme)
      this.apiUrl = endpoints.api ? `${this.apiTls ? 'https' : 'http'}://${endpoints.api}` : null;
      this.adminUrl = `http://${endpoints.admin}`;
      await Promise.race([this.waitReadyz(), timeout, died]);
    } catch (e) {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
      await within(exited, 5000);
      died.catch(() => {});
      throw new Error(`${e.message}\n--- server output (${this.logPath}) ---\n${this.logTail()}`);
    } finally {
      clearTimeout(timer);
      died.catch(() => {});
      timeout.catch(() => {});
    }
    // Every /api/ route needs a session or an API key. The harness authenticates as the CLI does:
    // with the key `stackhouse run` writes into its data directory (new at every start).
    const keyFile = path.join(this.dataDir, 'cli-api-key');
    this.apiKey = fs.existsSync(keyFile) ? fs.readFileSync(keyFile, 'utf8').trim() : null;
    this.remember('harness', `ready: otlp=${this.otlpUrl} api=${this.apiUrl} admin=${this.adminUrl}`);
    return this;
  }

  // Headers that authenticate an API call as the CLI's key.
  authHeaders() {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  // Logs in as a UI user: { status, cookie ('name=value'), csrfToken, user, body }.
  async login(email, password) {
    const res = await fetch(`${this.apiUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const text = await res.text();
    let body = null;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    const setCookie = res.headers.get('set-cookie') ?? '';
    return {
      status: res.status, setCookie, cookie: setCookie.split(';')[0], body,
      csrfToken: body?.csrfToken, user: body?.user, retryAfter: res.headers.get('retry-after'),
    };
  }

  async waitReadyz() {
    let last = '';
    for (;;) {
      try {
        const r = await fetch(`${this.adminUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
        await r.arrayBuffer();
        if (r.status === 200) return;
        last = `HTTP ${r.status}`;
      } catch (e) {
        last = e.message;
      }
      if (!this.running) throw new Error(`server died while waiting for /readyz (${last})`);
      await sleep(100);
    }
  }

  // Runs a query through POST /api/v1/sql; throws with the server's answer on anything but 200.
  async sql(query, params = {}, { timeoutMs = 30_000 } = {}) {
    if (!this.apiUrl) throw new Error('server not started');
    let res, text;
    try {
      res = await fetch(`${this.apiUrl}/api/v1/sql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.authHeaders() },
        body: JSON.stringify({ query, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      throw new Error(`POST /api/v1/sql failed: ${e.message}${this.running ? '' : ' (server is not running)'}\n` +
        `query: ${query}\nparams: ${JSON.stringify(params)}`);
    }
    if (res.status !== 200) {
      throw new Error(`POST /api/v1/sql → HTTP ${res.status}: ${text}\nquery: ${query}\nparams: ${JSON.stringify(params)}`);
    }
    let body;
    try { body = JSON.parse(text); } catch (e) {
      throw new Error(`POST /api/v1/sql answered 200 with non-JSON: ${text.slice(0, 500)}`);
    }
    if (!Array.isArray(body.columns) || !Array.isArray(body.rows)) {
      throw new Error(`POST /api/v1/sql answer lacks columns/rows: ${text.slice(0, 500)}`);
    }
    return body;
  }

  // sql() with the rows as objects keyed by column name.
  async sqlObjects(query, params = {}, opts) {
    const { columns, rows } = await this.sql(query, params, opts);
    return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]])));
  }

  async waitExit(ms) {
    if (!this.child) return true;
    return within(this.child.exitPromise, ms);
  }

  // Graceful stop (SIGTERM), SIGKILL after stopTimeoutMs.
  async stop() {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    if (!(await this.waitExit(this.stopTimeoutMs))) {
      this.remember('harness', `no exit ${this.stopTimeoutMs} ms after SIGTERM; SIGKILL`);
      this.child.kill('SIGKILL');
      await this.waitExit(10_000);
    }
  }

  async kill9() {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    if (!(await this.waitExit(10_000))) throw new Error(`pid ${this.child.pid} survived SIGKILL for 10 s`);
  }

  // Starts again on the same data directory (new ports).
  async restart() {
    await this.stop();
    return this.start();
  }

  // Kills the child and removes the temporary directory (kept when STACKHOUSE_E2E_KEEP=1).
  async cleanup() {
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.waitExit(10_000);
    }
    if (process.env.STACKHOUSE_E2E_KEEP) {
      process.stderr.write(`stackhouse e2e: kept ${this.workDir}\n`);
    } else {
      fs.rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}

export async function startServer(opts) {
  const s = new StackhouseServer(opts);
  try {
    await s.start();
  } catch (e) {
    await s.cleanup();
    throw e;
  }
  return s;
}
