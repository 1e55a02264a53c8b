// Commands that only read a data directory (`stackhouse sql`, `stackhouse audit`) must leave it as
// it was: no schema or retention change, no setting change, no sending of the sink queue, no
// file created, removed or modified. Only `stackhouse run` creates and migrates.
//
//  1. `run` with a one-year TTL (8760h), some logs, SIGTERM; then custom table settings (each
//     table's merge_selector_base changed in its metadata, as an operator's ALTER leaves it). The
//     read commands run with no config and with a config of another TTL (24h); every table's DDL
//     (engine_full, read through `stackhouse sql`) stays as it was, and so does every file.
//  2. The same after `kill -9` under load, with the clickhouse sink's queue holding records not yet
//     stored: the read commands say so in one line and leave the queue to `run`, which stores it.
//  3. A directory held by a running `run`, and a directory with no data: one clear line each, and
//     nothing created.
//
// Files are compared by path, type, size, mtime and (under 1 MiB) a SHA-256 of their content. The
// only exceptions are what the embedded engine (chDB) does whenever it opens a path, measured and
// not avoidable through its options (see isEngineOwnChange).
//
// Run by hand: node --test --test-reporter=spec tests/e2e/readonly.test.mjs   (env STACKHOUSE_BIN)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { StackhouseServer, PORT0_CONFIG, defaultBin, freePort } from './lib/server.mjs';
import { postLogs } from './lib/otlp.mjs';

const YEAR_SECONDS = 8760 * 3600;
const YEAR_CONFIG = `${PORT0_CONFIG}  exporters: {clickhouse: {ttl: 8760h}}\n`;
const CUSTOM_SETTING = 'merge_selector_base = 7';
const DDL_QUERY = 'SELECT name, engine_full FROM stackhouse.tables ORDER BY name';
const QUEUE_NOTE = /the clickhouse queue \(.*\) holds \d+ requests \(\d+ rows\) not yet stored; `stackhouse run` stores them on start/;
const SMALL_FILE = 1 << 20;

const servers = [];
after(async () => {
  for (const s of servers) await s.cleanup();
});

// ---- the data directory, file by file ------------------------------------------------------------

// path (relative to root) → { type, size, mtimeNs, sha256 }
function snapshot(root) {
  const out = new Map();
  const walk = (rel) => {
    const abs = path.join(root, rel);
    const st = fs.lstatSync(abs, { bigint: true });
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : 'other';
    const entry = { type, size: type === 'dir' ? 0n : st.size, mtimeNs: st.mtimeNs, sha256: null };
    if (type === 'file' && st.size < SMALL_FILE) {
      entry.sha256 = crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
    } else if (type === 'link') {
      entry.sha256 = fs.readlinkSync(abs);
    }
    out.set(rel, entry);
    if (type === 'dir') for (const name of fs.readdirSync(abs).sort()) walk(path.join(rel, name));
  };
  walk('.');
  return out;
}

const TABLE_DIR = /^clickhouse\/store\/[0-9a-f]{3}\/[0-9a-f-]{36}$/;
const TMP_PART = /^(clickhouse\/store\/[0-9a-f]{3}\/[0-9a-f-]{36})\/(tmp_|delete_tmp_)[^/]+(\/.*)?$/;

// What the engine does whenever it opens a data path, whatever its options (measured on chDB
// 26.5 with strace and by comparing trees):
//  - `clickhouse/status`, its lock file: created when it opens the path, removed when its last
//    connection closes (a kill leaves it, and the next open rewrites then removes it); the
//    `clickhouse/` folder's mtime changes with it;
//  - at each table's start it removes the `tmp_*` / `delete_tmp_*` part directories a killed
//    insert or merge left (ClickHouse's StorageMergeTree::startup always does; they hold no
//    committed row, and `run` would remove them the same way); the table folder's mtime changes
//    with them. Such a directory may go, never appear.
function isEngineOwnChange(rel, before, after, removedTmpParents) {
  if (rel === 'clickhouse/status') return true;
  if (rel === 'clickhouse' && before && after && before.type === 'dir' && after.type === 'dir') return true;
  const tmp = TMP_PART.exec(rel);
  if (tmp && before && !after) {
    removedTmpParents.add(tmp[1]);
    return true;
  }
  if (TABLE_DIR.test(rel) && before && after && removedTmpParents.has(rel)) return true;
  return false;
}

function describe(e) {
  return e ? `${e.type} size=${e.size} mtime=${e.mtimeNs} sha=${e.sha256 ?? '-'}` : 'absent';
}

