/**
 * A Cluster as the data plane uses it: what Envoy's ClusterInfo holds after the cluster manager
 * read the xDS message, every default applied and every field checked. Free of protobuf types;
 * frozen. Made by decodeCluster (decode/cluster.ts).
 */
import type { ClusterTransport } from '../decode/upstream-transport.ts';
import type { EndpointAssignment } from './endpoint-assignment.ts';

/** `Cluster.type`: how the cluster finds its hosts. */
export type ClusterDiscoveryType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';

/** `lb_policy` with its policy-specific config (`least_request_lb_config`, ...). */
export type ClusterLbPolicy =
  | { readonly type: 'ROUND_ROBIN' }
  | { readonly type: 'LEAST_REQUEST'; readonly choiceCount?: number; readonly activeRequestBias?: number }
  | { readonly type: 'RANDOM' }
  | { readonly type: 'RING_HASH'; readonly minimumRingSize?: number; readonly maximumRingSize?: number }
  | { readonly type: 'MAGLEV'; readonly tableSize?: number }
  /** The cluster picks the host itself (ORIGINAL_DST: the request's own destination). */
  | { readonly type: 'CLUSTER_PROVIDED' };

/** CircuitBreakers.Thresholds.RetryBudget with defaults applied. */
export interface RetryBudgetLimits {
  /** Percent of active plus pending requests that may be retries at once. */
  readonly budgetPercent: number;
  /** The retry limit never drops below this. */
  readonly minRetryConcurrency: number;
}

/** One routing priority's circuit-breaker thresholds, every field resolved. */
export interface CircuitBreakerLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  /** When set, replaces `maxRetries` (Envoy: "the retry budget will override"). */
  readonly retryBudget: RetryBudgetLimits | undefined;
  /** Publish remaining_* gauges. */
  readonly trackRemaining: boolean;
  /** Maximum connection pools per cluster; undefined is unlimited. */
  readonly maxConnectionPools: number | undefined;
}

/** A cluster's `circuit_breakers`, both routing priorities resolved. */
export interface ClusterCircuitBreakers {
  readonly default: CircuitBreakerLimits;
  readonly high: CircuitBreakerLimits;
  /**
   * per_host_thresholds max_connections per priority (Envoy supports only that field per host);
   * undefined means no per-host limit.
   */
  readonly perHostMaxConnections: { readonly default?: number; readonly high?: number };
}

/**
 * A cluster's outlier detection with every field resolved: Envoy's
 * `envoy.config.cluster.v3.OutlierDetection` after Envoy's `DetectorConfig` applied its defaults
 * (source/common/upstream/outlier_detection_impl.{h,cc}). Percentages are 0..100, counts are
 * plain integers, durations are milliseconds.
 */
export interface OutlierConfig {
  /** `interval`: time between ejection sweeps (un-ejection, success rate, failure percentage). */
  readonly intervalMs: number;
  /** `base_ejection_time`: ejection lasts this times the host's ejection multiplier. */
  readonly baseEjectionTimeMs: number;
  /** `max_ejection_time`: cap on one ejection; unset means max(300 s, base_ejection_time). */
  readonly maxEjectionTimeMs: number;
  /** `max_ejection_time_jitter`: a uniform 0..jitter ms added to each ejection. */
  readonly maxEjectionTimeJitterMs: number;
  /** `max_ejection_percent`, capped at 100 as Envoy caps it. */
  readonly maxEjectionPercent: number;
  /** `always_eject_one_host` (Envoy 1.31+): the first ejection ignores max_ejection_percent. */
  readonly alwaysEjectOneHost: boolean;
  readonly consecutive5xx: number;
  readonly enforcingConsecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly enforcingConsecutiveGatewayFailure: number;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly consecutiveLocalOriginFailure: number;
  readonly enforcingConsecutiveLocalOriginFailure: number;
  readonly enforcingSuccessRate: number;
  readonly enforcingLocalOriginSuccessRate: number;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  /** `success_rate_stdev_factor` as configured, in thousandths (1900 means 1.9). */
  readonly successRateStdevFactor: number;
  readonly failurePercentageThreshold: number;
  readonly enforcingFailurePercentage: number;
  readonly enforcingFailurePercentageLocalOrigin: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
}

/** An entry of the cluster's `istio` metadata `services` (the Istio service it stands for). */
export interface IstioServiceRef {
  readonly host: string | undefined;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
}

/** The upstream HTTP settings (`typed_extension_protocol_options` HttpProtocolOptions). */
export interface ClusterHttpSettings {
  /** Speak HTTP/2 with prior knowledge (`explicit_http_config.http2_protocol_options`). */
  readonly http2: boolean;
  /** `common_http_protocol_options.idle_timeout`; undefined when unset. */
  readonly idleTimeoutMs: number | undefined;
  /** `common_http_protocol_options.max_requests_per_connection`; undefined when unset. */
  readonly maxRequestsPerConnection: number | undefined;
}

export interface ClusterModel {
  readonly name: string;
  readonly discoveryType: ClusterDiscoveryType;
  /** The ClusterLoadAssignment an EDS cluster reads: `eds_cluster_config.service_name`, else `name`. */
  readonly edsServiceName: string;
  /** The inline `load_assignment` (STATIC and DNS clusters); undefined when there is none. */
  readonly loadAssignment: EndpointAssignment | undefined;
  readonly lbPolicy: ClusterLbPolicy;
  /** `common_lb_config.healthy_panic_threshold`: 50 when unset, as Envoy. */
  readonly panicThresholdPercent: number;
  /** `common_lb_config.locality_weighted_lb_config` is set. */
  readonly localityWeightedLb: boolean;
  /** `connect_timeout`: 5000 when unset, as Envoy. */
  readonly connectTimeoutMs: number;
  readonly http: ClusterHttpSettings;
  /** The transport sockets (TLS, Istio mTLS, plaintext). */
  readonly transport: ClusterTransport;
  readonly circuitBreakers: ClusterCircuitBreakers;
  /** Resolved `outlier_detection`; undefined when the cluster has none (nothing is ejected). */
  readonly outlierDetection: OutlierConfig | undefined;
  /**
   * The service port is declared HTTPS or TLS (Dabba's `dabba.port_protocol` metadata): its
   * clients speak TLS themselves, so a request to it is never sent in plaintext.
   */
  readonly applicationTls: boolean;
  /** The cluster's `istio` metadata `services`, for Istio's destination metric labels. */
  readonly istioServices: readonly IstioServiceRef[];
}
