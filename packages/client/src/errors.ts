/**
 * Errors the data plane produces. Each has a stable `code` and, where Envoy has one, the
 * response flag Envoy would log for the same failure (access-log docs, RESPONSE_FLAGS).
 * Match on `code`, never on the message.
 */
import { DabbaError, ResponseFlag } from '@dabba/core';

export { ConfigError, type ConfigIssue, DabbaError, ResponseFlag } from '@dabba/core';

/** Stable error codes of @dabba/client. Never reused, never renamed. */
export const ClientErrorCode = {
  /** No route matched the request (Envoy `NR`). */
  NO_ROUTE: 'DABBA_NO_ROUTE',
  /** The route names a cluster the configuration does not have (Envoy `NC`). */
  CLUSTER_NOT_FOUND: 'DABBA_CLUSTER_NOT_FOUND',
  /** The cluster has no healthy host to send the request to (Envoy `UH`). */
  NO_HEALTHY_UPSTREAM: 'DABBA_NO_HEALTHY_UPSTREAM',
  /** A request was dispatched before the first configuration snapshot arrived. */
  NOT_READY: 'DABBA_NOT_READY',
  /** A request was dispatched after `close()` or `destroy()`. */
  CLOSED: 'DABBA_MESH_CLOSED',
  /** `destroy()` ended the request while it was in flight. */
  DESTROYED: 'DABBA_MESH_DESTROYED',
  /** The request could not be understood (no origin, bad URL). */
  INVALID_REQUEST: 'DABBA_INVALID_REQUEST',
  /** No connection to the upstream could be made (Envoy `UF`). */
  UPSTREAM_CONNECT_FAILURE: 'DABBA_UPSTREAM_CONNECT_FAILURE',
  /** The upstream connection or stream was reset before response headers (Envoy `UC` / `UR`). */
  UPSTREAM_RESET: 'DABBA_UPSTREAM_RESET',
  /** The route timeout or the last per-try timeout fired before the response (Envoy `UT`). */
  UPSTREAM_TIMEOUT: 'DABBA_UPSTREAM_TIMEOUT',
  /** A circuit breaker (max_requests, max_pending_requests) refused the request (Envoy `UO`). */
  OVERFLOW: 'DABBA_OVERFLOW',
  /** The cluster's failure-rate breaker (the `failureBreaker` option) is open; no Envoy flag. */
  CIRCUIT_OPEN: 'DABBA_CIRCUIT_OPEN',
  /**
   * The endpoint must be reached over Istio mutual TLS (ISTIO_MUTUAL, or auto mTLS to a workload
   * with a sidecar) and the mesh has no workload identity to present; nothing was sent (`UF`).
   */
  MTLS_UNAVAILABLE: 'DABBA_MTLS_UNAVAILABLE',
  /**
   * The cluster's TLS settings cannot be applied here (a Kubernetes `credentialName`, a
   * certificate, key or CA file that cannot be read or used); nothing was sent (`UF`).
   */
  UPSTREAM_TLS_UNAVAILABLE: 'DABBA_UPSTREAM_TLS_UNAVAILABLE',
} as const;

interface RequestContext {
  readonly authority?: string | undefined;
  readonly path?: string | undefined;
  readonly cluster?: string | undefined;
}

abstract class RequestError extends DabbaError {
  readonly authority: string | undefined;
  readonly path: string | undefined;
  readonly cluster: string | undefined;
  constructor(message: string, code: string, flag: string | undefined, ctx: RequestContext) {
    super(message, { code, responseFlag: flag });
    this.authority = ctx.authority;
    this.path = ctx.path;
    this.cluster = ctx.cluster;
  }
}

/** No virtual host or route matched (`NR`). */
export class NoRouteError extends RequestError {
  constructor(ctx: RequestContext, detail: string) {
    super(
      `no route for ${ctx.authority ?? '?'}${ctx.path ?? ''}: ${detail}`,
      ClientErrorCode.NO_ROUTE,
      ResponseFlag.NO_ROUTE_FOUND,
      ctx,
    );
  }
}

/** The selected route points at a cluster that does not exist (`NC`). */
export class ClusterNotFoundError extends RequestError {
  constructor(ctx: RequestContext) {
    super(
      `cluster "${ctx.cluster}" not found`,
      ClientErrorCode.CLUSTER_NOT_FOUND,
      ResponseFlag.NO_CLUSTER_FOUND,
      ctx,
    );
  }
}

