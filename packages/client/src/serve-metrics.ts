/**
 * A minimal Prometheus endpoint for a mesh's metrics: `GET /metrics` in the text format of the
 * registry (`registry.contentType`). Optional: apps with their own HTTP server can serve
 * `mesh.metrics` themselves.
 */
import { createServer, type Server } from 'node:http';
import { ConfigError } from './errors.ts';
import type { Mesh } from './mesh.ts';

export interface ServeMetricsOptions {
  /** Port to listen on; 0 picks a free one (read it from `server.address()`). */
  readonly port: number;
  /** Address to bind. Default `127.0.0.1` (loopback only). */
  readonly host?: string;
}

/**
 * Starts an HTTP server answering `GET /metrics` with the mesh's metrics; 404 elsewhere.
 * Resolves once it listens.
 *
 * @throws ConfigError (`DABBA_CONFIG_INVALID`) when the mesh was created without `metrics`.
 */
export async function serveMetrics(mesh: Mesh, options: ServeMetricsOptions): Promise<Server> {
  const registry = mesh.metrics;
  if (registry === undefined) {
    throw new ConfigError([
      { source: 'serveMetrics', path: 'mesh', message: 'the mesh was created without the metrics option' },
    ]);
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
