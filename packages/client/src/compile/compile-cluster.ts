/**
 * Cluster + ClusterLoadAssignment models -> the compiled cluster the request path uses: hosts
 * grouped by priority and locality, Envoy's priority/locality plan, and a load balancer for the
 * cluster's policy. Built once per snapshot change, never per request, and never changed after:
 * what changes while it serves (the balancer outlier detection rebuilds, admission counters,
 * metrics) is the cluster's runtime state (runtime/cluster-runtime.ts), kept by cluster name.
 */
import type {
  ClusterCircuitBreakers,
  ClusterModel,
  ClusterTransport,
  EndpointAssignment,
  OutlierConfig,
  UpstreamTransport,
} from '@dabba/discovery';
import { transportForEndpoint } from '@dabba/discovery';
import type { Host, Locality } from '../lb/host.ts';
import {
  buildLbPlan,
  createLoadBalancer,
  type LbPlan,
  type LbPlanOptions,
  type LbPolicy,
  type LoadBalancer,
  type PriorityInput,
} from '../lb/index.ts';
import type { RandomSource } from '../lb/random-source.ts';
import { UNLIMITED_THRESHOLD } from '../resilience/request-admission.ts';
import {
  type IstioDestinationLabels,
  istioDestinationLabels,
  UNKNOWN_DESTINATION,
} from '../telemetry/istio-peer-labels.ts';
import { EndpointHost, type EndpointLoad } from './endpoint-host.ts';
import { sameData } from './same-data.ts';

/**
 * What the compiler built the cluster's LB plan from, kept (only for clusters with outlier
 * detection) so the balancer can be rebuilt over the same inputs when ejections change.
 */
export interface ClusterLbInputs {
  readonly policy: LbPolicy;
  readonly priorities: readonly PriorityInput[];
  readonly planOptions: LbPlanOptions;
  readonly random: RandomSource;
}

/** The transport requests to `host` of `cluster` use. */
export function transportOf(cluster: CompiledCluster, host: Host): UpstreamTransport {
  return cluster.hostTransports?.get(host) ?? cluster.transport.default;
}

/** Envoy's default when an assignment leaves `overprovisioning_factor` unset. */
const DEFAULT_OVERPROVISIONING_FACTOR = 140;

/** How a cluster finds its hosts. */
export type ClusterKind = 'endpoints' | 'passthrough' | 'blackhole';

export interface CompiledCluster {
  readonly name: string;
  readonly kind: ClusterKind;
  /** The Envoy LB policy name (`LEAST_REQUEST`, `RING_HASH`, ...). */
  readonly lbPolicy: string;
  readonly hosts: readonly Host[];
  /**
   * The balancer over the configured health. The request path picks from the cluster's runtime
   * state, which starts with this one and swaps in rebuilt ones while hosts are ejected.
   */
  readonly balancer: LoadBalancer | undefined;
  /** The cluster's resolved `outlier_detection`; undefined when it has none (nothing is ejected). */
  readonly outlierConfig: OutlierConfig | undefined;
  /** The LB plan's inputs, kept only with outlier detection so the balancer can be rebuilt. */
  readonly lbInputs: ClusterLbInputs | undefined;
  /** Speak HTTP/2 (prior knowledge) to the hosts. */
  readonly http2: boolean;
  /** The cluster's transport sockets (TLS, Istio mTLS, plaintext), decoded. */
  readonly transport: ClusterTransport;
  /**
   * The transport of each host, when `transport_socket_matches` give hosts different ones
   * (auto mTLS); `undefined` when every host uses the cluster's default.
   */
  readonly hostTransports: ReadonlyMap<Host, UpstreamTransport> | undefined;
  /**
   * The port is declared HTTPS or TLS (Istio ServiceEntry): its clients speak TLS themselves,
   * so a request to it is never sent in plaintext.
   */
  readonly applicationTls: boolean;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number | undefined;
  readonly maxRequestsPerConnection: number | undefined;
  /** The cluster's `circuit_breakers`, resolved (Envoy's defaults where absent). */
  readonly circuitBreakers: ClusterCircuitBreakers;
  /**
   * undici `connections` of each endpoint pool: `max_connections` split evenly across the
   * cluster's hosts (see {@link connectionsPerEndpoint}); undefined when unlimited.
   */
  readonly connectionsPerEndpoint: number | undefined;
  /** Requests the cluster's connections carry at once (HTTP/1.1); Infinity when unbounded. */
  readonly requestCapacity: number;
  readonly panicThresholdPercent: number;
  readonly overprovisioningFactor: number;
  /** Whether hashing policies apply (RING_HASH, MAGLEV). */
  readonly consistentHashing: boolean;
  /**
   * Istio's `destination_*` metric labels for this cluster, from its `istio.services` metadata
   * and its endpoints' labels (telemetry/istio-peer-labels.ts). Computed at compile time.
   */
  readonly istioDestination: IstioDestinationLabels;
  /** What it was compiled from: a cluster whose models are unchanged is not compiled again. */
  readonly model: ClusterModel;
  readonly assignment: EndpointAssignment | undefined;
}

