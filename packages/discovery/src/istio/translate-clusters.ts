/**
 * Outbound clusters and their endpoint assignments for every service port, named and shaped as
 * istiod names and shapes them for a sidecar (`outbound|<port>|<subset>|<fqdn>`).
 */
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  type CircuitBreakers_Thresholds,
  CircuitBreakers_Thresholds_RetryBudgetSchema,
  CircuitBreakersSchema,
} from '#xds/envoy/config/cluster/v3/circuit_breaker_pb.js';
import {
  type Cluster,
  Cluster_CommonLbConfig_LocalityWeightedLbConfigSchema,
  Cluster_DiscoveryType,
  Cluster_EdsClusterConfigSchema,
  Cluster_LbPolicy,
  Cluster_MaglevLbConfigSchema,
  Cluster_RingHashLbConfigSchema,
  ClusterSchema,
} from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import { OutlierDetectionSchema } from '#xds/envoy/config/cluster/v3/outlier_detection_pb.js';
import { type Metadata, MetadataSchema } from '#xds/envoy/config/core/v3/base_pb.js';
import { ApiVersion } from '#xds/envoy/config/core/v3/config_source_pb.js';
import { HealthStatus } from '#xds/envoy/config/core/v3/health_check_pb.js';
import { UpstreamHttpProtocolOptionsSchema } from '#xds/envoy/config/core/v3/protocol_pb.js';
import { type LbEndpoint, LbEndpointSchema } from '#xds/envoy/config/endpoint/v3/endpoint_components_pb.js';
import {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
} from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  type HttpProtocolOptions,
  HttpProtocolOptions_ExplicitHttpConfigSchema,
  HttpProtocolOptionsSchema,
} from '#xds/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { PercentSchema } from '#xds/envoy/type/v3/percent_pb.js';
import type { Workload } from '../workload.ts';
import type { IstioOutlierDetection } from './destination-rule-schema.ts';
import { outboundClusterName, outboundSni } from './host-names.ts';
import type { DestinationRule } from './istio-resource.ts';
import {
  applyLocalityLoadBalancer,
  type EndpointGroup,
  type GroupEndpoint,
  resolveLocalitySetting,
  withTopologyLabels,
} from './locality-lb.ts';
import type { MeshConfig } from './mesh-config.ts';
import { durationFromMs, MAX_UINT32 } from './proto-values.ts';
import {
  HTTP_PROTOCOLS,
  instancePort,
  labelsMatch,
  type Service,
  type ServiceInstance,
  type ServicePort,
} from './service-registry.ts';
import { type EffectivePolicy, effectivePolicy } from './traffic-policy.ts';
import {
  applyUpstreamTls,
  type ClusterTlsResult,
  endpointSpeaksIstioMtls,
  TRANSPORT_SOCKET_MATCH_KEY,
} from './translate-tls.ts';

/**
 * Ports whose clients speak TLS themselves (istiod routes them by SNI, never as HTTP). Dabba is
 * that client: it marks their clusters so requests to them are always sent over TLS.
 */
const TLS_PROTOCOLS: ReadonlySet<string> = new Set(['HTTPS', 'TLS']);

/** The cluster metadata key Dabba reads a port's protocol from (`port_protocol`). */
export const DABBA_METADATA_KEY = 'dabba';

/** Istio Protocol.IsHTTP2: ports whose upstream connections are HTTP/2. */
const H2_PROTOCOLS: ReadonlySet<string> = new Set(['HTTP2', 'GRPC', 'GRPC-WEB']);

export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

export interface ClusterInputs {
  readonly service: Service;
  readonly port: ServicePort;
  readonly subset: string;
  readonly subsetLabels: Readonly<Record<string, string>> | undefined;
  readonly rule: DestinationRule | undefined;
  readonly workload: Workload;
  readonly mesh: MeshConfig;
  /** Shares endpoint messages between the clusters of one translation; default: none shared. */
  readonly endpointCache?: EndpointCache;
}

/**
 * LbEndpoint messages by workload instance and port. An instance appears in its service's
 * default cluster and in each subset cluster it matches with the same address, port, weight and
 * metadata, so one frozen message serves them all (and its labels are held once).
 */
export interface EndpointCache {
  readonly byInstance: WeakMap<ServiceInstance, Map<string, LbEndpoint>>;
  /** Endpoint metadata by its labels (as JSON): the instances of one version share one. */
  readonly metadataByLabels: Map<string, Metadata>;
}

