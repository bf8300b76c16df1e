/**
 * TLS peers for tests, on loopback: an HTTPS server (node:https) that reports what it saw, an
 * `openssl s_server` (a TLS stack that is not Node's), and a raw TCP listener that records the
 * bytes a client sends, to prove what went over the wire in clear.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type AddressInfo, connect, createServer as createTcpServer, type Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Issued } from './test-pki.ts';

export interface HttpsPeer {
  readonly port: number;
  /** What each request saw: the SNI, the TLS version, the client certificate's CN. */
  readonly seen: {
    servername: string | false;
    protocol: string | null;
    clientCn: string | undefined;
    path: string;
  }[];
  close(): Promise<void>;
}

/** An HTTPS/1.1 server with `cert`; with `clientCa`, it requires a client certificate from it. */
export async function startHttpsPeer(cert: Issued, clientCa?: string): Promise<HttpsPeer> {
  const seen: HttpsPeer['seen'] = [];
  const server: HttpsServer = createHttpsServer(
    {
      cert: cert.certPem,
      key: cert.keyPem,
      ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      seen.push({
        servername: (socket as TLSSocket & { servername: string | false }).servername,
        protocol: socket.getProtocol(),
        clientCn: [peer?.subject?.CN].flat()[0],
        path: req.url ?? '',
      });
      res.setHeader('content-type', 'text/plain');
      res.end(`tls ${socket.getProtocol()}`);
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface WireTap {
  readonly port: number;
  /** Bytes received, one entry per connection. */
  readonly connections: Buffer[];
  /** Everything received, as latin1 text, to search for what must not appear in clear. */
  text(): string;
  close(): Promise<void>;
}

/**
 * A TCP listener that keeps what each connection sends and closes it after 100 ms, so a TLS
 * client's handshake fails without anything further being sent.
 */
export async function startWireTap(): Promise<WireTap> {
  const connections: Buffer[] = [];
  const server: Server = createTcpServer((socket) => {
    const index = connections.push(Buffer.alloc(0)) - 1;
    socket.on('data', (chunk) => {
      connections[index] = Buffer.concat([connections[index]!, chunk]);
    });
    socket.on('error', () => {});
    setTimeout(() => socket.destroy(), 100).unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    text: () => Buffer.concat(connections).toString('latin1'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Whether `bytes` open a TLS handshake: a handshake record (22) of TLS 1.x, a ClientHello (1). */
export function isTlsClientHello(bytes: Buffer): boolean {
  return bytes.length > 5 && bytes[0] === 0x16 && bytes[1] === 0x03 && bytes[5] === 0x01;
}

export interface OpensslPeer {
  readonly port: number;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function accepting(port: number, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`openssl s_server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('openssl s_server did not start');
}

/**
 * `openssl s_server -www` with `cert` (answers `GET /` with an HTTP/1.0 status page); with
 * `clientCaFile`, it requires a client certificate from that CA (`-Verify 1`).
 */
export async function startOpensslPeer(cert: Issued, clientCaFile?: string): Promise<OpensslPeer> {
  const port = await freePort();
  const child = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-cert',
      cert.certFile,
      '-key',
      cert.keyFile,
      '-www',
      '-quiet',
      ...(clientCaFile ? ['-Verify', '1', '-CAfile', clientCaFile, '-verify_return_error'] : []),
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  await accepting(port, child, Date.now() + 10_000);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