/**
 * Immutable pieces that Hosts of different clusters can share: `ip:port` key strings and
 * Locality objects. An endpoint appears in several clusters (Istio: the service's cluster and
 * one per matching subset), and each cluster needs its own Host (Envoy keeps per-cluster host
 * state: in-flight requests for LEAST_REQUEST, health, connection pools), but the values
 * inside can be one copy. One interner lives for one snapshot compile.
 */
export interface CompileInterner {
  readonly keys: Map<string, string>;
  readonly localities: Map<string, Locality>;
}

export function createCompileInterner(): CompileInterner {
  return { keys: new Map(), localities: new Map() };
}

function internKey(interner: CompileInterner, key: string): string {
  const shared = interner.keys.get(key);
  if (shared !== undefined) return shared;
  interner.keys.set(key, key);
  return key;
}

function internLocality(interner: CompileInterner, region: string, zone: string, subZone: string): Locality {
  const id = `${region}\u0000${zone}\u0000${subZone}`;
  let locality = interner.localities.get(id);
  if (locality === undefined) {
    locality = Object.freeze({ region, zone, subZone });
    interner.localities.set(id, locality);
  }
  return locality;
}

/**
 * Compiles one cluster. `previous` (the same cluster in the snapshot in force) is returned as it
 * is when neither model changed, so an unchanged cluster keeps its balancer (and its position);
 * otherwise it lends the in-flight counts of its endpoints to the new hosts. Nothing of
 * `previous` is written.
 */
