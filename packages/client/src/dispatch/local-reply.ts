/**
 * Requests the mesh answers itself before any upstream attempt, with what a sidecar records for
 * them: no route (`NR`) or no cluster (`NC`), a route's direct response or redirect, and no
 * healthy upstream (`UH`). Each is counted in Istio's request metrics and told to the request's
 * observer, then answered through local-response.ts.
 */
import type { Dispatcher } from 'undici';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import { type DabbaError, NoHealthyUpstreamError } from '../errors.ts';
import { httpToGrpcStatus, isGrpcRequest } from '../telemetry/grpc-response-status.ts';
import type { IstioRequestMetrics } from '../telemetry/istio-request-metrics.ts';
import type { ObservedRequest } from '../telemetry/observed-request.ts';
import type { ResponseLabelSets } from '../telemetry/response-label-sets.ts';
import { localReplyStatus, responseFlagsOf } from '../telemetry/response-outcome.ts';
import type { IncomingRequest } from './incoming-request.ts';
import { failLocally, respondLocally } from './local-response.ts';
import type { MeshContext } from './mesh-context.ts';
import { parseAuthority, requestBytes } from './request-bytes.ts';
import type { Decision } from './resolve-request.ts';

type RouteError = Extract<Decision, { kind: 'error' }>;
type DirectResponse = Extract<Decision, { kind: 'local' }>;

/** Fails a request that reached no cluster (`NR`, `NC`, ...): its destination labels are all `unknown`. */
export function failUnrouted(
  ctx: MeshContext,
  handler: Dispatcher.DispatchHandler,
  decision: RouteError,
  options: Dispatcher.DispatchOptions,
  observer: ObservedRequest | undefined,
): void {
  if (ctx.metrics !== undefined) recordLocalReply(ctx.metrics, ctx.unroutedMetrics!, decision.error, options);
  observer?.failedLocally(decision.error, decision.selection?.route.name);
  failLocally(handler, decision.error);
}

/** Answers a route's direct response or redirect. */
export function answerDirectly(
  handler: Dispatcher.DispatchHandler,
  decision: DirectResponse,
  observer: ObservedRequest | undefined,
): void {
  observer?.answeredLocally(decision.status, decision.body?.byteLength ?? 0, decision.selection?.route.name);
  respondLocally(handler, decision.status, decision.headers, decision.body);
}

/** Fails a request whose cluster had no endpoint to pick (`UH`). */
export function failNoHealthyUpstream(
  ctx: MeshContext,
  handler: Dispatcher.DispatchHandler,
  cluster: CompiledCluster,
  routeName: string,
  request: IncomingRequest,
  options: Dispatcher.DispatchOptions,
  observer: ObservedRequest | undefined,
): void {
  const error = new NoHealthyUpstreamError({
    authority: request.authority,
    path: request.path,
    cluster: cluster.name,
  });
  if (cluster.metrics !== undefined) recordLocalReply(ctx.metrics!, cluster.metrics, error, options);
  if (observer !== undefined) {
    observer.routed(cluster.name, routeName, cluster.http2);
    observer.failedLocally(error, routeName);
  }
  failLocally(handler, error);
}

/** Records a request the mesh answered itself, with no upstream attempt. */
function recordLocalReply(
  metrics: IstioRequestMetrics,
  sets: ResponseLabelSets,
  error: DabbaError,
  options: Dispatcher.DispatchOptions,
): void {
  const flags = responseFlagsOf(error);
  const status = localReplyStatus(flags);
  // A gRPC request gets Envoy's trailers-only 200 carrying the mapped gRPC status.
  const labels =
    status !== 0 && isGrpcRequest(options.headers)
      ? sets.grpc.get(200, flags, httpToGrpcStatus(status))
      : sets.get(status, flags);
  metrics.record(labels, 0, requestBytes(options, parseAuthority(options.origin)), 0);
  // Envoy's router charges its no-healthy-upstream 503 to the cluster
  // (Filter::sendNoHealthyUpstreamResponse -> chargeUpstreamCode); unrouted requests have none.
  sets.traffic?.requestEnded(0, status, false, false);
}
