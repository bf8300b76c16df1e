/**
 * The load balancer's view of one upstream endpoint. Built by the cluster compiler from a
 * ClusterLoadAssignment; immutable except for the in-flight count, which the request path
 * updates as attempts start and finish.
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
   * The health the configuration (EDS `health_status`) gives the host. An outlier ejection is
   * runtime state kept beside it (Envoy's FAILED_OUTLIER_CHECK flag beside the EDS health): LB
   * plans read it through `LbPlanOptions.healthOf`.
   */
  readonly health: HostHealth;
  /**
   * Mutable: requests in flight to this endpoint; drives LEAST_REQUEST. The cluster compiler's
   * hosts share one count per endpoint across snapshots, so a request that started on an older
   * snapshot's Host still counts on the newer one.
   */
  activeRequests: number;
}