export function compileCluster(
  cluster: ClusterModel,
  assignment: EndpointAssignment | undefined,
  previous: CompiledCluster | undefined,
  random: () => number,
  interner: CompileInterner = createCompileInterner(),
): CompiledCluster {
  if (
    previous !== undefined &&
    sameData(previous.model, cluster) &&
    sameData(previous.assignment, assignment)
  )
    return previous;
  const cla = assignment ?? cluster.loadAssignment;
  const policy = cluster.lbPolicy;
  const { http, transport, circuitBreakers, applicationTls, connectTimeoutMs } = cluster;
  const panicThresholdPercent = cluster.panicThresholdPercent;
  const overprovisioningFactor = cla?.overprovisioningFactor ?? DEFAULT_OVERPROVISIONING_FACTOR;
  const outlierConfig = cluster.outlierDetection;
  if (policy.type === 'CLUSTER_PROVIDED') {
    return {
      name: cluster.name,
      kind: 'passthrough',
      lbPolicy: 'CLUSTER_PROVIDED',
      hosts: [],
      balancer: undefined,
      // No hosts of its own to eject (Envoy has no outlier detection for ORIGINAL_DST either).
      outlierConfig: undefined,
      lbInputs: undefined,
      http2: http.http2,
      transport,
      hostTransports: undefined,
      applicationTls,
      connectTimeoutMs,
      idleTimeoutMs: http.idleTimeoutMs,
      maxRequestsPerConnection: http.maxRequestsPerConnection,
      circuitBreakers,
      // Passthrough requests go through an Agent of their own, outside the cluster's pools.
      connectionsPerEndpoint: undefined,
      requestCapacity: Infinity,
      panicThresholdPercent,
      overprovisioningFactor,
      consistentHashing: false,
      // Bounded cardinality: the original destination is request data, never a label.
      istioDestination: UNKNOWN_DESTINATION,
      model: cluster,
      assignment,
    };
  }

  // The in-flight count of each endpoint that survives, by key.
  let loads: Map<string, EndpointLoad> | undefined;
  if (previous !== undefined && previous.hosts.length > 0) {
    loads = new Map();
    for (const h of previous.hosts) if (h instanceof EndpointHost) loads.set(h.key, h.load);
  }
  let hostCount = 0;
  const groups: (readonly Host[])[] = [];
  // With transport socket matches, each host's transport follows its endpoint metadata.
  const hostTransports = transport.matches.length > 0 ? new Map<Host, UpstreamTransport>() : undefined;
  const priorities: { locality: Locality; weight: number | undefined; hosts: readonly Host[] }[][] = [];
  for (const group of cla?.localities ?? []) {
    const { region, zone, subZone } = group.locality;
    const locality = internLocality(interner, region, zone, subZone);
    const groupHosts: Host[] = [];
    for (const endpoint of group.endpoints) {
      const { address, port, weight, health, labels } = endpoint;
      const key = internKey(interner, `${address}:${port}`);
      const host = new EndpointHost(
        key,
        address,
        port,
        weight,
        locality,
        labels,
        health,
        loads?.get(key) ?? { active: 0 },
      );
      hostTransports?.set(host, transportForEndpoint(transport, endpoint.transportSocketMatch));
      groupHosts.push(host);
    }
    hostCount += groupHosts.length;
    const level = priorities[group.priority] ?? [];
    priorities[group.priority] = level;
    // Frozen, so the plan keeps this array as the locality's host list instead of copying it;
    // sliced, because a pushed-to array keeps spare capacity for as long as it lives.
    const frozenHosts = Object.freeze(groupHosts.slice());
    groups.push(frozenHosts);
    level.push({ locality, weight: group.weight, hosts: frozenHosts });
  }
  for (let p = 0; p < priorities.length; p++) priorities[p] ??= [];
  const localityWeighted = cluster.localityWeightedLb;
  const input: PriorityInput[] = priorities.map((level) =>
    level.map((g) => ({
      locality: g.locality,
      hosts: g.hosts,
      ...(localityWeighted && g.weight !== undefined ? { weight: g.weight } : {}),
    })),
  );
  const planOptions: LbPlanOptions = {
    overprovisioningFactor,
    panicThreshold: panicThresholdPercent,
    localityWeightedLb: localityWeighted,
  };
  const plan = buildLbPlan(input, planOptions);
  const balancer = hostCount > 0 ? createLoadBalancer(policy, plan, { random }) : undefined;
  const perEndpoint = connectionsPerEndpoint(circuitBreakers, hostCount);
  // HTTP/2 multiplexes: a connection has no fixed request capacity, so only max_requests applies.
  const requestCapacity = http.http2 || perEndpoint === undefined ? Infinity : perEndpoint * hostCount;
  return {
    name: cluster.name,
    kind: cluster.discoveryType === 'STATIC' && hostCount === 0 ? 'blackhole' : 'endpoints',
    lbPolicy: policy.type,
    hosts: allHosts(plan, groups, hostCount),
    balancer,
    outlierConfig,
    lbInputs: outlierConfig === undefined ? undefined : { policy, priorities: input, planOptions, random },
    http2: http.http2,
    transport,
    hostTransports,
    applicationTls,
    connectTimeoutMs,
    idleTimeoutMs: http.idleTimeoutMs,
    maxRequestsPerConnection: http.maxRequestsPerConnection,
    circuitBreakers,
    connectionsPerEndpoint: perEndpoint,
    requestCapacity,
    panicThresholdPercent,
    overprovisioningFactor,
    consistentHashing: policy.type === 'RING_HASH' || policy.type === 'MAGLEV',
    istioDestination: istioDestinationLabels({
      istioServices: cluster.istioServices,
      endpointLabels: groups.flatMap((g) => g.map((h) => h.labels)),
    }),
    model: cluster,
    assignment,
  };
}

/**
 * Envoy's `max_connections` is one budget for the whole cluster; undici limits connections per
 * pool. Dabba gives each endpoint pool `floor(max_connections / hosts)` connections, at least
 * one: the cluster never exceeds the limit, except that every host may have one connection,
 * which Envoy allows too (a host's pool may always open its first connection). A per-host
 * limit (per_host_thresholds) caps it further. Undefined (unlimited) for Istio's MaxUint32.
 */
export function connectionsPerEndpoint(cb: ClusterCircuitBreakers, hostCount: number): number | undefined {
  const max = cb.default.maxConnections;
  const perHost = cb.perHostMaxConnections.default;
  const split =
    max >= UNLIMITED_THRESHOLD || hostCount === 0 ? undefined : Math.max(1, Math.floor(max / hostCount));
  if (perHost === undefined || perHost >= UNLIMITED_THRESHOLD) return split;
  return Math.max(1, split === undefined ? perHost : Math.min(split, perHost));
}

/**
 * Every host of the cluster in assignment order. With one priority (the usual case) that is
 * the plan's level list already, so the cluster keeps no second copy.
 */
function allHosts(plan: LbPlan, groups: readonly (readonly Host[])[], count: number): readonly Host[] {
  const levels = plan.priorities;
  if (levels.length === 1 && levels[0]!.hosts.length === count) return levels[0]!.hosts;
  const hosts: Host[] = [];
  for (const group of groups) for (const h of group) hosts.push(h);
  return Object.freeze(hosts);
}