// Every path that differs, engine's own changes excepted; each as "path: before → after". The
// engine's own changes go to `excepted`, for the test's diagnostics.
function changes(before, after, excepted = []) {
  const removedTmpParents = new Set();
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  // Temporary part directories first, so that their table folders' mtimes are known to follow.
  paths.sort((a, b) => Number(!TMP_PART.test(a)) - Number(!TMP_PART.test(b)));
  const out = [];
  for (const rel of paths) {
    const b = before.get(rel);
    const a = after.get(rel);
    const same = b && a && b.type === a.type && b.size === a.size && b.mtimeNs === a.mtimeNs && b.sha256 === a.sha256;
    if (same) continue;
    if (isEngineOwnChange(rel, b, a, removedTmpParents)) {
      excepted.push(`${rel}: ${describe(b)} → ${describe(a)}`);
      continue;
    }
    out.push(`${rel}: ${describe(b)} → ${describe(a)}`);
  }
  return out;
}

// ---- the commands ------------------------------------------------------------------------------

function cli(args, cwd) {
  const r = spawnSync(defaultBin(), args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function stderrLines(r) {
  return r.stderr.split('\n').filter((l) => l.length > 0);
}

// Every table's engine_full, read through `stackhouse sql` with the given arguments.
function tableDdl(server, configArgs) {
  const r = cli(['sql', ...configArgs, '--data-dir', server.dataDir, '--json', DDL_QUERY], server.workDir);
  assert.equal(r.code, 0, `stackhouse sql failed: ${r.stderr}`);
  // The answer is the line with the API's JSON; a command that logged anything (as one that
  // altered tables did: "retention changed") still has its DDL checked.
  const answer = r.stdout.split('\n').find((l) => l.startsWith('{"columns"'));
  assert.ok(answer, `stackhouse sql printed no answer: ${r.stdout}`);
  const { rows } = JSON.parse(answer);
  return { ddl: Object.fromEntries(rows.map(([name, engineFull]) => [name, engineFull])), stderr: r.stderr };
}

async function portInUse(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

// A config of another retention, whose API address nothing listens on: the commands read the
// directory itself.
async function otherTtlConfig(server) {
  const file = path.join(server.workDir, 'other-ttl.yaml');
  fs.writeFileSync(file, `clickstack:\n  hyperdx: {listen: "127.0.0.1:${await freePort()}"}\n` +
    'otelConfig:\n  exporters: {clickhouse: {ttl: 24h}}\n');
  return ['--config', file];
}

// The argument sets the read commands run with: no config (its API address, 127.0.0.1:8080, must
// be free, or the commands would ask whatever listens there), and a config of another TTL.
async function configVariants(server) {
  const variants = [{ name: 'another TTL (24h)', args: await otherTtlConfig(server) }];
  if (await portInUse(8080)) {
    process.stderr.write('readonly.test: 127.0.0.1:8080 is in use here; the no-config runs are left out\n');
  } else {
    variants.unshift({ name: 'no config', args: [] });
  }
  return variants;
}

function logsBody(service, n, records = 20) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const logRecords = [];
  for (let i = 0; i < records; i++) {
    logRecords.push({
      timeUnixNano: String(now + BigInt(i)),
      severityText: 'INFO',
      body: { stringValue: `readonly ${n}-${i} ${'x'.repeat(100)}` },
      attributes: [{ key: 'n', value: { intValue: String(n) } }],
    });
  }
  return Buffer.from(JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [{ logRecords }],
    }],
  }));
}

// Bytes of the clickhouse sink's queue past its committed position (a sketch of what
// pipeline/segment_log.h describes: the newest cursor slot by version, the segments after it).
function queuedBytes(dataDir) {
  let total = 0;
  for (const signal of ['logs', 'traces', 'metrics']) {
    const dir = path.join(dataDir, 'queue', 'clickhouse', signal);
    if (!fs.existsSync(dir)) continue;
    let seg = 0n;
    let off = 0n;
    const cursor = path.join(dir, 'cursor');
    if (fs.existsSync(cursor)) {
      const b = fs.readFileSync(cursor);
      let best = -1n;
      for (let i = 0; i + 64 <= b.length; i += 64) {
        if (b.readUInt32LE(i) !== 0x43514853) continue;
        const version = b.readBigUInt64LE(i + 8);
        if (version > best) { best = version; seg = b.readBigUInt64LE(i + 16); off = b.readBigUInt64LE(i + 24); }
      }
    }
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.seg'))) {
      const n = BigInt(`0x${name.slice(0, 16)}`);
      const size = BigInt(fs.statSync(path.join(dir, name)).size);
      if (n > seg) total += Number(size);
      else if (n === seg && size > off) total += Number(size - off);
    }
  }
  return total;
}

