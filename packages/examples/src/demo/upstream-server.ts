/**
 * One service instance of the demo, run as a child process by `fleet.ts`: an HTTP server on
 * 127.0.0.1 with a port the OS chooses, answering every request with its name, version and
 * locality. It reports its port over the IPC channel and exits as soon as that channel closes,
 * so it cannot outlive the demo, however the demo ends.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstanceReply } from './instance-reply.ts';
import type { InstanceSpec } from './topology.ts';

/** Messages a child sends to the demo. */
export type UpstreamMessage = { readonly type: 'listening'; readonly port: number };

const spec = JSON.parse(process.argv[2] ?? '{}') as InstanceSpec;
const reply: InstanceReply = {
  instance: spec.name,
  service: spec.service,
  version: spec.version,
  locality: spec.locality,
};
const body = JSON.stringify(reply);

const server = createServer((_req, res) => {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-instance': spec.name,
  });
  res.end(body);
});
server.keepAliveTimeout = 10_000;

// Ctrl-C reaches the whole process group; the demo decides when instances stop (it disconnects
// or kills them), so an instance must not vanish under requests the demo is still counting.
process.on('SIGINT', () => {});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const message: UpstreamMessage = { type: 'listening', port };
  process.send?.(message);
});
