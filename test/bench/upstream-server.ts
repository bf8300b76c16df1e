/**
 * The benchmark's upstream, run as its own process: HTTP/1.1 with keep-alive on a few loopback
 * ports, answering every request with a 2-byte body. Prints `{"ports":[...]}` on one line when
 * listening, and exits when its parent closes stdin, so it never outlives the benchmark.
 *
 * Failures are asked for in the query string, so plain requests pay only one string search:
 * - `?fail=P`: each port answers 503 to exactly P of every 100 such requests, evenly spread
 *   (deterministic, so a run's failure count does not depend on luck);
 * - `?failport=N`: the port N answers 503 to every such request, the others 200.
 * `GET /__counts` answers `{"requests":n,"failed":n}` over all ports (itself not counted), so the
 * benchmark can count attempts, retries included, which the client does not report.
 * `GET /__headers` answers the request's headers as JSON (not counted): what a dispatcher sends.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const count = Number(process.argv[2] ?? '1');
const body = Buffer.from('ok');
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };
const failBody = Buffer.from('bench: injected 503');
const failHeaders = { 'content-type': 'text/plain', 'content-length': String(failBody.length) };
const counts = { requests: 0, failed: 0 };

function answer(res: ServerResponse, fail: boolean): void {
  if (fail) {
    counts.failed++;
    res.writeHead(503, failHeaders);
    res.end(failBody);
  } else {
    res.writeHead(200, headers);
    res.end(body);
  }
}

const ports: number[] = [];
for (let i = 0; i < count; i++) {
  let failable = 0;
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/__counts') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(counts));
      return;
    }
    if (url === '/__headers') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
      return;
    }
    counts.requests++;
    const q = url.indexOf('?');
    if (q === -1) return answer(res, false);
    const query = new URLSearchParams(url.slice(q + 1));
    const percent = Number(query.get('fail') ?? '0');
    const failPort = Number(query.get('failport') ?? '0');
    const own = (server.address() as AddressInfo).port;
    failable++;
    // Bresenham-style: the floor steps exactly `percent` times per 100 requests.
    const stepped = Math.floor((failable * percent) / 100) !== Math.floor(((failable - 1) * percent) / 100);
    answer(res, own === failPort || stepped);
  });
  // The client keeps connections for the whole run; the server must not close them between rounds.
  server.keepAliveTimeout = 120_000;
  server.maxRequestsPerSocket = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ports.push((server.address() as AddressInfo).port);
}
process.stdout.write(`${JSON.stringify({ ports })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