// Runs sql and audit with each variant; checks the DDL after each against `ddl0` and returns
// every command's stderr.
async function runReadCommands(server, ddl0) {
  const outputs = [];
  for (const v of await configVariants(server)) {
    const sql = tableDdl(server, v.args);
    assert.deepEqual(sql.ddl, ddl0, `the DDL changed after \`stackhouse sql\` with ${v.name}`);
    outputs.push({ what: `sql, ${v.name}`, stderr: sql.stderr });
    const audit = cli(['audit', ...v.args, '--data-dir', server.dataDir, '--since', '8760h'], server.workDir);
    assert.ok(audit.code === 0 || audit.code === 1, `stackhouse audit with ${v.name} failed: ${audit.stderr}`);
    assert.match(audit.stdout, /scanned \d+ rows/);
    outputs.push({ what: `audit, ${v.name}`, stderr: audit.stderr });
    assert.deepEqual(tableDdl(server, v.args).ddl, ddl0, `the DDL changed after \`stackhouse audit\` with ${v.name}`);
  }
  return outputs;
}

function assertNoEngineNoise(outputs) {
  for (const { what, stderr } of outputs) {
    assert.doesNotMatch(stderr, /DB::Exception|Code: \d+\./, `${what}: the engine's own output reached stderr`);
  }
}

// ---- the tests ---------------------------------------------------------------------------------

test('sql and audit leave a stopped store with a one-year TTL and custom settings as it was', { timeout: 240_000 }, async (t) => {
  const server = new StackhouseServer({ config: YEAR_CONFIG, name: 'readonly' });
  servers.push(server);
  await server.start();
  for (let n = 0; n < 5; n++) {
    const r = await postLogs(server.otlpUrl, logsBody('readonly-e2e', n), false, 15_000);
    assert.equal(r.status, 200, JSON.stringify(r));
  }
  await server.stop();
  assert.equal(server.child.exitCode, 0, 'run did not stop cleanly on SIGTERM');

  // Custom table settings, as an operator's ALTER TABLE ... MODIFY SETTING leaves them.
  const metadataDir = path.join(server.dataDir, 'clickhouse', 'metadata', 'otel');
  let edited = 0;
  for (const name of fs.readdirSync(metadataDir)) {
    const file = path.join(metadataDir, name);
    const text = fs.readFileSync(file, 'utf8');
    if (!text.includes('merge_selector_base = 20')) continue;
    fs.writeFileSync(file, text.replace('merge_selector_base = 20', CUSTOM_SETTING));
    edited++;
  }
  // The exporter's 8 and the embedded store's 2 metric rollups.
  assert.equal(edited, 10, 'expected the 10 MergeTree tables of the schema');

  const before = snapshot(server.dataDir);
  const first = tableDdl(server, await otherTtlConfig(server));
  const ddl0 = first.ddl;
  const tables = Object.keys(ddl0).filter((t) => !t.endsWith('_mv'));
  assert.equal(tables.length, 10, JSON.stringify(ddl0));
  for (const t of tables) {
    assert.ok(ddl0[t].includes(`toIntervalSecond(${YEAR_SECONDS})`), `${t}: ${ddl0[t]}`);
    assert.ok(ddl0[t].includes(CUSTOM_SETTING), `${t}: ${ddl0[t]}`);
  }

  const outputs = [{ what: 'sql, first', stderr: first.stderr }, ...(await runReadCommands(server, ddl0))];
  assertNoEngineNoise(outputs);
  for (const { what, stderr } of outputs) assert.equal(stderr, '', `${what} wrote on stderr: ${stderr}`);
  const excepted = [];
  assert.deepEqual(changes(before, snapshot(server.dataDir), excepted), [], 'the read commands changed the data directory');
  t.diagnostic(`${before.size} paths compared; the engine's own changes: ${excepted.length ? excepted.join('; ') : 'none'}`);

  // A table of the schema missing (as in a directory of an older version): said in one line, and
  // the rest still answered; only `run` creates it.
  fs.rmSync(path.join(metadataDir, 'otel_metrics_summary.sql'));
  const config = await otherTtlConfig(server);
  const sql = cli(['sql', ...config, '--data-dir', server.dataDir, '--json', 'SELECT count() FROM otel.otel_logs'], server.workDir);
  assert.equal(sql.code, 0, sql.stderr);
  assert.equal(JSON.parse(sql.stdout).rows[0][0], '100');
  const audit = cli(['audit', ...config, '--data-dir', server.dataDir, '--since', '8760h'], server.workDir);
  assert.ok(audit.code === 0 || audit.code === 1, audit.stderr);
  assert.match(audit.stdout, /scanned 100 rows/);
  for (const r of [sql, audit]) {
    const lines = stderrLines(r);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /lacks tables of this version's schema \(otel_metrics_summary\); `stackhouse run` creates them/);
  }
});