export function createEndpointCache(): EndpointCache {
  return { byInstance: new WeakMap(), metadataByLabels: new Map() };
}

export interface TranslatedCluster {
  readonly cluster: Cluster;
  /** The EDS resource for the cluster (absent for DNS clusters, which carry load_assignment). */
  readonly assignment: ClusterLoadAssignment | undefined;
  readonly policy: EffectivePolicy;
}

/** Builds one cluster and its endpoints. */
export function translateCluster(input: ClusterInputs): TranslatedCluster {
  const { service, port, subset, rule, workload, mesh } = input;
  const name = outboundClusterName(port.number, subset, service.hostname);
  const policy = effectivePolicy(rule, port.number, subset);
  const dns = service.resolution === 'DNS' || service.resolution === 'DNS_ROUND_ROBIN';
  const cluster = create(ClusterSchema, {
    name,
    altStatName: name,
    connectTimeout: durationFromMs(policy.connectionPool?.tcp?.connectTimeout ?? mesh.connectTimeoutMs),
    clusterDiscoveryType: {
      case: 'type',
      value:
        service.resolution === 'DNS'
          ? Cluster_DiscoveryType.STRICT_DNS
          : service.resolution === 'DNS_ROUND_ROBIN'
            ? Cluster_DiscoveryType.LOGICAL_DNS
            : Cluster_DiscoveryType.EDS,
    },
    commonLbConfig: {},
    metadata: {
      filterMetadata: {
        istio: {
          services: [
            {
              host: service.hostname,
              name: service.hostname.split('.')[0] ?? '',
              namespace: service.namespace,
            },
          ],
          default_original_port: port.number,
          ...(subset ? { subset } : {}),
        },
      },
    },
  });
  if (!dns) {
    cluster.edsClusterConfig = create(Cluster_EdsClusterConfigSchema, {
      serviceName: name,
      edsConfig: { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: ApiVersion.V3 },
    });
  }

  const protocol = applyConnectionPool(cluster, policy, port, mesh);
  const tls = applyUpstreamTls(cluster, {
    tls: policy.tls,
    clusterName: name,
    istioSni: clusterSni(input),
    meshExternal: service.location === 'MESH_EXTERNAL',
    autoMtls: mesh.enableAutoMtls,
    http2: protocol.h2,
    serviceAccounts: serviceAccountsOf(service),
  });
  packProtocolOptions(cluster, protocol.options, tls);
  if (tls.alpnOverrideOff)
    (cluster.metadata!.filterMetadata.istio as Record<string, unknown>).alpn_override = 'false';
  if (TLS_PROTOCOLS.has(port.protocol))
    cluster.metadata!.filterMetadata[DABBA_METADATA_KEY] = { port_protocol: port.protocol };
  const outlier = policy.outlierDetection;
  if (outlier) applyOutlierDetection(cluster, outlier);
  applyLoadBalancer(cluster, policy);

  const locality = resolveLocalitySetting(mesh.localityLbSetting, policy.loadBalancer?.localityLbSetting);
  const enableFailover = cluster.outlierDetection !== undefined;
  if (
    locality?.distribute ||
    (enableFailover &&
      ((locality?.failover?.length ?? 0) > 0 || (locality?.failoverPriority?.length ?? 0) > 0))
  ) {
    cluster.commonLbConfig!.localityConfigSpecifier = {
      case: 'localityWeightedLbConfig',
      value: create(Cluster_CommonLbConfig_LocalityWeightedLbConfigSchema),
    };
  }

  let groups = groupEndpoints(service, port, input.subsetLabels);
  const proxyLabels = withTopologyLabels(workload.labels, workload.locality, workload.network);
  groups = applyLocalityLoadBalancer(
    groups,
    { locality: workload.locality, labels: proxyLabels },
    locality,
    enableFailover,
  );
  const assignment = buildAssignment(
    name,
    groups,
    input.endpointCache ?? createEndpointCache(),
    tls.ruleMode,
  );
  if (dns) {
    cluster.loadAssignment = assignment;
    return { cluster, assignment: undefined, policy };
  }
  return { cluster, assignment, policy };
}

/** SNI Istio would use for this cluster under Istio mTLS (kept for the mTLS layer). */
export function clusterSni(input: Pick<ClusterInputs, 'port' | 'subset' | 'service'>): string {
  return outboundSni(input.port.number, input.subset, input.service.hostname);
}

