/**
 * Decoder for a Cluster (cluster/v3/cluster.proto): discovery type, load-balancing policy and
 * its config, panic threshold, timeouts, upstream HTTP settings, transport sockets, circuit
 * breakers, outlier detection, an inline load assignment and the metadata Dabba reads. Checks
 * what Envoy checks when it loads a cluster (the proto's validation rules and ClusterInfoImpl's
 * own) and refuses what Dabba cannot do as configured, so that a cluster either works as the
 * control plane meant it or is rejected with every reason.
 */
import {
  type Cluster,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
} from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import { HttpProtocolOptionsSchema } from '#xds/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type {
  ClusterDiscoveryType,
  ClusterHttpSettings,
  ClusterLbPolicy,
  ClusterModel,
  IstioServiceRef,
} from '../model/cluster.ts';
import { decodeAny } from '../xds/codec.ts';
import { decodeCircuitBreakers } from './circuit-breakers.ts';
import { decodeEndpoints } from './cluster-load-assignment.ts';
import { type Decoded, IssueSink } from './decoded.ts';
import { deepFreeze } from './deep-freeze.ts';
import { durationMs, optionalDurationMs } from './duration.ts';
import { decodeOutlierDetection } from './outlier-detection.ts';
import { decodeClusterTransport, PLAINTEXT } from './upstream-transport.ts';

const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
/** Envoy's defaults for unset fields (cluster.proto). */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_PANIC_THRESHOLD_PERCENT = 50;
/** The proto's bounds (validate.rules): RingHashLbConfig sizes, MaglevLbConfig table_size. */
const MAX_RING_SIZE = 8_388_608;
const MAX_MAGLEV_TABLE_SIZE = 5_000_011;

const DISCOVERY_TYPES: Record<number, ClusterDiscoveryType | undefined> = {
  [Cluster_DiscoveryType.STATIC]: 'STATIC',
  [Cluster_DiscoveryType.STRICT_DNS]: 'STRICT_DNS',
  [Cluster_DiscoveryType.LOGICAL_DNS]: 'LOGICAL_DNS',
  [Cluster_DiscoveryType.EDS]: 'EDS',
  [Cluster_DiscoveryType.ORIGINAL_DST]: 'ORIGINAL_DST',
};

function discoveryTypeOf(cluster: Cluster, sink: IssueSink): ClusterDiscoveryType {
  const spec = cluster.clusterDiscoveryType;
  if (spec.case === 'clusterType') {
    sink.add('cluster_type', `custom cluster type "${spec.value.name}" is not supported by Dabba`);
    return 'EDS';
  }
  // Unset is proto3's zero, STATIC, on the wire; a message built in code may leave the oneof
  // empty, which Dabba has always read as EDS.
  if (spec.case === undefined) return 'EDS';
  const type = DISCOVERY_TYPES[spec.value];
  if (type === undefined) sink.add('type', `value must be one of the defined enum values, got ${spec.value}`);
  return type ?? 'EDS';
}

const isPrime = (n: number) => {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n >= 2;
};

