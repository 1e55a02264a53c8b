// Prometheus scraping at scale: 200 targets of node-exporter size, served by a local fixture
// (one Node process listening on 200 loopback ports, gzip as node-exporter answers), scraped
// every 15 s by `stackhouse run`. Reports stackhouse's CPU share (utime + stime from
// /proc/<pid>/stat over the measured window, as a share of one core) and its resident memory,
// against an idle baseline: the same server with scraping off, measured the same way in the same
// run.
//
//   node bench/prom_scrape_bench.mjs [--targets 200] [--interval 15] [--seconds 60] [--scraper-only 1]
//                                    [--idle-seconds N] [--scraper-alone 0] [--timeline file]
//                                    [--keep dir] [--alone-seconds N]
// --idle-seconds measures the idle server over a shorter window than the scraping one (its cost
// is flat; a window of several minutes is what catches the store's merges); --scraper-alone 0
// leaves out the last phase, --alone-seconds sets its window (at most 60 s unless given: the
// scraper alone has no store whose merges need a long window). --timeline <file> writes the scraping server's memory each second
// (wall-clock time, RSS, anonymous, file-backed, MiB), to place its peaks against the store's work;
// --keep <dir> moves its data directory there at the end (to replay the store's statements on it).
// The scraping server's CPU is also given by thread name (the eight busiest), over the same window.
//
// The body: tests/fixtures/receivers/prometheus/node_exporter.prom (a real node-exporter 1.5
// answer, 505 samples) repeated for three cpus/devices, ~1,500 samples and ~170 KB a target:
// 200 targets every 15 s are ~20,000 samples/s into the embedded store.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const TARGETS = Number(args.targets ?? 200);
const INTERVAL = Number(args.interval ?? 15);
const SECONDS = Number(args.seconds ?? 60);
const IDLE_SECONDS = Number(args['idle-seconds'] ?? SECONDS);
const ALONE_SECONDS = Number(args['alone-seconds'] ?? Math.min(SECONDS, 60));
const bin = process.env.STACKHOUSE_BIN || path.join(root, 'build', 'stackhouse');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const base = fs.readFileSync(path.join(root, 'tests/fixtures/receivers/prometheus/node_exporter.prom'), 'utf8');
// Three copies with distinct label values on every sample that has labels, and one copy of the
// label-less samples: the series of a larger host.
const lines = base.split('\n');
let body = '';
for (const line of lines) {
  if (line.startsWith('#') || !line.includes('{')) {
    body += line + '\n';
    continue;
  }
  for (let k = 0; k < 3; k++) body += line.replace('{', `{copy="${k}",`) + '\n';
}
const gz = zlib.gzipSync(body);
const samples = body.split('\n').filter((l) => l && !l.startsWith('#')).length;

// utime + stime, in clock ticks, from the text of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat.
function statTicks(stat) {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
function ticks(pid) {
  return statTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
}
// utime + stime of each thread, summed by thread name (the engine's pools share names).
function threadTicks(pid) {
  const out = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;  // the thread ended
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    out.set(`${name}\u0000${tid}`, { name, ticks: statTicks(stat) });
  }
  return out;
}
// Each thread name's share of one core over a window, from two threadTicks() readings: the
// threads that ran in it (a thread that ended in the window is left out).
function threadShares(before, after, seconds) {
  const byName = new Map();
  for (const [key, t] of after) {
    const ticks = t.ticks - (before.get(key)?.ticks ?? 0);
    byName.set(t.name, (byName.get(t.name) ?? 0) + ticks);
  }
  return [...byName].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])
    .map(([name, v]) => `${name} ${(v / 100 / seconds * 100).toFixed(1)}%`);
}
// Resident memory, whole and split: anonymous (the heap: what the process allocated) and
// file-backed (pages of the binary and of the engine's library, shared and reclaimable by the
// kernel, which grow as code paths run for the first time).
function rssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)[1]) / 1024;
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') };
}

async function startFixture() {
  const servers = [];
  const ports = [];
  for (let i = 0; i < TARGETS; i++) {
    const s = http.createServer((req, res) => {
      if ((req.headers['accept-encoding'] || '').includes('gzip')) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-encoding': 'gzip' });
        res.end(gz);
      } else {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(body);
      }
    });
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
    ports.push(s.address().port);
  }
  return { servers, ports };
}