function groupEndpoints(
  service: Service,
  port: ServicePort,
  subsetLabels: Readonly<Record<string, string>> | undefined,
): EndpointGroup[] {
  const byLocality = new Map<string, EndpointGroup>();
  const instances =
    service.instances.length > 0 || service.resolution !== 'DNS'
      ? service.instances
      : // A DNS ServiceEntry without endpoints resolves its own host name.
        [
          {
            address: service.hostname,
            ports: {},
            labels: {},
            locality: { region: '', zone: '', subZone: '' },
            network: '',
            weight: 1,
            serviceAccount: '',
            // conversion.go: a DNS ServiceEntry without endpoints has no sidecar to speak mTLS to.
            tlsMode: 'disabled',
            identity: undefined,
            origin: `ServiceEntry/${service.entry.name}`,
          },
        ];
  for (const instance of instances) {
    if (subsetLabels && !labelsMatch(subsetLabels, instance.labels)) continue;
    const key = `${instance.locality.region}/${instance.locality.zone}/${instance.locality.subZone}`;
    let group = byLocality.get(key);
    if (!group) {
      group = { locality: instance.locality, priority: 0, weight: 0, endpoints: [] };
      byLocality.set(key, group);
    }
    group.endpoints.push({ instance, port: instancePort(instance, port), weight: instance.weight });
    group.weight += instance.weight;
  }
  return [...byLocality.values()];
}

function buildAssignment(
  clusterName: string,
  groups: EndpointGroup[],
  cache: EndpointCache,
  ruleTlsMode: ClusterTlsResult['ruleMode'],
): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints: groups.map((g) => ({
      locality: { region: g.locality.region, zone: g.locality.zone, subZone: g.locality.subZone },
      priority: g.priority,
      loadBalancingWeight: g.weight,
      lbEndpoints: g.endpoints.map((ep) =>
        lbEndpoint(ep, cache, endpointSpeaksIstioMtls(ruleTlsMode, ep.instance.tlsMode)),
      ),
    })),
  });
}

function lbEndpoint(ep: GroupEndpoint, cache: EndpointCache, istioMtls: boolean): LbEndpoint {
  let byKey = cache.byInstance.get(ep.instance);
  if (!byKey) {
    byKey = new Map();
    cache.byInstance.set(ep.instance, byKey);
  }
  const key = `${ep.port}/${ep.weight}/${istioMtls ? 'mtls' : ''}`;
  const cached = byKey.get(key);
  if (cached) return cached;
  const created = create(LbEndpointSchema, {
    hostIdentifier: {
      case: 'endpoint',
      value: {
        address: {
          address: {
            case: 'socketAddress',
            value: { address: ep.instance.address, portSpecifier: { case: 'portValue', value: ep.port } },
          },
        },
      },
    },
    healthStatus: HealthStatus.HEALTHY,
    loadBalancingWeight: ep.weight,
    metadata: endpointMetadata(ep.instance.labels, cache, istioMtls),
  });
  byKey.set(key, created);
  return created;
}

/**
 * Dabba keeps the workload labels so explain() can show why an endpoint is in a subset. Istio's
 * `istio.workload` origin string is left out: nothing reads it, and without it the metadata
 * depends only on the labels, so the endpoints of one version (thousands, in a large mesh)
 * share one message instead of holding ~6 objects each.
 */
function endpointMetadata(
  labels: Readonly<Record<string, string>>,
  cache: EndpointCache,
  istioMtls: boolean,
): Metadata {
  const key = istioMtls ? `mtls:${JSON.stringify(labels)}` : JSON.stringify(labels);
  let metadata = cache.metadataByLabels.get(key);
  if (!metadata) {
    // A copy, since the snapshot freezes it. `envoy.transport_socket_match` selects the Istio
    // mTLS socket of an auto-mTLS cluster (util.AppendLbEndpointMetadata).
    metadata = create(MetadataSchema, {
      filterMetadata: {
        dabba: { labels: { ...labels } },
        ...(istioMtls ? { [TRANSPORT_SOCKET_MATCH_KEY]: { tlsMode: 'istio' } } : {}),
      },
    });
    cache.metadataByLabels.set(key, metadata);
  }
  return metadata;
}

/**
 * The identities a ServiceEntry service's certificates are checked against when a rule names
 * none: its `subjectAltNames` and the SPIFFE IDs of its workloads, sorted and each once
 * (push_context.go addServiceAccounts).
 */
function serviceAccountsOf(service: Service): string[] {
  const all = new Set<string>(service.entry.spec.subjectAltNames ?? []);
  for (const i of service.instances) if (i.identity !== undefined) all.add(i.identity);
  return [...all].sort();
}

