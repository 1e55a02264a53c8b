// A pass-through HTTP proxy that records every request and answer, so a test can check what the
// exporters really sent (media type, compression) and what the server really answered — and report
// a failing request precisely. Bodies are forwarded unchanged.

import http from 'node:http';

export async function startRecordingProxy(targetBase) {
  const requests = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rec = {
        method: req.method,
        path: req.url,
        headers: req.headers,
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        tag: req.headers['x-e2e-tag'],
        body,
        status: null,
        responseHeaders: null,
        responseBody: null,
        error: null,
      };
      requests.push(rec);
      const target = new URL(req.url, typeof targetBase === 'function' ? targetBase() : targetBase);
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      // A keep-alive connection the server closed while idle fails on reuse before anything was
      // processed: send once more on a new connection, as an HTTP client library would.
      const forward = (useAgent) => {
        const up = http.request(target, { method: req.method, headers, agent: useAgent ? agent : false }, (ures) => {
          const rchunks = [];
          ures.on('data', (c) => rchunks.push(c));
          ures.on('end', () => {
            rec.status = ures.statusCode;
            rec.responseHeaders = ures.headers;
            rec.responseBody = Buffer.concat(rchunks);
            const h = { ...ures.headers, 'content-length': String(rec.responseBody.length) };
            delete h['transfer-encoding'];
            delete h.connection;
            delete h['keep-alive'];
            res.writeHead(ures.statusCode, h);
            res.end(rec.responseBody);
          });
          ures.on('error', (e) => { rec.error = e.message; res.destroy(e); });
        });
        up.setTimeout(30_000, () => up.destroy(new Error('upstream timeout (30 s)')));
        up.on('error', (e) => {
          if (useAgent && up.reusedSocket && ['ECONNRESET', 'EPIPE'].includes(e.code) && rec.status === null) {
            rec.retriedOnNewConnection = true;
            forward(false);
            return;
          }
          rec.error = e.message;
          if (!res.headersSent) { res.writeHead(502, { 'content-type': 'text/plain' }); res.end(`proxy: ${e.message}`); }
          else res.destroy(e);
        });
        up.end(body);
      };
      forward(true);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      agent.destroy();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

// A one-line description of a recorded request, for assertion messages.
export function describeRequest(r) {
  const body = r.responseBody ? r.responseBody.toString('utf8').slice(0, 300) : '';
  return `${r.method} ${r.path} [${r.contentType}${r.contentEncoding ? `, ${r.contentEncoding}` : ''}, ` +
    `${r.body.length} B] → ${r.error ? `error ${r.error}` : `HTTP ${r.status} ` +
    `[${r.responseHeaders?.['content-type'] ?? '-'}] ${JSON.stringify(body)}`}`;
}
