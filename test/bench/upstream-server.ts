/**
 * The benchmark's upstream, run as its own process: HTTP/1.1 with keep-alive on a few loopback
 * ports, answering every request with a 2-byte body. Prints `{"ports":[...]}` on one line when
 * listening, and exits when its parent closes stdin, so it never outlives the benchmark.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const count = Number(process.argv[2] ?? '1');
const body = Buffer.from('ok');
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };

const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
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
