// scratch: not committed
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from '../tests/e2e/lib/server.mjs';
const server = await startServer({ name: 'sqlq' });
await server.stop();
const engineDir = path.join(server.dataDir, 'clickhouse');
fs.rmSync(engineDir, { recursive: true, force: true });
fs.cpSync(process.env.DATA, engineDir, { recursive: true });
await server.restart();
const queries = fs.readFileSync(process.env.Q, 'utf8').split('\n====\n').filter((q) => q.trim());
const runs = Number(process.env.RUNS || 7);
for (const q of queries) {
  const times = [];
  let out;
  for (let i = 0; i < runs + 1; i++) {
    const res = await fetch(`${server.apiUrl}/api/v1/sql`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...server.authHeaders() },
      body: JSON.stringify({ query: q, params: { m: 'bench.requests', t_from: String((Date.now() - 86400000 - 300000) * 1e6), t_to: String(Date.now() * 1e6), s_base: String(Math.floor((Date.now() - 86400000) / 300000) * 300000), s_step: '300000', w_from: String((Date.now() - 3600000) * 1e6), w_from_s: String(Math.floor(Date.now() / 1000) - 3600), t_to_s: String(Math.floor(Date.now() / 1000)) } }),
    });
    out = await res.json();
    if (res.status !== 200) { console.log('ERR', JSON.stringify(out).slice(0, 400)); break; }
    if (i > 0) times.push(out.elapsed_ms);
  }
  times.sort((a, b) => a - b);
  console.log(`${times[Math.floor(times.length / 2)]?.toFixed(1)} ms | rows ${out.rows?.length} | ${JSON.stringify(out.rows?.[0] ?? out).slice(0, 100)} | ${q.replace(/\s+/g, ' ').slice(0, 150)}`);
}
await server.cleanup();
process.exit(0);