/**
 * clusterWrapper.build(): the upstream HTTP protocol options with what TLS adds (auto_sni,
 * auto_san_validation), packed. Options that name no upstream protocol get HTTP/1.1 explicitly,
 * which Envoy requires of the field.
 */
function packProtocolOptions(
  cluster: Cluster,
  options: HttpProtocolOptions | undefined,
  tls: ClusterTlsResult,
): void {
  if (tls.autoSni || tls.autoSanValidation) {
    options ??= create(HttpProtocolOptionsSchema);
    options.upstreamHttpProtocolOptions = create(UpstreamHttpProtocolOptionsSchema, {
      autoSni: tls.autoSni,
      autoSanValidation: tls.autoSanValidation,
    });
  }
  if (options === undefined) return;
  if (options.upstreamProtocolOptions.case === undefined)
    options.upstreamProtocolOptions = {
      case: 'explicitHttpConfig',
      value: create(HttpProtocolOptions_ExplicitHttpConfigSchema, {
        protocolConfig: { case: 'httpProtocolOptions', value: {} },
      }),
    };
  cluster.typedExtensionProtocolOptions[HTTP_PROTOCOL_OPTIONS_KEY] = anyPack(
    HttpProtocolOptionsSchema,
    options,
  );
}

/**
 * Circuit breakers and the upstream HTTP protocol options (unpacked: TLS may add to them
 * before {@link packProtocolOptions}); `h2` says the cluster speaks HTTP/2 upstream.
 */
function applyConnectionPool(
  cluster: Cluster,
  policy: EffectivePolicy,
  port: ServicePort,
  mesh: MeshConfig,
): { options: HttpProtocolOptions | undefined; h2: boolean } {
  const pool = policy.connectionPool;
  // Istio's default thresholds lift Envoy's 1024 limits to MaxUint32.
  const thresholds: Partial<CircuitBreakers_Thresholds> = {
    maxConnections: MAX_UINT32,
    maxPendingRequests: MAX_UINT32,
    maxRequests: MAX_UINT32,
    maxRetries: MAX_UINT32,
    trackRemaining: true,
  };
  const http = pool?.http;
  if (http?.http2MaxRequests) thresholds.maxRequests = http.http2MaxRequests;
  if (http?.http1MaxPendingRequests) thresholds.maxPendingRequests = http.http1MaxPendingRequests;
  if (http?.maxRetries) thresholds.maxRetries = http.maxRetries;
  if (pool?.tcp?.maxConnections) thresholds.maxConnections = pool.tcp.maxConnections;
  if (policy.retryBudget) {
    // Istio's API reference: budget defaults to 20% of active requests, min concurrency 3.
    thresholds.retryBudget = create(CircuitBreakers_Thresholds_RetryBudgetSchema, {
      budgetPercent: { value: policy.retryBudget.percent?.value ?? 20 },
      minRetryConcurrency: policy.retryBudget.minRetryConcurrency || 3,
    });
  }
  cluster.circuitBreakers = create(CircuitBreakersSchema, { thresholds: [thresholds] });

  // cluster_builder.go setUpstreamProtocol: HTTP/2 ports always speak HTTP/2.
  // cluster_traffic_policy.go shouldH2Upgrade: a rule's UPGRADE/DO_NOT_UPGRADE decides, else the
  // mesh policy, which upgrades HTTP ports only (never TCP or unknown ones).
  const h2 =
    H2_PROTOCOLS.has(port.protocol) ||
    (http?.h2UpgradePolicy === 'UPGRADE'
      ? true
      : http?.h2UpgradePolicy === 'DO_NOT_UPGRADE'
        ? false
        : HTTP_PROTOCOLS.has(port.protocol) && mesh.h2UpgradePolicy === 'UPGRADE');
  const downstream = !h2 && http?.useClientProtocol === true;
  const idleTimeout = http?.idleTimeout ?? pool?.tcp?.idleTimeout;
  const maxRequestsPerConnection = http?.maxRequestsPerConnection ?? 0;
  const maxConnectionDuration = pool?.tcp?.maxConnectionDuration;
  if (
    h2 ||
    downstream ||
    idleTimeout !== undefined ||
    maxRequestsPerConnection > 0 ||
    maxConnectionDuration !== undefined
  ) {
    const options = create(HttpProtocolOptionsSchema, {
      commonHttpProtocolOptions: {
        ...(idleTimeout !== undefined ? { idleTimeout: durationFromMs(idleTimeout) } : {}),
        ...(maxRequestsPerConnection > 0 ? { maxRequestsPerConnection } : {}),
        ...(maxConnectionDuration !== undefined
          ? { maxConnectionDuration: durationFromMs(maxConnectionDuration) }
          : {}),
      },
      upstreamProtocolOptions: h2
        ? {
            case: 'explicitHttpConfig',
            value: {
              protocolConfig: {
                case: 'http2ProtocolOptions',
                value: http?.maxConcurrentStreams ? { maxConcurrentStreams: http.maxConcurrentStreams } : {},
              },
            },
          }
        : { case: 'useDownstreamProtocolConfig', value: {} },
    });
    if (!h2 && !downstream) options.upstreamProtocolOptions = { case: undefined };
    return { options, h2 };
  }
  return { options: undefined, h2 };
}

