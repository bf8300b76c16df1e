/**
 * What a {@link RouterRequest} needs from the routing decision, built once per request by
 * {@link routerRouteOf}: one object literal, always built there with the same fields in the same
 * order, so every router reads it through one hidden class.
 */
import type { Clock } from '@dabba/core';
import type { Dispatcher } from 'undici';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import type { EndpointPools } from '../connection/endpoint-pools.ts';
import type { RandomSource } from '../lb/random-source.ts';
import type { RequestRecord } from '../observe/request-record.ts';
import type { ClusterFailureBreaker } from '../resilience/failure-breaker.ts';
import { type CompiledRetryPolicy, retriesEnabledFor } from '../resilience/retry-policy.ts';
import type { HeaderMutations } from '../route/header-mutations.ts';
import type { ClusterRuntime } from '../runtime/cluster-runtime.ts';
import { isReplayableBody } from './attempt-outcome.ts';
import type { IncomingRequest } from './incoming-request.ts';
import type { MeshContext } from './mesh-context.ts';
import type { MeshLifecycle } from './mesh-lifecycle.ts';
import type { Decision } from './resolve-request.ts';

export interface RouterRoute {
  readonly pools: EndpointPools;
  /** The clock of the router's timeouts and backoff. */
  readonly clock: Clock;
  /** The mesh's lifecycle: the router registers while in flight; destroy() ends it. */
  readonly mesh: MeshLifecycle;
  /** The compiled cluster the request was routed to (its pools and settings). */
  readonly cluster: CompiledCluster;
  /** The cluster's runtime state: balancer, outlier detection, admission, metric label sets. */
  readonly state: ClusterRuntime;
  /** The options every attempt sends (path, headers and Host already rewritten). */
  readonly options: Dispatcher.DispatchOptions;
  /** The upstream authority (pools are keyed by it). */
  readonly authority: string;
  /** The request's scheme is `https`: it is never sent in plaintext (connection-plan.ts). */
  readonly secure: boolean;
  /** The request's authority and path, for errors. */
  readonly requestAuthority: string;
  readonly requestPath: string;
  readonly responseHeaderMutations: HeaderMutations;
  /** The route's retry policy (also the per-try timeout); `undefined` when none. */
  readonly retry: CompiledRetryPolicy | undefined;
  /** False when retriable_request_headers did not match: no retries, per-try timeout still applies. */
  readonly retriesEnabled: boolean;
  /** Route timeout in ms; 0 = none. */
  readonly timeoutMs: number;
  readonly hash: bigint | undefined;
  readonly random: RandomSource;
  /** Whether the request body can be sent again. */
  readonly bodyReplayable: boolean;
  /** The cluster's failure-rate breaker; `undefined` when the option is off or skips the cluster. */
  readonly failureBreaker: ClusterFailureBreaker | undefined;
  /** The request's record: how it ends goes there, and from there to every sink. */
  readonly record: RequestRecord;
  /**
   * The request carries Istio's metadata exchange headers: the peer's answer is removed from the
   * response before the caller sees it, as Envoy's peer_metadata filter does.
   */
  readonly stripPeerMetadata?: boolean;
}

/**
 * The router's view of an upstream `decision` for `request`: `upstream` is what every attempt
 * sends to `authority`; `retry` and `timeoutMs` the route's, after the request's x-envoy-*
 * overrides; `options` the caller's (body and headers, for replay and metrics).
 */
export function routerRouteOf(
  ctx: MeshContext,
  decision: Extract<Decision, { kind: 'upstream' }>,
  request: IncomingRequest,
  options: Dispatcher.DispatchOptions,
  upstream: Dispatcher.DispatchOptions,
  authority: string,
  retry: CompiledRetryPolicy | undefined,
  timeoutMs: number,
  stripPeerMetadata: boolean,
  record: RequestRecord,
): RouterRoute {
  const cluster = decision.cluster;
  return {
    pools: ctx.pools,
    clock: ctx.clock,
    mesh: ctx.lifecycle,
    cluster,
    state: decision.state,
    options: upstream,
    authority,
    secure: request.scheme === 'https',
    requestAuthority: request.authority,
    requestPath: request.path,
    responseHeaderMutations: decision.responseHeaderMutations,
    retry,
    // retriable_request_headers: evaluated once, when the request starts (RetryStateImpl).
    retriesEnabled:
      retry !== undefined &&
      (retry.retriableRequestHeaders.length === 0 || retriesEnabledFor(retry, ctx.matchContext)),
    timeoutMs,
    hash: decision.hash,
    random: ctx.random,
    bodyReplayable: isReplayableBody(options.body),
    failureBreaker: ctx.breakers?.forCluster(cluster.name),
    record,
    stripPeerMetadata,
  };
}
