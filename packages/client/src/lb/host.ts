/**
 * The load balancer's view of one upstream endpoint. Built by the cluster compiler from a
 * ClusterLoadAssignment; immutable except for the live counters, which the connection layer
 * updates as requests start and finish.
 */
export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** Envoy's host health as the LB sees it (config/core/v3/health_check.proto HealthStatus, folded). */
export type HostHealth = 'healthy' | 'degraded' | 'unhealthy';

export interface Host {
  /** `ip:port` (or `host:port` for DNS endpoints); unique within a cluster. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** Endpoint load_balancing_weight, >= 1 (Envoy defaults a missing weight to 1). */
  readonly weight: number;
  readonly locality: Locality;
  /** Endpoint labels (Istio puts workload labels in filter metadata "istio"). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Mutable: the health the LB plan reads: `edsHealth`, or `unhealthy` while outlier detection
   * ejects the host (Envoy's FAILED_OUTLIER_CHECK flag beside the EDS health).
   */
  health: HostHealth;
  /**
   * Mutable: the health the configuration (EDS `health_status`) gives the host, kept apart so an
   * ejection ending restores it. Set by the cluster compiler; absent on hosts built elsewhere,
   * where `health` is the configured health.
   */
  edsHealth?: HostHealth;
  /** Mutable: requests in flight to this host; drives LEAST_REQUEST. */
  activeRequests: number;
}