/** Istio applyOutlierDetection: success-rate ejection off, detectors enforced only when > 0. */
function applyOutlierDetection(cluster: Cluster, outlier: IstioOutlierDetection): void {
  const od = create(OutlierDetectionSchema, { enforcingSuccessRate: 0 });
  if (outlier.consecutiveLocalOriginFailures !== undefined) {
    od.consecutiveLocalOriginFailure = outlier.consecutiveLocalOriginFailures;
    od.enforcingConsecutiveLocalOriginFailure = outlier.consecutiveLocalOriginFailures > 0 ? 100 : 0;
  }
  if (outlier.consecutiveGatewayErrors !== undefined) {
    od.consecutiveGatewayFailure = outlier.consecutiveGatewayErrors;
    od.enforcingConsecutiveGatewayFailure = outlier.consecutiveGatewayErrors > 0 ? 100 : 0;
  }
  const fiveXx = outlier.consecutive5xxErrors ?? outlier.consecutiveErrors;
  if (fiveXx !== undefined) {
    od.consecutive5xx = fiveXx;
    od.enforcingConsecutive5xx = fiveXx > 0 ? 100 : 0;
  }
  if (outlier.interval !== undefined) od.interval = durationFromMs(outlier.interval);
  if (outlier.baseEjectionTime !== undefined) od.baseEjectionTime = durationFromMs(outlier.baseEjectionTime);
  if (outlier.maxEjectionPercent !== undefined && outlier.maxEjectionPercent > 0)
    od.maxEjectionPercent = outlier.maxEjectionPercent;
  if (outlier.splitExternalLocalOriginErrors) od.splitExternalLocalOriginErrors = true;
  cluster.outlierDetection = od;
  // Istio sets the panic threshold from minHealthPercent whenever outlier detection is on
  // (default 0: panic mode off), overriding Envoy's 50%.
  cluster.commonLbConfig!.healthyPanicThreshold = create(PercentSchema, {
    value: outlier.minHealthPercent ?? 0,
  });
}

/** Istio applyLoadBalancer: LEAST_REQUEST unless set; consistent hash -> RING_HASH or MAGLEV. */
function applyLoadBalancer(cluster: Cluster, policy: EffectivePolicy): void {
  const lb = policy.loadBalancer;
  switch (lb?.simple) {
    case 'ROUND_ROBIN':
      cluster.lbPolicy = Cluster_LbPolicy.ROUND_ROBIN;
      break;
    case 'RANDOM':
      cluster.lbPolicy = Cluster_LbPolicy.RANDOM;
      break;
    case 'PASSTHROUGH':
      cluster.lbPolicy = Cluster_LbPolicy.CLUSTER_PROVIDED;
      cluster.clusterDiscoveryType = { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST };
      cluster.edsClusterConfig = undefined;
      break;
    default:
      cluster.lbPolicy = Cluster_LbPolicy.LEAST_REQUEST;
  }
  const hash = lb?.consistentHash;
  if (!hash) return;
  if (hash.maglev) {
    cluster.lbPolicy = Cluster_LbPolicy.MAGLEV;
    cluster.lbConfig = {
      case: 'maglevLbConfig',
      value: create(Cluster_MaglevLbConfigSchema, {
        ...(hash.maglev.tableSize ? { tableSize: BigInt(hash.maglev.tableSize) } : {}),
      }),
    };
    return;
  }
  cluster.lbPolicy = Cluster_LbPolicy.RING_HASH;
  const minimum = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize ?? 1024;
  cluster.lbConfig = {
    case: 'ringHashLbConfig',
    value: create(Cluster_RingHashLbConfigSchema, { minimumRingSize: BigInt(minimum) }),
  };
}
