/**
 * The routing decision for one request, as a pure function of the compiled configuration and the
 * request: which route, which cluster, which hash, or why none. Shared by the request path and
 * `explain()` so the two can never disagree. Picking the endpoint is left to the caller.
 */
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import type { CompiledMesh } from '../compile/compile-snapshot.ts';
import {
  ClientErrorCode,
  ClusterNotFoundError,
  type DabbaError,
  NoRouteError,
  ResponseFlag,
  UpstreamTlsUnavailableError,
} from '../errors.ts';
import type { CompiledFault } from '../resilience/fault.ts';
import type { HeaderMutations } from '../route/header-mutations.ts';
import type { MatchContext } from '../route/match/index.ts';
import type { ForwardingPolicy, HashPolicy } from '../route/route-action.ts';
import type { RouteSelection, RouteTable } from '../route/route-table.ts';
import { randomValueFromHeader, type WeightedClusterEntry } from '../route/weighted-clusters.ts';
import type { ClusterRuntime } from '../runtime/cluster-runtime.ts';
import type { MeshRuntime } from '../runtime/mesh-runtime.ts';
import type { IncomingRequest } from './incoming-request.ts';
import { compileRequestHasher, type RequestHasher } from './request-hash.ts';
import type { RequestTarget } from './request-target.ts';

export type Decision =
  | { readonly kind: 'error'; readonly error: DabbaError; readonly selection?: RouteSelection | undefined }
  | {
      readonly kind: 'local';
      readonly status: number;
      readonly headers: Record<string, string>;
      readonly body: Uint8Array | undefined;
      readonly selection: RouteSelection | undefined;
    }
  | { readonly kind: 'passthrough'; readonly selection: RouteSelection | undefined }
  | {
      readonly kind: 'upstream';
      readonly selection: RouteSelection;
      readonly policy: ForwardingPolicy;
      readonly cluster: CompiledCluster;
      /** The cluster's runtime state (the balancer to pick from, admission, outlier detection). */
      readonly state: ClusterRuntime;
      /** The weighted entry picked, when the route splits by weight. */
      readonly entry: WeightedClusterEntry | undefined;
      readonly requestHeaderMutations: HeaderMutations;
      readonly responseHeaderMutations: HeaderMutations;
      readonly hash: bigint | undefined;
    };

const hashers = new WeakMap<readonly HashPolicy[], RequestHasher | null>();

function hasherFor(policies: readonly HashPolicy[]): RequestHasher | undefined {
  let h = hashers.get(policies);
  if (h === undefined) {
    h = compileRequestHasher(policies) ?? null;
    hashers.set(policies, h);
  }
  return h ?? undefined;
}

function firstHeader(request: IncomingRequest, name: string): string | undefined {
  const v = request.values(name)?.[0];
  return v === '' ? undefined : v;
}

