// The ClickHouse stand-in (tests/sinks/clickhouse: ClickHouse's HTTP interface over the embedded
// engine) as a child process for end-to-end tests, and a client that reads what it stored.
//
//   const ch = await startClickhouseStandin({ dir, user: 'ingest', password: 's3cret' });
//   ch.url                                          // "http://127.0.0.1:PORT"
//   await ch.sqlObjects('SELECT ... WHERE ServiceName = {svc:String}', { svc })  // → [{col: value}]
//   await ch.stop();
//
// sqlObjects answers in the shape of stackhouse's POST /api/v1/sql (JSONCompact rows, 64-bit
// integers quoted), so tests written against a StackhouseServer's sqlObjects read the stand-in too.
// The binary: env STANDIN_BIN, default <repo>/build/tests/sinks/clickhouse/clickhouse-standin.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { repoRoot } from './server.mjs';

export function standinBin() {
  return process.env.STANDIN_BIN || path.join(repoRoot, 'build', 'tests', 'sinks', 'clickhouse', 'clickhouse-standin');
}

export async function startClickhouseStandin({ dir, user = 'default', password = '', bin = standinBin() }) {
  if (!fs.existsSync(bin)) throw new Error(`clickhouse-standin not found at ${bin} (set STANDIN_BIN or build it)`);
  const args = ['--data', dir, '--port', '0', '--user', user];
  if (password) args.push('--password', password);
  // chDB reads unqualified names as files in the working directory: give it its own.
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  const killOnExit = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killOnExit);
  const output = [];
  readline.createInterface({ input: child.stderr }).on('line', (l) => output.push(l));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`clickhouse-standin did not start in 60 s:\n${output.join('\n')}`)), 60_000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      let ev;
      try { ev = JSON.parse(line); } catch { return; }  // the engine may print first
      if (Number.isInteger(ev?.port)) { clearTimeout(timer); resolve(ev.port); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`clickhouse-standin exited (${code}):\n${output.join('\n')}`)); });
  });
  const url = `http://127.0.0.1:${port}`;
  const headers = { 'x-clickhouse-user': user, ...(password ? { 'x-clickhouse-key': password } : {}) };

  async function sql(query, params = {}) {
    // POST: a GET is read-only in ClickHouse's HTTP interface, which refuses the settings below.
    const u = new URL(url);
    u.searchParams.set('output_format_json_quote_64bit_integers', '1');
    u.searchParams.set('output_format_json_quote_denormals', '1');
    for (const [k, v] of Object.entries(params)) u.searchParams.set(`param_${k}`, String(v));
    const res = await fetch(u, {
      method: 'POST', headers, body: `${query} FORMAT JSONCompact`, signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`clickhouse-standin → HTTP ${res.status}: ${text}\nquery: ${query}`);
    const body = JSON.parse(text);
    return { columns: body.meta, rows: body.data };
  }

  return {
    url,
    port,
    sql,
    async sqlObjects(query, params) {
      const { columns, rows } = await sql(query, params);
      return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]])));
    },
    // Statements run so far (their count, and each as run): what reached the "remote" ClickHouse.
    async stats() { return (await fetch(`${url}/standin/stats`)).json(); },
    async executed() { return (await fetch(`${url}/standin/executed`)).json(); },
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
