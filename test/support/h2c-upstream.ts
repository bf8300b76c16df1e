/**
 * A cleartext HTTP/2 (h2c, prior knowledge) upstream for tests: answers with its name and the HTTP
 * version the request arrived over, so a test can tell HTTP/2 from HTTP/1.1.
 */
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface H2cUpstream {
  readonly name: string;
  readonly port: number;
  readonly server: Http2Server;
  /** `req.httpVersion` of each request received, in order. */
  readonly versions: string[];
  close(): Promise<void>;
}

export async function startH2cUpstream(name: string): Promise<H2cUpstream> {
  const versions: string[] = [];
  const server = createServer((req, res) => {
    versions.push(req.httpVersion);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ upstream: name, httpVersion: req.httpVersion }));
  });
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    server,
    versions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