async function runServer(scrapeConfig, label, seconds = SECONDS, timeline = undefined, keep = undefined) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'prom-bench-'));
  fs.writeFileSync(path.join(work, 'config.yaml'), `clickstack:
  hyperdx: {listen: "127.0.0.1:0"}
otelConfig:
  receivers: {otlp: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
  admin: {endpoint: "127.0.0.1:0"}
${scrapeConfig}`);
  fs.mkdirSync(path.join(work, 'data'));
  const child = spawn(bin, ['run', '--config', path.join(work, 'config.yaml'), '--data-dir', path.join(work, 'data')],
    { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let ready = false;
  child.stdout.on('data', (d) => { if (String(d).includes('"msg":"ready"')) ready = true; });
  child.stderr.on('data', () => {});
  for (let i = 0; i < 600 && !ready; i++) await sleep(100);
  if (!ready) throw new Error(`${label}: stackhouse did not become ready`);
  // The pid, for a profiler: `perf record -F 499 -g -p <pid> -- sleep 40` during the window.
  console.error(`${label}: stackhouse pid ${child.pid}`);
  // Warm-up: one full interval (every target scraped once, the store's first inserts done).
  await sleep((INTERVAL + 5) * 1000);
  const t0 = ticks(child.pid);
  const threads0 = threadTicks(child.pid);
  const w0 = Date.now();
  let rssMax = 0;
  let rssSum = 0;
  let anonMax = 0;
  let anonSum = 0;
  let fileMax = 0;
  let n = 0;
  while (Date.now() - w0 < seconds * 1000) {
    await sleep(1000);
    const r = rssMiB(child.pid);
    rssMax = Math.max(rssMax, r.rss);
    rssSum += r.rss;
    anonMax = Math.max(anonMax, r.anon);
    if (timeline) {
      fs.appendFileSync(timeline, `${new Date().toISOString()} ${r.rss.toFixed(0)} ${r.anon.toFixed(0)} ${r.file.toFixed(0)}\n`);
    }
    anonSum += r.anon;
    fileMax = Math.max(fileMax, r.file);
    n += 1;
  }
  const cpu = (ticks(child.pid) - t0) / 100 / ((Date.now() - w0) / 1000);  // USER_HZ 100
  const threads = threadShares(threads0, threadTicks(child.pid), (Date.now() - w0) / 1000);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  if (keep) fs.renameSync(path.join(work, 'data'), keep);
  fs.rmSync(work, { recursive: true, force: true });
  return { cpu, rssAvg: rssSum / n, rssMax, anonAvg: anonSum / n, anonMax, fileMax, threads };
}

const { servers, ports } = await startFixture();
try {
  if (args['scraper-only'] === undefined) {
  const idle = await runServer('', 'idle', IDLE_SECONDS);
  const targets = ports.map((p) => `"127.0.0.1:${p}"`).join(', ');
  const busy = await runServer(`prometheusScrape:
  enabled: true
  self: false
  maxConcurrentScrapes: 64
  scrapeJobs:
    - jobName: node
      scrapeInterval: ${INTERVAL}s
      targets: [${targets}]
`, 'scraping', SECONDS, args.timeline, args.keep);
  const rate = (TARGETS * samples) / INTERVAL;
  console.log(`prom_scrape_bench: ${TARGETS} targets x ${samples} samples (${(body.length / 1024).toFixed(0)} KiB, ` +
    `${(gz.length / 1024).toFixed(0)} KiB gzip) every ${INTERVAL}s = ${Math.round(rate)} samples/s, window ${SECONDS}s (idle ${IDLE_SECONDS}s)`);
  const line = (name, r) => console.log(`  ${name} cpu ${(r.cpu * 100).toFixed(1)}% of one core, ` +
    `rss avg ${r.rssAvg.toFixed(0)} / max ${r.rssMax.toFixed(0)} MiB ` +
    `(anonymous avg ${r.anonAvg.toFixed(0)} / max ${r.anonMax.toFixed(0)}, file-backed max ${r.fileMax.toFixed(0)})`);
  line('idle:    ', idle);
  line('scraping:', busy);
  console.log(`  scraping, by thread (share of one core): ${busy.threads.slice(0, 8).join(', ')}`);
  console.log(`  scraping cost: cpu +${((busy.cpu - idle.cpu) * 100).toFixed(1)}% of one core, ` +
    `memory +${(busy.rssMax - idle.rssMax).toFixed(0)} MiB rss (max over max), ` +
    `+${(busy.anonMax - idle.anonMax).toFixed(0)} MiB anonymous, +${(busy.fileMax - idle.fileMax).toFixed(0)} MiB file-backed`);
  }
  const alone = path.join(root, 'build/tests/receivers/prometheus/prometheus_scrape_bench');
  if (args['scraper-alone'] !== '0' && fs.existsSync(alone)) {
    const child = spawn(alone, ['--interval', String(INTERVAL), '--seconds', String(ALONE_SECONDS), ...ports.map(String)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    await new Promise((r) => child.on('exit', r));
    process.stdout.write(text);
  }
} finally {
  for (const s of servers) s.close();
}