/** Decides where a request goes. `table` is the route table of the request's port, if any. */
export function resolveRequest(
  compiled: CompiledMesh,
  runtime: MeshRuntime,
  table: RouteTable | undefined,
  target: RequestTarget,
  request: IncomingRequest,
  ctx: MatchContext | undefined,
): Decision {
  const where = { authority: request.authority, path: request.path };
  if (!table) {
    if (compiled.passthroughUnknownPorts) return { kind: 'passthrough', selection: undefined };
    return { kind: 'error', error: new NoRouteError(where, `no listener for port ${target.port}`) };
  }
  const selection = table.select(request, ctx);
  if (!selection)
    return {
      kind: 'error',
      error: new NoRouteError(where, `no virtual host or route of "${table.name}" matches`),
    };
  const action = selection.action;
  switch (action.kind) {
    case 'direct':
      return {
        kind: 'local',
        status: action.status,
        headers: action.body === undefined ? {} : { 'content-type': 'text/plain' },
        body: typeof action.body === 'string' ? Buffer.from(action.body) : action.body,
        selection,
      };
    case 'redirect':
      return {
        kind: 'local',
        status: action.status,
        headers: { location: action.redirectLocation(request) },
        body: undefined,
        selection,
      };
    case 'unsupported':
      return {
        kind: 'error',
        error: new NoRouteError(where, `route action ${action.field} is not supported`),
        selection,
      };
    default:
      break;
  }
  let clusterName: string | undefined;
  let entry: WeightedClusterEntry | undefined;
  if (action.kind === 'cluster') clusterName = action.cluster;
  else if (action.kind === 'clusterHeader') clusterName = firstHeader(request, action.header);
  else {
    const header = action.randomValueHeader;
    const fromHeader =
      header === undefined
        ? undefined
        : randomValueFromHeader(firstHeader(request, header), action.totalWeight);
    const value = fromHeader ?? (ctx ?? table.createContext(request)).randomValue();
    entry = action.pick(value);
    clusterName = entry.clusterHeader === undefined ? entry.name : firstHeader(request, entry.clusterHeader);
  }
  if (clusterName === undefined)
    return { kind: 'error', error: new NoRouteError(where, 'the cluster header is missing'), selection };
  // The runtime holds every cluster of the mesh applied, each with its compiled cluster.
  const state = runtime.get(clusterName);
  if (!state)
    return { kind: 'error', error: new ClusterNotFoundError({ ...where, cluster: clusterName }), selection };
  const cluster = state.cluster;
  if (cluster.kind === 'passthrough') {
    // An original-destination cluster goes through a plain Agent, which has only the URL's
    // scheme: any TLS the cluster or its port asks for is refused, never dropped.
    const refusal = passthroughTlsRefusal(cluster, target.scheme === 'https', where);
    return refusal === undefined
      ? { kind: 'passthrough', selection }
      : { kind: 'error', error: refusal, selection };
  }
  const hasher =
    cluster.consistentHashing && action.hashPolicy.length > 0 ? hasherFor(action.hashPolicy) : undefined;
  return {
    kind: 'upstream',
    selection,
    policy: action,
    cluster,
    state,
    entry,
    requestHeaderMutations: entry ? entry.requestHeaderMutations : selection.requestHeaderMutations,
    responseHeaderMutations: entry ? entry.responseHeaderMutations : selection.responseHeaderMutations,
    hash: hasher ? hasher(request) : undefined,
  };
}

/**
 * Why a request cannot go to an original-destination cluster as configured: the cluster's
 * transport originates TLS (a DestinationRule with `loadBalancer: PASSTHROUGH` and `tls`), or
 * its port is HTTPS/TLS and the URL is not `https://`. `undefined` when it can: plaintext, or
 * the application's `https://` (the Agent verifies the server as an HTTPS client does).
 */
function passthroughTlsRefusal(
  cluster: CompiledCluster,
  secure: boolean,
  where: { authority: string; path: string },
): UpstreamTlsUnavailableError | undefined {
  const transport = cluster.transport;
  if (
    transport.default.kind === 'plaintext' &&
    transport.matches.length === 0 &&
    (secure || !cluster.applicationTls)
  )
    return undefined;
  const mtls = transport.default.kind === 'istio-mutual';
  return new UpstreamTlsUnavailableError({
    ...where,
    cluster: cluster.name,
    attempts: 0,
    responseFlags: [ResponseFlag.UPSTREAM_CONNECTION_FAILURE],
    code: mtls ? ClientErrorCode.MTLS_UNAVAILABLE : ClientErrorCode.UPSTREAM_TLS_UNAVAILABLE,
    reason: mtls
      ? 'the cluster requires Istio mutual TLS and this mesh has no workload identity to present; nothing was sent in clear'
      : 'TLS to an original-destination (PASSTHROUGH) cluster is not supported by this version of Dabba; nothing was sent in clear',
  });
}

/** The header Envoy's fault filter reads for `downstream_nodes` (Http::Headers EnvoyDownstreamServiceNode). */
const DOWNSTREAM_NODE_HEADER = 'x-envoy-downstream-service-node';

/**
 * Whether the route's fault may act on this request: Envoy's FaultFilter request checks that
 * need the routing decision. `upstream_cluster` must name the route's cluster (the weighted entry
 * picked; a direct response or redirect has none, so it never matches), and the
 * `x-envoy-downstream-service-node` header must be one of `downstream_nodes` when that is set.
 * (`headers` and `max_active_faults` are refused when the route is compiled.)
 */
export function faultTargets(fault: CompiledFault, decision: Decision, request: IncomingRequest): boolean {
  if (fault.upstreamCluster !== '') {
    const cluster =
      decision.kind === 'upstream'
        ? decision.cluster.name
        : decision.kind === 'error'
          ? (decision.error as { cluster?: string | undefined }).cluster
          : undefined;
    if (cluster !== fault.upstreamCluster) return false;
  }
  if (fault.downstreamNodes.length > 0) {
    const node = firstHeader(request, DOWNSTREAM_NODE_HEADER);
    if (node === undefined || !fault.downstreamNodes.includes(node)) return false;
  }
  return true;
}
