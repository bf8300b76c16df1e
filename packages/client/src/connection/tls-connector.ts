/**
 * Dials one endpoint over TLS for an undici pool. The pool's origin stays the request's
 * authority (undici writes it as Host); this connector decides the transport: the endpoint's
 * address, the SNI, the trust anchor and the identity check from the cluster's TLS settings
 * (connection-plan.ts), and credentials read at each dial (tls-material.ts), so rotated files
 * apply to the next connection without rebuilding the pool.
 *
 * HTTP/2 is chosen by ALPN, as undici does (`h2` negotiated: an HTTP/2 session); a cluster that
 * speaks HTTP/2 and names no ALPN of its own offers `h2`.
 */
import { isIP, type Socket } from 'node:net';
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';
import { SYSTEM_CLOCK } from '@dabba/core';
import type { UpstreamTls } from '@dabba/discovery';
import { type buildConnector, errors } from 'undici';
import { serverIdentityCheck } from './server-identity.ts';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.ts';
import { TlsHandshakeError, TlsUnavailable } from './tls-unavailable.ts';

export interface TlsDial {
  readonly tls: UpstreamTls;
  readonly address: string;
  readonly port: number;
  /** The host of the request's authority (no port): auto SNI and the auto SAN check use it. */
  readonly host: string;
  readonly http2: boolean;
  readonly connectTimeoutMs: number;
}

/** The SNI sent: `sni`, else the request's host under `auto_sni` (never an IP literal, RFC 6066). */
export function serverNameOf(tls: UpstreamTls, host: string): string | undefined {
  if (tls.sni !== '') return tls.sni;
  return tls.autoSni && isIP(host) === 0 && host !== '' ? host : undefined;
}

function strip(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Whether two reads of a connection's credentials found the same files (tls-material.ts caches by stamp). */
function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.ca === b.ca && a.cert === b.cert && a.key === b.key && a.crl === b.crl;
}

/** An undici connector that makes TLS connections to `dial.address`. */
export function createTlsConnector(dial: TlsDial): buildConnector.connector {
  const { tls } = dial;
  const host = strip(dial.host);
  const servername = serverNameOf(tls, host);
  const check = serverIdentityCheck(tls, host, servername);
  const alpn = tls.alpn.length > 0 ? [...tls.alpn] : dial.http2 ? ['h2'] : undefined;
  const endpoint = `${dial.address.includes(':') ? `[${dial.address}]` : dial.address}:${dial.port}`;
  // A resumed session skips the certificate checks: resume only with the material the session
  // was verified with (a rotated CA or CRL must apply to the next connection).
  let session: { readonly ticket: Buffer; readonly material: TlsMaterial } | undefined;

  return (_options, callback) => {
    let done = false;
    const finish = (err: Error | null, socket?: Socket) => {
      if (done) return;
      done = true;
      if (err) callback(err, null);
      else callback(null, socket as Socket);
    };
    loadTlsMaterial(tls).then(
      (material) => {
        const options: ConnectionOptions = {
          host: dial.address,
          port: dial.port,
          ...(servername === undefined ? {} : { servername }),
          ...(alpn === undefined ? {} : { ALPNProtocols: alpn }),
          ...(material.ca === undefined ? {} : { ca: material.ca }),
          ...(material.cert === undefined ? {} : { cert: material.cert }),
          ...(material.key === undefined ? {} : { key: material.key }),
          ...(material.crl === undefined ? {} : { crl: material.crl }),
          ...(tls.minVersion === undefined ? {} : { minVersion: tls.minVersion }),
          ...(tls.maxVersion === undefined ? {} : { maxVersion: tls.maxVersion }),
          ...(tls.cipherSuites.length > 0 ? { ciphers: tls.cipherSuites.join(':') } : {}),
          ...(tls.ecdhCurves.length > 0 ? { ecdhCurve: tls.ecdhCurves.join(':') } : {}),
          // No trust anchor configured: Envoy does not verify (Istio insecureSkipVerify).
          rejectUnauthorized: tls.trust !== undefined,
          checkServerIdentity: check ?? (() => undefined),
          ...(session !== undefined && sameMaterial(session.material, material)
            ? { session: session.ticket }
            : {}),
        };
        let socket: TLSSocket;
        try {
          socket = connect(options);
        } catch (err) {
          // A key, certificate or cipher list Node cannot use: the credentials, not the peer.
          finish(
            TlsUnavailable.credentials(`the TLS settings cannot be used: ${(err as Error).message}`, err),
          );
          return;
        }
        let connected = false;
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 60_000);
        // In pieces past Node's 24.8-day timer limit, as every configured duration.
        const timer = SYSTEM_CLOCK.schedule(
          () => {
            socket.destroy();
            finish(
              new errors.ConnectTimeoutError(
                `Connect Timeout Error (attempted address: ${endpoint}, timeout: ${dial.connectTimeoutMs}ms)`,
              ),
            );
          },
          dial.connectTimeoutMs,
          undefined,
        );
        socket.once('connect', () => {
          connected = true;
        });
        socket.on('session', (ticket: Buffer) => {
          session = { ticket, material };
        });
        socket.once('secureConnect', () => {
          SYSTEM_CLOCK.cancel(timer);
          finish(null, socket);
        });
        socket.once('error', (err) => {
          SYSTEM_CLOCK.cancel(timer);
          // Refused or unreachable before the handshake is a plain connection failure.
          finish(connected ? new TlsHandshakeError(endpoint, err) : err);
        });
      },
      (err: Error) => finish(err),
    );
  };
}
