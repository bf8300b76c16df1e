/**
 * One attempt that could not get the TLS its endpoint requires: the Istio mTLS identity is
 * missing, or the cluster's credentials cannot be read or used. It fails the attempt as a
 * connection failure (Envoy reports a TLS setup failure as `UF`, and may retry on another host,
 * which may not need it); the request's final error is then {@link UpstreamTlsUnavailableError}.
 */
import { ClientErrorCode } from '../errors.ts';

export class TlsUnavailable extends Error {
  readonly code: string;
  readonly reason: string;
  constructor(code: string, reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.code = code;
    this.reason = reason;
  }

  /** Istio mTLS is required and this mesh has no workload identity yet. */
  static noWorkloadIdentity(): TlsUnavailable {
    return new TlsUnavailable(
      ClientErrorCode.MTLS_UNAVAILABLE,
      'the endpoint requires Istio mutual TLS (ISTIO_MUTUAL, or auto mTLS to a workload with a sidecar) and this mesh has no workload identity to present; nothing was sent in clear',
    );
  }

  /** The cluster's TLS credentials cannot be had or used. */
  static credentials(reason: string, cause?: unknown): TlsUnavailable {
    return new TlsUnavailable(ClientErrorCode.UPSTREAM_TLS_UNAVAILABLE, reason, cause);
  }
}

/**
 * The TLS handshake with the endpoint failed: the server's certificate was refused (untrusted,
 * expired, the wrong name) or the handshake itself broke. A connection failure, as Envoy counts
 * it (`UF`, transport failure); `cause` is Node's error, with OpenSSL's code.
 */
export class TlsHandshakeError extends Error {
  readonly code: string;
  constructor(endpoint: string, cause: Error) {
    super(`TLS handshake with ${endpoint} failed: ${cause.message}`, { cause });
    this.code = (cause as { code?: string }).code ?? 'TLS_HANDSHAKE_FAILED';
  }
}
