/**
 * Requests the mesh answers itself before any upstream attempt, with what a sidecar records for
 * them: no route (`NR`) or no cluster (`NC`), a route's direct response or redirect, and no
 * healthy upstream (`UH`). Each is counted in Istio's request metrics (with metrics on) and told
 * to the request's observer, then answered through local-response.ts. The fault filter's aborts
 * are recorded through {@link recordLocalAnswer} too.
 */
import type { Dispatcher } from 'undici';
import { type DabbaError, NoHealthyUpstreamError } from '../errors.ts';
import type { ClusterRuntime } from '../runtime/cluster-runtime.ts';
import { httpToGrpcStatus, isGrpcRequest } from '../telemetry/grpc-response-status.ts';
import { NO_RESPONSE_FLAGS } from '../telemetry/istio-metric-names.ts';
import type { IstioRequestMetrics } from '../telemetry/istio-request-metrics.ts';
import type { ObservedRequest } from '../telemetry/observed-request.ts';
import type { ResponseLabelSets } from '../telemetry/response-label-sets.ts';
import { localReplyStatus, responseFlagsOf, withFaultDelayFlag } from '../telemetry/response-outcome.ts';
import { responseHeadBytes } from '../telemetry/wire-size.ts';
import type { DownstreamRefusal } from './downstream-checks.ts';
import { FaultDelay } from './fault-delay.ts';
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
  if (ctx.metrics !== undefined)
    recordLocalReply(ctx.metrics, ctx.unroutedMetrics!, decision.error, options, handler);
  observer?.failedLocally(decision.error, decision.selection?.route.name);
  failLocally(handler, decision.error);
}

/** Istio's catch-all route of REGISTRY_ONLY (translate-routes.ts): virtual host and route `block_all`. */
const BLOCK_ALL = 'block_all';

/**
 * Answers a route's direct response or redirect. Recorded with its status and no flag, its
 * destination labels all `unknown` (no cluster), except Istio's `block_all` 502, which Istio's
 * telemetry reports as `destination_service_name="BlackHoleCluster"` (istio.io blog "Monitoring
 * blocked and passthrough external service traffic", HTTP proxy listener case).
 */
export function answerDirectly(
  ctx: MeshContext,
  handler: Dispatcher.DispatchHandler,
  decision: DirectResponse,
  options: Dispatcher.DispatchOptions,
  observer: ObservedRequest | undefined,
): void {
  const metrics = ctx.metrics;
  if (metrics !== undefined) {
    const status = decision.status;
    const grpc = isGrpcRequest(options.headers);
    const bodyBytes = decision.body?.byteLength ?? 0;
    recordLocalAnswer(
      metrics,
      labelSetsOf(ctx, decision),
      status,
      NO_RESPONSE_FLAGS,
      // Envoy's getGrpcStatus: no grpc-status in the answer, so the HTTP status mapped.
      grpc ? httpToGrpcStatus(status) : '',
      options,
      localResponseBytes(status, decision.headers, bodyBytes),
      handler,
    );
  }
  observer?.answeredLocally(decision.status, decision.body?.byteLength ?? 0, decision.selection?.route.name);
  respondLocally(handler, decision.status, decision.headers, decision.body);
}

/**
 * Answers a request the sidecar's codec or connection manager refuses before routing (header
 * limits, path normalization; downstream-checks.ts): no route, so destination labels `unknown`.
 */
export function refuseDownstream(
  ctx: MeshContext,
  handler: Dispatcher.DispatchHandler,
  refusal: DownstreamRefusal,
  options: Dispatcher.DispatchOptions,
  observer: ObservedRequest | undefined,
): void {
  const bodyBytes = refusal.body?.byteLength ?? 0;
  if (ctx.metrics !== undefined) {
    const grpc = isGrpcRequest(options.headers);
    recordLocalAnswer(
      ctx.metrics,
      ctx.unroutedMetrics!,
      refusal.status,
      refusal.responseFlags,
      grpc ? httpToGrpcStatus(refusal.status) : '',
      options,
      localResponseBytes(refusal.status, refusal.headers, bodyBytes),
      handler,
    );
  }
  observer?.refusedDownstream(refusal.status, refusal.responseFlags, refusal.details, bodyBytes);
  respondLocally(handler, refusal.status, refusal.headers, refusal.body);
}

