/**
 * `mesh.explain()`: the routing decision for a request, spelled out. It runs the same decision
 * code as the request path and adds what an operator needs to see why: the listener and route
 * configuration, the matched virtual host and route, every weighted cluster with its share, the
 * LB policy, the request hash, and the candidate endpoints by priority with the load each
 * priority receives.
 */

import type { CompiledMesh } from './compile/compile-snapshot.ts';
import { checkDownstream } from './dispatch/downstream-checks.ts';
import { IncomingRequest } from './dispatch/incoming-request.ts';
import { parseTarget } from './dispatch/request-target.ts';
import { resolveRequest } from './dispatch/resolve-request.ts';
import type { Host } from './lb/host.ts';
import type { ClusterRuntime } from './runtime/cluster-runtime.ts';
import type { MeshRuntime } from './runtime/mesh-runtime.ts';

export interface ExplainRequest {
  /** Absolute URL, e.g. `http://reviews:9080/reviews/0`. */
  readonly url: string | URL;
  /** Default `GET`. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

export interface ExplainedEndpoint {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  /** The health picks use: `unhealthy` while ejected, else the configured (EDS) health. */
  readonly health: string;
  /**
   * Outlier detection status, when the cluster has it: whether the host is ejected now, how
   * often it was ejected, and (while ejected) roughly how long until a sweep returns it.
   */
  readonly outlier:
    | { readonly ejected: boolean; readonly ejections: number; readonly returnsInMs: number | undefined }
    | undefined;
  readonly activeRequests: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ExplainedPriority {
  readonly priority: number;
  /** Percent of requests this priority receives now (Envoy's priority load, healthy + degraded). */
  readonly loadPercent: number;
  /** Health percent after the overprovisioning factor (capped at 100). */
  readonly healthPercent: number;
  /** Whether the priority is in panic mode (all hosts used regardless of health). */
  readonly panic: boolean;
  readonly localities: readonly {
    readonly locality: string;
    readonly weight: number | undefined;
    readonly endpoints: readonly ExplainedEndpoint[];
  }[];
}

export interface ExplainedCluster {
  readonly name: string;
  /** Relative weight on the route (weighted_clusters), 100 for a single cluster. */
  readonly weight: number;
  /** Share of the route's requests, percent. */
  readonly sharePercent: number;
  readonly lbPolicy: string;
  readonly panicThresholdPercent: number;
  readonly overprovisioningFactor: number;
  /** Hosts outlier detection ejects now; undefined when the cluster has no outlier detection. */
  readonly ejectedHosts: number | undefined;
  readonly priorities: readonly ExplainedPriority[];
}

export interface Explanation {
  readonly snapshotVersion: string;
  readonly request: {
    readonly method: string;
    readonly authority: string;
    readonly port: number;
    readonly path: string;
    readonly query: string;
  };
  /** The outbound listener port and its route configuration; absent when no listener has the port. */
  readonly listener: { readonly port: number; readonly routeConfiguration: string } | undefined;
  readonly virtualHost: string | undefined;
  readonly route: { readonly name: string; readonly index: number } | undefined;
  /** What happens: forwarded upstream, answered locally, passed through, or failed. */
  readonly outcome: 'upstream' | 'local' | 'passthrough' | 'error';
  readonly clusters: readonly ExplainedCluster[];
  /** The consistent-hash value of the request, as hex, when the cluster hashes. */
  readonly hash: string | undefined;
  readonly local: { readonly status: number; readonly headers: Readonly<Record<string, string>> } | undefined;
  readonly error:
    | { readonly code: string; readonly responseFlag: string | undefined; readonly message: string }
    | undefined;
}

function localityName(l: { region: string; zone: string; subZone: string } | undefined): string {
  if (!l) return '';
  // Istio's `region/zone/subzone` form, without trailing empty parts.
  return `${l.region}/${l.zone}/${l.subZone}`.replace(/\/+$/, '');
}

function explainCluster(state: ClusterRuntime, weight: number, total: number): ExplainedCluster {
  const cluster = state.cluster;
  const plan = state.balancer?.plan;
  const detector = state.outlier?.detector;
  const now = performance.now();
  const outlierOf = (h: Host): ExplainedEndpoint['outlier'] => {
    const s = detector?.hostStatus(h);
    if (s === undefined) return undefined;
    return {
      ejected: s.ejected,
      ejections: s.numEjections,
      // The sweep runs every interval, so the host returns up to one interval after this.
      returnsInMs:
        s.ejectedUntilMs === undefined ? undefined : Math.max(0, Math.round(s.ejectedUntilMs - now)),
    };
  };
  return {
    name: cluster.name,
    weight,
    sharePercent: total > 0 ? Math.round((weight / total) * 10000) / 100 : 100,
    lbPolicy: cluster.lbPolicy,
    panicThresholdPercent: cluster.panicThresholdPercent,
    overprovisioningFactor: cluster.overprovisioningFactor / 100,
    ejectedHosts: detector?.ejectedCount,
    priorities: (plan?.priorities ?? []).map((p) => ({
      priority: p.priority,
      loadPercent: (plan?.healthyLoad[p.priority] ?? 0) + (plan?.degradedLoad[p.priority] ?? 0),
      healthPercent: p.health,
      panic: p.panic,
      localities: p.localities.map((l) => ({
        locality: localityName(l.locality),
        weight: plan?.localityWeighted ? l.weight : undefined,
        endpoints: l.hosts.map((h) => ({
          address: h.address,
          port: h.port,
          weight: h.weight,
          health: state.healthOf(h),
          outlier: outlierOf(h),
          activeRequests: h.activeRequests,
          labels: h.labels,
        })),
      })),
    })),
  };
}

export function explainRequest(
  compiled: CompiledMesh,
  runtime: MeshRuntime,
  request: ExplainRequest,
): Explanation {
  const url = typeof request.url === 'string' ? new URL(request.url) : request.url;
  const target = parseTarget(url.origin);
  const raw: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(request.headers ?? {})) raw[k] = typeof v === 'string' ? v : [...v];
  const table = compiled.routeTables.get(target.port);
  // As the request path: the listener's header limits and path normalization come first.
  const checked = table
    ? checkDownstream(
        compiled.listenerSettings.get(target.port)!,
        `${url.pathname}${url.search}`,
        target.authority,
        raw,
      )
    : `${url.pathname}${url.search}`;
  const view = new IncomingRequest(
    request.method ?? 'GET',
    target.scheme,
    target.authority,
    typeof checked === 'string' ? checked : `${url.pathname}${url.search}`,
    raw,
  );
  const authority = view.authority;
  if (typeof checked !== 'string') {
    return {
      snapshotVersion: compiled.snapshot.version,
      request: { method: view.method, authority, port: target.port, path: view.path, query: view.query },
      listener: {
        port: target.port,
        routeConfiguration: compiled.routeConfigNames.get(target.port) ?? table!.name,
      },
      virtualHost: undefined,
      route: undefined,
      outcome: 'local',
      clusters: [],
      hash: undefined,
      local: { status: checked.status, headers: checked.headers },
      error: undefined,
    };
  }
  const decision = resolveRequest(compiled, runtime, table, target, view, table?.createContext(view));
  const selection = 'selection' in decision ? decision.selection : undefined;
  const base = {
    snapshotVersion: compiled.snapshot.version,
    request: { method: view.method, authority, port: target.port, path: view.path, query: view.query },
    listener: table
      ? { port: target.port, routeConfiguration: compiled.routeConfigNames.get(target.port) ?? table.name }
      : undefined,
    virtualHost: selection?.virtualHost.name,
    route: selection ? { name: selection.route.name, index: selection.route.index } : undefined,
  };
  const none = { clusters: [], hash: undefined, local: undefined, error: undefined };
  switch (decision.kind) {
    case 'error':
      return {
        ...base,
        ...none,
        outcome: 'error',
        error: {
          code: decision.error.code,
          responseFlag: decision.error.responseFlag,
          message: decision.error.message,
        },
      };
    case 'local':
      return {
        ...base,
        ...none,
        outcome: 'local',
        local: { status: decision.status, headers: decision.headers },
      };
    case 'passthrough':
      return { ...base, ...none, outcome: 'passthrough' };
    default:
      break;
  }
  const action = decision.selection.action;
  let clusters: ExplainedCluster[];
  if (action.kind === 'weighted') {
    clusters = action.clusters
      .filter((c) => c.weight > 0)
      .map((c) => {
        const state = runtime.get(c.name);
        return state
          ? explainCluster(state, c.weight, action.totalWeight)
          : {
              name: c.name,
              weight: c.weight,
              sharePercent: (c.weight / action.totalWeight) * 100,
              lbPolicy: 'missing',
              panicThresholdPercent: 0,
              overprovisioningFactor: 0,
              ejectedHosts: undefined,
              priorities: [],
            };
      });
  } else {
    clusters = [explainCluster(decision.state, 100, 100)];
  }
  return {
    ...base,
    outcome: 'upstream',
    clusters,
    hash: decision.hash === undefined ? undefined : decision.hash.toString(16).padStart(16, '0'),
    local: undefined,
    error: undefined,
  };
}
