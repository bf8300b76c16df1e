/**
 * One service instance of the demo, run as a child process by `fleet.ts`: an HTTP server on
 * 127.0.0.1 with a port the OS chooses, answering every request with its name, version and
 * locality. It reports its port over the IPC channel and exits as soon as that channel closes,
 * so it cannot outlive the demo, however the demo ends.
 *
 * Its behaviour (`InstanceMode`) starts as the spec's `mode` (default `healthy`) and changes on
 * a `set-mode` message; a `stats` message asks how many requests it answered, how many of
 * them with a 5xx (which callers behind retries never see) and the most connections it had open
 * at once (which a DestinationRule's `maxConnections` bounds).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type InstanceCommand, type InstanceMode, SLOW_MS, type UpstreamMessage } from './instance-mode.ts';
import type { InstanceReply } from './instance-reply.ts';
import type { InstanceSpec } from './topology.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as InstanceSpec;
const reply: InstanceReply = {
  instance: spec.name,
  service: spec.service,
  version: spec.version,
  locality: spec.locality,
};
const body = JSON.stringify(reply);
let mode: InstanceMode = spec.mode ?? 'healthy';
let requests = 0;
let errors = 0;
let openConnections = 0;
let peakConnections = 0;

function answer(res: ServerResponse, status: number) {
  if (status >= 500) errors++;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-instance': spec.name,
  });
  res.end(body);
}

const server = createServer((_req, res) => {
  requests++;
  if (mode === 'down' || (mode === 'flaky' && Math.random() < 0.5)) return answer(res, 503);
  if (mode !== 'slow') return answer(res, 200);
  const timer = setTimeout(() => answer(res, 200), SLOW_MS);
  res.on('close', () => clearTimeout(timer));
});
server.keepAliveTimeout = 10_000;
server.on('connection', (socket) => {
  openConnections++;
  peakConnections = Math.max(peakConnections, openConnections);
  socket.on('close', () => openConnections--);
});

function send(message: UpstreamMessage) {
  process.send?.(message);
}

process.on('message', (command: InstanceCommand) => {
  if (command.type === 'set-mode') {
    mode = command.mode;
    send({ type: 'mode-set', id: command.id, mode });
  } else if (command.type === 'stats') {
    send({ type: 'stats', id: command.id, requests, errors, peakConnections });
  }
});

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
  send({ type: 'listening', port });
});