/** `lb_policy` and its config, checked as the proto and Envoy's load balancers check them. */
function lbPolicyOf(cluster: Cluster, type: ClusterDiscoveryType, sink: IssueSink): ClusterLbPolicy {
  if (cluster.loadBalancingPolicy !== undefined)
    sink.add('load_balancing_policy', 'typed load balancing policies are not supported by Dabba');
  const config = cluster.lbConfig;
  if (type === 'ORIGINAL_DST') {
    if (cluster.lbPolicy !== Cluster_LbPolicy.CLUSTER_PROVIDED)
      sink.add(
        'lb_policy',
        `LB policy ${Cluster_LbPolicy[cluster.lbPolicy] ?? cluster.lbPolicy} is not valid for cluster type ORIGINAL_DST; only CLUSTER_PROVIDED is allowed`,
      );
    return { type: 'CLUSTER_PROVIDED' };
  }
  switch (cluster.lbPolicy) {
    case Cluster_LbPolicy.ROUND_ROBIN:
      return { type: 'ROUND_ROBIN' };
    case Cluster_LbPolicy.RANDOM:
      return { type: 'RANDOM' };
    case Cluster_LbPolicy.LEAST_REQUEST: {
      const cfg = config.case === 'leastRequestLbConfig' ? config.value : undefined;
      const choiceCount = cfg?.choiceCount;
      if (choiceCount !== undefined && choiceCount < 2)
        sink.add('least_request_lb_config.choice_count', `must be at least 2, got ${choiceCount}`);
      return Object.freeze({
        type: 'LEAST_REQUEST',
        ...(choiceCount !== undefined ? { choiceCount } : {}),
        ...(cfg?.activeRequestBias?.defaultValue !== undefined
          ? { activeRequestBias: cfg.activeRequestBias.defaultValue }
          : {}),
      });
    }
    case Cluster_LbPolicy.RING_HASH: {
      const cfg = config.case === 'ringHashLbConfig' ? config.value : undefined;
      const min = cfg?.minimumRingSize === undefined ? undefined : Number(cfg.minimumRingSize);
      const max = cfg?.maximumRingSize === undefined ? undefined : Number(cfg.maximumRingSize);
      for (const [field, size] of [
        ['minimum_ring_size', min],
        ['maximum_ring_size', max],
      ] as const)
        if (size !== undefined && size > MAX_RING_SIZE)
          sink.add(`ring_hash_lb_config.${field}`, `must be at most ${MAX_RING_SIZE}, got ${size}`);
      // ring_hash_lb.cc: the same words Envoy rejects the cluster with.
      if ((min ?? 1024) > (max ?? MAX_RING_SIZE))
        sink.add(
          'ring_hash_lb_config',
          `ring hash: minimum_ring_size (${min ?? 1024}) > maximum_ring_size (${max ?? MAX_RING_SIZE})`,
        );
      return Object.freeze({
        type: 'RING_HASH',
        ...(min !== undefined ? { minimumRingSize: min } : {}),
        ...(max !== undefined ? { maximumRingSize: max } : {}),
      });
    }
    case Cluster_LbPolicy.MAGLEV: {
      const cfg = config.case === 'maglevLbConfig' ? config.value : undefined;
      const size = cfg?.tableSize === undefined ? undefined : Number(cfg.tableSize);
      if (size !== undefined && size > MAX_MAGLEV_TABLE_SIZE)
        sink.add('maglev_lb_config.table_size', `must be at most ${MAX_MAGLEV_TABLE_SIZE}, got ${size}`);
      else if (size !== undefined && !isPrime(size))
        sink.add('maglev_lb_config.table_size', 'The table size of maglev must be prime number');
      return Object.freeze({ type: 'MAGLEV', ...(size !== undefined ? { tableSize: size } : {}) });
    }
    case Cluster_LbPolicy.CLUSTER_PROVIDED:
      sink.add('lb_policy', `CLUSTER_PROVIDED is only valid for cluster type ORIGINAL_DST, not ${type}`);
      return { type: 'CLUSTER_PROVIDED' };
    case Cluster_LbPolicy.LOAD_BALANCING_POLICY_CONFIG:
      sink.add('lb_policy', 'LOAD_BALANCING_POLICY_CONFIG is not supported by Dabba');
      return { type: 'ROUND_ROBIN' };
    default:
      sink.add('lb_policy', `value must be one of the defined enum values, got ${cluster.lbPolicy}`);
      return { type: 'ROUND_ROBIN' };
  }
}

