/**
 * Real HTTP upstreams for tests: servers on loopback, port 0, that answer with who they are so a
 * test can count where requests went.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly server: Server;
  /** Requests this upstream has received, in order. */
  readonly received: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  /**
   * TCP connections accepted and closed so far (a test of connection reuse counts these), and
   * the most that were open at once (a test of connection limits reads it; it may reset it).
   */
  readonly connections: { opened: number; closed: number; peak: number };
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, upstream: Upstream) => void;

const defaultHandler: Handler = (req, res, upstream) => {
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-upstream', upstream.name);
  res.end(JSON.stringify({ upstream: upstream.name, url: req.url, host: req.headers.host }));
};

/** Starts an HTTP/1.1 server on 127.0.0.1 with an OS-assigned port. */
export async function startUpstream(
  name: string,
  handler: Handler = defaultHandler,
  port = 0,
): Promise<Upstream> {
  const received: Upstream['received'] = [];
  let self: Upstream | undefined;
  const server = createServer((req, res) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res, self!);
  });
  server.keepAliveTimeout = 5_000;
  const connections = { opened: 0, closed: 0, peak: 0 };
  server.on('connection', (socket) => {
    connections.opened++;
    connections.peak = Math.max(connections.peak, connections.opened - connections.closed);
    socket.on('close', () => connections.closed++);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  self = {
    name,
    port: address.port,
    server,
    received,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return self;
}

/**
 * A loopback port nothing listens on (connections to it are refused): one the OS just handed
 * out and that was closed again at once.
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A handler that answers `slow` after `delayMs` (its timer is cleared if the client goes away). */
export function slowHandler(delayMs: number): Handler {
  return (_req, res, upstream) => {
    const timer = setTimeout(() => {
      res.setHeader('x-upstream', upstream.name);
      res.end('slow');
    }, delayMs);
    res.on('close', () => clearTimeout(timer));
  };
}

/** A handler that answers `state.status` (which a test may change) with its name in `x-upstream`. */
export function switchableHandler(state: { status: number }): Handler {
  return (_req, res, upstream) => {
    res.setHeader('x-upstream', upstream.name);
    res.statusCode = state.status;
    res.end(upstream.name);
  };
}