/** The cluster has no host to pick (`UH`). */
export class NoHealthyUpstreamError extends RequestError {
  constructor(ctx: RequestContext) {
    super(
      `no healthy upstream in cluster "${ctx.cluster}"`,
      ClientErrorCode.NO_HEALTHY_UPSTREAM,
      ResponseFlag.NO_HEALTHY_UPSTREAM,
      ctx,
    );
  }
}

/** The circuit-breaker threshold a request exceeded (Envoy cluster circuit_breakers field). */
export type CircuitBreakerLimitName = 'max_requests' | 'max_pending_requests';

/**
 * The cluster's circuit breaker refused the request before any attempt (`UO`): as many requests
 * as `max_requests` allows are active, or as many as `max_pending_requests` allows already wait
 * for a connection. Envoy answers 503 locally; Dabba raises this error at once, never queueing.
 */
export class OverflowError extends RequestError {
  /** Which threshold was reached. */
  readonly limit: CircuitBreakerLimitName;
  /** Its value. */
  readonly threshold: number;
  constructor(ctx: RequestContext & { limit: CircuitBreakerLimitName; threshold: number }) {
    super(
      `cluster "${ctx.cluster}" overflowed its circuit breaker ${ctx.limit} (${ctx.threshold}): request refused`,
      ClientErrorCode.OVERFLOW,
      ResponseFlag.UPSTREAM_OVERFLOW,
      ctx,
    );
    this.limit = ctx.limit;
    this.threshold = ctx.threshold;
  }
}

/** Where the failure-rate breaker stood when it refused the request. */
export type CircuitOpenState = 'open' | 'half-open';

/**
 * The cluster's failure-rate breaker (Dabba's `failureBreaker` option, not Istio config) refused
 * the request before any attempt: it is open, or half-open with its one trial request in flight.
 * Nothing was sent. Envoy has no such breaker, so the error carries no response flag: `UO` would
 * send a reader to the DestinationRule `connectionPool` limits and `UH` to host health, and
 * neither is why the request was refused.
 */
export class CircuitOpenError extends RequestError {
  readonly state: CircuitOpenState;
  /** How long the breaker stays open before it lets a trial request through. */
  readonly resetTimeoutMs: number;
  constructor(ctx: RequestContext & { state: CircuitOpenState; resetTimeoutMs: number }) {
    super(
      `the failure-rate breaker of cluster "${ctx.cluster}" is ${ctx.state}: request refused`,
      ClientErrorCode.CIRCUIT_OPEN,
      undefined,
      ctx,
    );
    this.state = ctx.state;
    this.resetTimeoutMs = ctx.resetTimeoutMs;
  }
}

/** Dispatch before `mesh.ready` resolved. */
export class MeshNotReadyError extends DabbaError {
  constructor() {
    super('the mesh has no configuration yet: await mesh.ready first', { code: ClientErrorCode.NOT_READY });
  }
}

/** Dispatch after `close()` or `destroy()`. */
export class MeshClosedError extends DabbaError {
  constructor() {
    super('the mesh is closed', { code: ClientErrorCode.CLOSED });
  }
}

/**
 * The request was in flight when `destroy()` was called. `cause` is the error given to
 * `destroy(err)`, if any.
 */
