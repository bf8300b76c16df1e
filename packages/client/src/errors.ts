/**
 * Errors the data plane produces. Each has a stable `code` and, where Envoy has one, the
 * response flag Envoy would log for the same failure (access-log docs, RESPONSE_FLAGS).
 * Match on `code`, never on the message.
 */
import { DabbaError } from '@dabba/discovery';

export { ConfigError, type ConfigIssue, DabbaError } from '@dabba/discovery';

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
  /** The mesh was closed or destroyed. */
  CLOSED: 'DABBA_MESH_CLOSED',
  /** The request could not be understood (no origin, bad URL). */
  INVALID_REQUEST: 'DABBA_INVALID_REQUEST',
} as const;

/** Envoy response flags Dabba sets (Envoy access-log RESPONSE_FLAGS short names). */
export const ResponseFlag = {
  NO_ROUTE_FOUND: 'NR',
  NO_CLUSTER_FOUND: 'NC',
  NO_HEALTHY_UPSTREAM: 'UH',
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

/** A request the mesh cannot interpret. */
export class InvalidRequestError extends DabbaError {
  constructor(message: string) {
    super(message, { code: ClientErrorCode.INVALID_REQUEST });
  }
}
