/**
 * Requests the mesh answers itself before any upstream attempt, with what a sidecar records for
 * them: no route (`NR`) or no cluster (`NC`), a route's direct response or redirect, a refusal
 * before routing, and no healthy upstream (`UH`). Each ends its record (observe/request-record.ts:
 * metrics, observer, diagnostics channel), then is answered through local-response.ts.
 */
import type { Dispatcher } from 'undici';
import { NoHealthyUpstreamError } from '../errors.ts';
import type { RequestRecord } from '../observe/request-record.ts';
import type { ClusterRuntime } from '../runtime/cluster-runtime.ts';
import { httpToGrpcStatus, isGrpcRequest } from '../telemetry/grpc-response-status.ts';
import { NO_RESPONSE_FLAGS } from '../telemetry/istio-metric-names.ts';
import type { ResponseLabelSets } from '../telemetry/response-label-sets.ts';
import { responseHeadBytes } from '../telemetry/wire-size.ts';
import type { DownstreamRefusal } from './downstream-checks.ts';
import { failLocally, respondLocally } from './local-response.ts';
import type { MeshContext } from './mesh-context.ts';
import type { Decision } from './resolve-request.ts';

type RouteError = Extract<Decision, { kind: 'error' }>;
type DirectResponse = Extract<Decision, { kind: 'local' }>;

/** Fails a request that reached no cluster (`NR`, `NC`, ...): its destination labels are all `unknown`. */
export function failUnrouted(
  handler: Dispatcher.DispatchHandler,
  decision: RouteError,
  record: RequestRecord,
): void {
  record.endFailedLocally(decision.error, false);
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
  handler: Dispatcher.DispatchHandler,
  decision: DirectResponse,
  record: RequestRecord,
): void {
  const { status, headers, body } = decision;
  const bodyBytes = body?.byteLength ?? 0;
  const routeName = decision.selection?.route.name;
  record.endAnswered(
    status,
    NO_RESPONSE_FLAGS,
    // Envoy's getGrpcStatus: no grpc-status in the answer, so the HTTP status mapped.
    isGrpcRequest(record.options.headers) ? httpToGrpcStatus(status) : '',
    bodyBytes,
    localResponseBytes(status, headers, bodyBytes),
    (observer) => observer.answeredLocally(status, bodyBytes, routeName),
  );
  respondLocally(handler, status, headers, body);
}

/**
 * Answers a request the sidecar's codec or connection manager refuses before routing (header
 * limits, path normalization; downstream-checks.ts): no route, so destination labels `unknown`.
 */
export function refuseDownstream(
  handler: Dispatcher.DispatchHandler,
  refusal: DownstreamRefusal,
  record: RequestRecord,
): void {
  const bodyBytes = refusal.body?.byteLength ?? 0;
  record.endAnswered(
    refusal.status,
    refusal.responseFlags,
    isGrpcRequest(record.options.headers) ? httpToGrpcStatus(refusal.status) : '',
    bodyBytes,
    localResponseBytes(refusal.status, refusal.headers, bodyBytes),
    (observer) =>
      observer.refusedDownstream(refusal.status, refusal.responseFlags, refusal.details, bodyBytes),
  );
  respondLocally(handler, refusal.status, refusal.headers, refusal.body);
}

/** Fails a request whose cluster had no endpoint to pick (`UH`); charged to the cluster, as Envoy's router does. */
export function failNoHealthyUpstream(
  handler: Dispatcher.DispatchHandler,
  state: ClusterRuntime,
  record: RequestRecord,
): void {
  const cluster = state.cluster;
  const request = record.request;
  const error = new NoHealthyUpstreamError({
    authority: request.authority,
    path: request.path,
    cluster: cluster.name,
  });
  record.observer?.routed(cluster.name, record.routeName, cluster.http2);
  record.endFailedLocally(error, true);
  failLocally(handler, error);
}

/**
 * The label sets a request is recorded under: its cluster's when the routing decision has one
 * (the weighted entry picked), PassthroughCluster's for Istio's `allow_any` route and unknown
 * ports, BlackHoleCluster's for its `block_all` route, else the unrouted sets. Called only with
 * metrics on.
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