export class MeshDestroyedError extends DabbaError {
  constructor(cause?: Error) {
    super('the mesh was destroyed while the request was in flight', {
      code: ClientErrorCode.DESTROYED,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/**
 * A request the mesh cannot interpret or send: no absolute origin, or a method, path or header
 * undici refuses to write (CR, LF or NUL in a value, a method that is not a token). The latter
 * carries Envoy's `DPE` (downstream protocol error), as a sidecar's codec refuses such a request.
 */
export class InvalidRequestError extends DabbaError {
  constructor(message: string, options: { cause?: unknown; responseFlag?: string } = {}) {
    super(message, { code: ClientErrorCode.INVALID_REQUEST, ...options });
  }
}

/** Where an upstream failure happened, and how many attempts were made. */
export interface UpstreamFailureContext extends RequestContext {
  /** The endpoint (`ip:port`) of the last attempt. */
  readonly endpoint?: string | undefined;
  /** Attempts made, the first try included. */
  readonly attempts: number;
  /**
   * Every Envoy response flag of the failure, the primary one first (`responseFlag`), then
   * `URX` when the retry limit was reached or `UO` when the retry budget refused a retry.
   */
  readonly responseFlags: readonly string[];
  /** The underlying error of the last attempt (undici's or Node's). */
  readonly cause?: Error | undefined;
}

abstract class UpstreamFailure extends DabbaError {
  readonly authority: string | undefined;
  readonly path: string | undefined;
  readonly cluster: string | undefined;
  readonly endpoint: string | undefined;
  readonly attempts: number;
  readonly responseFlags: readonly string[];
  constructor(message: string, code: string, ctx: UpstreamFailureContext) {
    super(message, { code, responseFlag: ctx.responseFlags[0], cause: ctx.cause });
    this.authority = ctx.authority;
    this.path = ctx.path;
    this.cluster = ctx.cluster;
    this.endpoint = ctx.endpoint;
    this.attempts = ctx.attempts;
    this.responseFlags = Object.freeze([...ctx.responseFlags]);
  }
}

function attemptsText(n: number): string {
  return n === 1 ? '1 attempt' : `${n} attempts`;
}

/** No connection could be made to the upstream on the last attempt (`UF`). */
export class UpstreamConnectError extends UpstreamFailure {
  constructor(ctx: UpstreamFailureContext) {
    super(
      `connection to upstream ${ctx.endpoint ?? '?'} of cluster "${ctx.cluster}" failed after ${attemptsText(ctx.attempts)}${ctx.cause ? `: ${ctx.cause.message}` : ''}`,
      ClientErrorCode.UPSTREAM_CONNECT_FAILURE,
      ctx,
    );
  }
}

/**
 * The request needed TLS the mesh could not set up, on its last attempt (`UF`): code
 * `DABBA_MTLS_UNAVAILABLE` or `DABBA_UPSTREAM_TLS_UNAVAILABLE`, `reason` says why. Nothing was
 * sent in clear instead.
 */
export class UpstreamTlsUnavailableError extends UpstreamFailure {
  readonly reason: string;
  constructor(ctx: UpstreamFailureContext & { readonly code: string; readonly reason: string }) {
    super(
      `cannot reach upstream ${ctx.endpoint ?? '?'} of cluster "${ctx.cluster}" over the TLS it requires: ${ctx.reason}`,
      ctx.code,
      ctx,
    );
    this.reason = ctx.reason;
  }
}

/** The upstream closed the connection or reset the stream before response headers (`UC`, `UR`). */
export class UpstreamResetError extends UpstreamFailure {
  constructor(ctx: UpstreamFailureContext) {
    super(
      `upstream ${ctx.endpoint ?? '?'} of cluster "${ctx.cluster}" reset the request before responding, after ${attemptsText(ctx.attempts)}${ctx.cause ? `: ${ctx.cause.message}` : ''}`,
      ClientErrorCode.UPSTREAM_RESET,
      ctx,
    );
  }
}

/** Which timer ended the request. */
export type UpstreamTimeoutKind = 'route' | 'per-try' | 'per-try-idle';

const TIMEOUT_NAMES: Readonly<Record<UpstreamTimeoutKind, string>> = {
  route: 'route timeout',
  'per-try': 'per-try timeout',
  'per-try-idle': 'per-try idle timeout',
};

/**
 * The route timeout, or the per-try timeout of the last allowed attempt, fired (`UT`). Envoy
 * answers with a 504 local reply; Dabba raises this error instead. After response headers
 * were passed on, a route timeout fails the response body with it.
 */
export class UpstreamTimeoutError extends UpstreamFailure {
  readonly timeout: UpstreamTimeoutKind;
  readonly timeoutMs: number;
  constructor(ctx: UpstreamFailureContext & { timeout: UpstreamTimeoutKind; timeoutMs: number }) {
    super(
      `upstream request to cluster "${ctx.cluster}" timed out (${TIMEOUT_NAMES[ctx.timeout]} ${ctx.timeoutMs} ms, ${attemptsText(ctx.attempts)})`,
      ClientErrorCode.UPSTREAM_TIMEOUT,
      ctx,
    );
    this.timeout = ctx.timeout;
    this.timeoutMs = ctx.timeoutMs;
  }
}
