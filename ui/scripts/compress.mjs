// Writes a gzip twin (x.gz) beside every file of the built UI that compresses by at least 10%;
// the server sends it to clients that accept gzip. Usage: node scripts/compress.mjs <dist>
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const dist = process.argv[2];
if (!dist) throw new Error('usage: compress.mjs <dist folder>');

function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file);
    else if (!entry.name.endsWith('.gz')) {
      const body = fs.readFileSync(file);
      const gz = zlib.gzipSync(body, { level: 9 });
      if (gz.length < body.length * 0.9) fs.writeFileSync(`${file}.gz`, gz);
    }
  }
}
walk(dist);