test('after kill -9, sql and audit leave the queue to run, and say so', { timeout: 300_000 }, async (t) => {
  const server = new StackhouseServer({ config: YEAR_CONFIG, name: 'readonly-kill' });
  servers.push(server);
  // Under this load the store's inserts trail the acknowledgements; a few tries make it certain
  // that a kill leaves records in the queue.
  let n = 0;
  for (let attempt = 1; attempt <= 8 && queuedBytes(server.dataDir) === 0; attempt++) {
    await server.start();
    let sending = true;
    const clients = [0, 1, 2, 3].map(async () => {
      while (sending) await postLogs(server.otlpUrl, logsBody('readonly-kill-e2e', n++, 200), false, 15_000);
    });
    await new Promise((r) => setTimeout(r, 1500));
    await server.kill9();
    sending = false;
    await Promise.all(clients);
  }
  assert.ok(queuedBytes(server.dataDir) > 0, 'no kill left records in the queue in 8 tries');

  const before = snapshot(server.dataDir);
  const first = tableDdl(server, await otherTtlConfig(server));
  const ddl0 = first.ddl;
  for (const t of Object.keys(ddl0).filter((x) => !x.endsWith('_mv'))) {
    assert.ok(ddl0[t].includes(`toIntervalSecond(${YEAR_SECONDS})`), `${t}: ${ddl0[t]}`);
  }
  const outputs = [{ what: 'sql, first', stderr: first.stderr }, ...(await runReadCommands(server, ddl0))];
  assertNoEngineNoise(outputs);
  for (const { what, stderr } of outputs) {
    const lines = stderrLines({ stderr });
    assert.equal(lines.length, 1, `${what}: expected one line on stderr, got: ${stderr}`);
    assert.match(lines[0], QUEUE_NOTE, `${what}: ${lines[0]}`);
  }
  const excepted = [];
  assert.deepEqual(changes(before, snapshot(server.dataDir), excepted), [], 'the read commands changed the data directory');
  t.diagnostic(`${before.size} paths compared; the engine's own changes: ${excepted.length ? excepted.join('; ') : 'none'}`);

  // `run` is what stores it.
  const replayed = new Promise((resolve) => {
    const off = server.onLine((_, line) => {
      if (line.includes('queue: records not yet stored by their sink, sent now')) { off(); resolve(true); }
    });
  });
  await server.start();
  assert.ok(await Promise.race([replayed, new Promise((r) => setTimeout(() => r(false), 5000))]),
    `run did not send the queue:\n${server.logTail()}`);

  // While it runs, a command that does not find its API says the directory is in use, in one
  // line, without the engine's own message about its lock.
  const inUse = cli(['sql', ...(await otherTtlConfig(server)), '--data-dir', server.dataDir, 'SELECT 1'], server.workDir);
  assert.equal(inUse.code, 1);
  const lines = stderrLines(inUse);
  assert.equal(lines.length, 1, inUse.stderr);
  assert.match(lines[0], /is in use by another process/);
  assertNoEngineNoise([{ what: 'sql on a held directory', stderr: inUse.stderr }]);
  // With the config of that run, the command asks its API.
  const apiConfig = path.join(server.workDir, 'api.yaml');
  fs.writeFileSync(apiConfig, `clickstack:\n  hyperdx: {listen: "${new URL(server.apiUrl).host}"}\n`);
  const viaApi = cli(['sql', '--config', apiConfig, '--data-dir', server.dataDir, '--json',
    "SELECT count() AS n FROM otel.otel_logs WHERE ServiceName = 'readonly-kill-e2e'"], server.workDir);
  assert.equal(viaApi.code, 0, viaApi.stderr);
  assert.equal(viaApi.stderr, '');
  assert.ok(Number(JSON.parse(viaApi.stdout).rows[0][0]) > 0, viaApi.stdout);
  await server.stop();
  assert.equal(queuedBytes(server.dataDir), 0, 'run did not store what the queue held');
});

test('a directory with no stackhouse data: one line, nothing created', async () => {
  const server = new StackhouseServer({ name: 'readonly-empty' });
  servers.push(server);
  const config = await otherTtlConfig(server);
  const missing = path.join(server.workDir, 'no-such-dir');
  for (const [dir, label] of [[missing, 'missing'], [server.dataDir, 'empty']]) {
    for (const args of [['sql', ...config, '--data-dir', dir, 'SELECT 1'], ['audit', ...config, '--data-dir', dir]]) {
      const r = cli(args, server.workDir);
      assert.notEqual(r.code, 0, `${args[0]} on a ${label} directory succeeded`);
      const lines = stderrLines(r);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /no stackhouse data in .*: start `stackhouse run` on it first/);
    }
  }
  assert.equal(fs.existsSync(missing), false, 'a read command created the data directory');
  assert.deepEqual(fs.readdirSync(server.dataDir), [], 'a read command wrote into an empty directory');
});
