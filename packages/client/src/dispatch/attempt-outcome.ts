/**
 * Pure pieces of the router's per-attempt bookkeeping: how an undici/Node error maps onto the
 * outcomes Envoy's router decides on (Http::StreamResetReason and the connection pool's failure
 * reasons), which response flag a final failure carries, whether a response could be retried
 * at all (a cheap pre-check so a 200 costs no retry decision), and which request bodies can be
 * sent again.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { TlsHandshakeError, TlsUnavailable } from '../connection/tls-unavailable.ts';
import { ResponseFlag } from '../errors.ts';
import { type CompiledRetryPolicy, RETRY_ON_GRPC, RetryOn } from '../resilience/retry-policy.ts';

/** How an attempt that produced no response ended; `local` is not an upstream failure. */
export type AttemptFailureKind = 'connect-failure' | 'reset-before-response' | 'refused-stream' | 'local';

/**
 * Errors meaning no connection was made: Envoy's LocalConnectionFailure / RemoteConnectionFailure
 * / ConnectionTimeout (`UF`, retried under `connect-failure`).
 */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/**
 * Errors meaning the connection or stream went away before response headers: Envoy's
 * ConnectionTermination / RemoteReset (`UC` / `UR`, retried under `reset`, `5xx`, `gateway-error`).
 */
const RESET_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
]);

/**
 * Classifies the error that ended an attempt before response headers.
 *
 * @param requestStarted whether undici had started writing this attempt's request (its
 *   onRequestStart ran): a timeout or TLS error before that is a connect failure.
 */
export function classifyAttemptError(err: Error, requestStarted: boolean): AttemptFailureKind {
  // The TLS the endpoint requires could not be set up: a connection failure, as in Envoy.
  if (err instanceof TlsUnavailable || err instanceof TlsHandshakeError) return 'connect-failure';
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return 'local';
  if (CONNECT_CODES.has(code)) return 'connect-failure';
  if (!requestStarted && (code === 'ETIMEDOUT' || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')))
    return 'connect-failure';
  if (RESET_CODES.has(code)) {
    // An HTTP/2 RST_STREAM with REFUSED_STREAM (0x7): the server did not process the request.
    if (code === 'ERR_HTTP2_STREAM_ERROR' && /REFUSED_STREAM/.test(err.message)) return 'refused-stream';
    return 'reset-before-response';
  }
  return 'local';
}

/** The Envoy response flag of a final failure of `kind` (access-log RESPONSE_FLAGS). */
export function responseFlagOf(kind: Exclude<AttemptFailureKind, 'local'>, err: Error | undefined): string {
  if (kind === 'connect-failure') return ResponseFlag.UPSTREAM_CONNECTION_FAILURE;
  // A stream reset by the peer is UR; a connection that closed under the request is UC.
  if (kind === 'refused-stream' || (err as { code?: unknown } | undefined)?.code === 'ERR_HTTP2_STREAM_ERROR')
    return ResponseFlag.UPSTREAM_REMOTE_RESET;
  return ResponseFlag.UPSTREAM_CONNECTION_TERMINATION;
}

/**
 * Whether {@link decideRetry} could say yes to this response: false exactly when no
 * `retry_on` condition of the policy can match it (RetryStateImpl::wouldRetryFromHeaders), so
 * the common 2xx answer is forwarded without building a decision.
 */
export function mayRetryResponse(
  policy: CompiledRetryPolicy,
  status: number,
  headers: IncomingHttpHeaders,
): boolean {
  const on = policy.retryOn;
  if (on === 0) return false;
  if (status >= 500 && on & (RetryOn.FIVE_XX | RetryOn.GATEWAY_ERROR)) return true;
  if (status === 409 && on & RetryOn.RETRIABLE_4XX) return true;
  if (on & RetryOn.RETRIABLE_STATUS_CODES && policy.retriableStatusCodes.has(status)) return true;
  if (on & RetryOn.RETRIABLE_HEADERS && policy.retriableHeaders.length > 0) return true;
  if (on & RETRY_ON_GRPC && headers['grpc-status'] !== undefined) return true;
  return headers['x-envoy-ratelimited'] !== undefined && (on & RetryOn.ENVOY_RATE_LIMITED) !== 0;
}

/**
 * Whether a request body can be sent again on a retry: none, a string or bytes. A stream or an
 * async iterable is consumed by the first attempt, so such a request is never retried (Envoy
 * buffers the body for retries; Dabba does not copy streams).
 */
export function isReplayableBody(body: unknown): boolean {
  return body == null || typeof body === 'string' || body instanceof Uint8Array;
}

/** The largest retried response body read to its end to keep the connection (64 KiB). */
export const MAX_DRAINED_BODY_BYTES = 64 * 1024;

/**
 * Whether a response that is being retried should be read to its end instead of reset. Resetting
 * an HTTP/1.1 response closes its connection, and opening another costs far more than reading a
 * small body, so a body of known small length (or none) is drained and the connection goes
 * back to the pool. A body of unknown length (chunked, or read until close) is reset, as Envoy
 * resets every retried response.
 */
export function isDrainableResponse(method: string, status: number, headers: IncomingHttpHeaders): boolean {
  // Responses without a body (RFC 9110 6.4.1).
  if (method === 'HEAD' || status === 204 || status === 304) return true;
  const length = headers['content-length'];
  if (typeof length !== 'string') return false;
  if (!/^[0-9]{1,6}$/.test(length)) return false;
  return Number(length) <= MAX_DRAINED_BODY_BYTES;
}