/** Upstream HTTP settings: HttpProtocolOptions, else the deprecated `http2_protocol_options`. */
function httpSettingsOf(cluster: Cluster): ClusterHttpSettings {
  const any = cluster.typedExtensionProtocolOptions[HTTP_PROTOCOL_OPTIONS_KEY];
  if (!any)
    return Object.freeze({
      http2: cluster.http2ProtocolOptions !== undefined,
      idleTimeoutMs: undefined,
      maxRequestsPerConnection: undefined,
    });
  const opts = decodeAny(any, HttpProtocolOptionsSchema);
  const explicit =
    opts.upstreamProtocolOptions.case === 'explicitHttpConfig'
      ? opts.upstreamProtocolOptions.value
      : undefined;
  return Object.freeze({
    http2: explicit?.protocolConfig.case === 'http2ProtocolOptions',
    idleTimeoutMs: optionalDurationMs(opts.commonHttpProtocolOptions?.idleTimeout),
    maxRequestsPerConnection: opts.commonHttpProtocolOptions?.maxRequestsPerConnection,
  });
}

/** The `istio` metadata's `services` entries (Istio's cluster metadata for telemetry). */
function istioServicesOf(cluster: Cluster): readonly IstioServiceRef[] {
  const services = (cluster.metadata?.filterMetadata.istio as { services?: unknown } | undefined)?.services;
  if (!Array.isArray(services)) return [];
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return Object.freeze(
    services
      .filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null)
      .map((s) => Object.freeze({ host: text(s.host), name: text(s.name), namespace: text(s.namespace) })),
  );
}

/** Decodes a Cluster, or every issue with its field path. */
export function decodeCluster(cluster: Cluster, source: string): Decoded<ClusterModel> {
  const sink = new IssueSink(source, { kind: 'Cluster', name: cluster.name });
  if (cluster.name === '') sink.add('name', 'a cluster name is required');
  const discoveryType = discoveryTypeOf(cluster, sink);
  const lbPolicy = lbPolicyOf(cluster, discoveryType, sink);
  const connectTimeout = cluster.connectTimeout;
  if (
    connectTimeout !== undefined &&
    (connectTimeout.seconds < 0n || (connectTimeout.seconds === 0n && connectTimeout.nanos <= 0))
  )
    sink.add('connect_timeout', 'must be greater than 0s');
  const panic = cluster.commonLbConfig?.healthyPanicThreshold?.value;
  if (panic !== undefined && !(panic >= 0 && panic <= 100))
    sink.add('common_lb_config.healthy_panic_threshold.value', `must be within 0 and 100, got ${panic}`);
  const transport = decodeClusterTransport(cluster);
  if ('issues' in transport) sink.addAll(transport.issues);
  const circuitBreakers = decodeCircuitBreakers(cluster.circuitBreakers, sink);
  const outlierDetection = decodeOutlierDetection(cluster.outlierDetection, sink);
  const loadAssignment =
    cluster.loadAssignment === undefined
      ? undefined
      : decodeEndpoints(cluster.loadAssignment, sink, 'load_assignment');
  const portProtocol = (cluster.metadata?.filterMetadata.dabba as { port_protocol?: unknown } | undefined)
    ?.port_protocol;
  return sink.result(
    deepFreeze({
      name: cluster.name,
      discoveryType,
      edsServiceName: cluster.edsClusterConfig?.serviceName || cluster.name,
      loadAssignment,
      lbPolicy,
      panicThresholdPercent: panic ?? DEFAULT_PANIC_THRESHOLD_PERCENT,
      localityWeightedLb: cluster.commonLbConfig?.localityConfigSpecifier.case === 'localityWeightedLbConfig',
      connectTimeoutMs:
        connectTimeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : durationMs(connectTimeout),
      http: httpSettingsOf(cluster),
      transport: 'issues' in transport ? { default: PLAINTEXT, matches: [] } : transport.transport,
      circuitBreakers,
      outlierDetection,
      applicationTls: portProtocol === 'HTTPS' || portProtocol === 'TLS',
      istioServices: istioServicesOf(cluster),
    } satisfies ClusterModel),
  );
}