/** Fails a request whose cluster had no endpoint to pick (`UH`). */
export function failNoHealthyUpstream(
  ctx: MeshContext,
  handler: Dispatcher.DispatchHandler,
  state: ClusterRuntime,
  routeName: string,
  request: IncomingRequest,
  options: Dispatcher.DispatchOptions,
  observer: ObservedRequest | undefined,
): void {
  const cluster = state.cluster;
  const error = new NoHealthyUpstreamError({
    authority: request.authority,
    path: request.path,
    cluster: cluster.name,
  });
  const metrics = state.metrics;
  if (metrics !== undefined) {
    const status = recordLocalReply(ctx.metrics!, metrics, error, options, handler);
    // Envoy's router charges its no-healthy-upstream 503 to the cluster
    // (Filter::sendNoHealthyUpstreamResponse -> chargeUpstreamCode).
    metrics.traffic?.requestEnded(0, status, false, false);
  }
  if (observer !== undefined) {
    observer.routed(cluster.name, routeName, cluster.http2);
    observer.failedLocally(error, routeName);
  }
  failLocally(handler, error);
}

/**
 * The label sets a request the mesh answers itself is recorded under: its cluster's when the
 * routing decision has one (the weighted entry picked), PassthroughCluster's for Istio's
 * `allow_any` route, BlackHoleCluster's for its `block_all` route, else the unrouted sets.
 * Called only with metrics on.
 */
export function labelSetsOf(ctx: MeshContext, decision: Decision): ResponseLabelSets {
  switch (decision.kind) {
    case 'upstream':
      return decision.state.metrics ?? ctx.unroutedMetrics!;
    case 'passthrough':
      return ctx.passthroughMetrics!.sets;
    case 'local': {
      const selection = decision.selection;
      return selection?.virtualHost.name === BLOCK_ALL && selection.route.name === BLOCK_ALL
        ? ctx.blackHoleMetrics!
        : ctx.unroutedMetrics!;
    }
    default:
      return ctx.unroutedMetrics!;
  }
}

/**
 * Records a request the mesh answered itself, before any upstream attempt, once: `status`,
 * `flags` and, for a gRPC request (`grpcStatus` not empty), `request_protocol="grpc"`. A request
 * resumed after an injected delay (its handler is the {@link FaultDelay}) gets `DI` merged into
 * its flags and a duration from before the delay, as Envoy's stream info times the downstream
 * request; any other answer takes no time. Touches no cluster stats: no router ran.
 */
export function recordLocalAnswer(
  metrics: IstioRequestMetrics,
  sets: ResponseLabelSets,
  status: number,
  flags: string,
  grpcStatus: string,
  options: Dispatcher.DispatchOptions,
  responseBytes: number,
  handler: Dispatcher.DispatchHandler,
): void {
  let durationMs = 0;
  if (handler instanceof FaultDelay) {
    flags = withFaultDelayFlag(flags);
    durationMs = performance.now() - handler.startedAt;
  }
  const labels = grpcStatus === '' ? sets.get(status, flags) : sets.grpc.get(status, flags, grpcStatus);
  metrics.record(labels, durationMs, requestBytes(options, parseAuthority(options.origin)), responseBytes);
}

/**
 * Bytes of a response the mesh writes itself (respondLocally): its status line, its headers and
 * the `content-length` it adds, and its body.
 */
export function localResponseBytes(
  status: number,
  headers: Record<string, string>,
  bodyBytes: number,
): number {
  // `content-length: <n>\r\n`
  return responseHeadBytes(status, headers) + 18 + String(bodyBytes).length + bodyBytes;
}

/**
 * Records a request failed with `error` and no response (`NR`, `NC`, `UH`): the local reply
 * Envoy would send, a trailers-only 200 with the mapped status for gRPC; returns its status.
 */
function recordLocalReply(
  metrics: IstioRequestMetrics,
  sets: ResponseLabelSets,
  error: DabbaError,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
): number {
  const flags = responseFlagsOf(error);
  const status = localReplyStatus(flags);
  if (status !== 0 && isGrpcRequest(options.headers)) {
    recordLocalAnswer(metrics, sets, 200, flags, httpToGrpcStatus(status), options, 0, handler);
  } else {
    recordLocalAnswer(metrics, sets, status, flags, '', options, 0, handler);
  }
  return status;
}
