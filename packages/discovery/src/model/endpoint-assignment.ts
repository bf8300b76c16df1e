/**
 * A ClusterLoadAssignment as the data plane uses it: endpoints grouped by locality and priority,
 * with their weights, health and the metadata Dabba reads. Free of protobuf types; frozen.
 * Made by decodeClusterLoadAssignment (decode/cluster-load-assignment.ts).
 */

/** Where an endpoint runs (`envoy.config.core.v3.Locality`); empty strings when unset. */
export interface EndpointLocality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/**
 * An endpoint's health as load balancing reads it: Envoy counts UNHEALTHY, DRAINING and TIMEOUT
 * as unhealthy, DEGRADED as degraded, and UNKNOWN and HEALTHY as healthy.
 */
export type EndpointHealth = 'healthy' | 'degraded' | 'unhealthy';

export interface EndpointModel {
  /** An IP address, or a host name for DNS clusters. */
  readonly address: string;
  readonly port: number;
  /** `load_balancing_weight`: 1 when unset. */
  readonly weight: number;
  readonly health: EndpointHealth;
  /** The workload's labels (`dabba` metadata `labels`), for subsets and metric labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** `envoy.transport_socket_match` metadata: which of the cluster's transports it takes. */
  readonly transportSocketMatch: Readonly<Record<string, unknown>> | undefined;
}

/** One `LocalityLbEndpoints` entry. */
export interface LocalityEndpoints {
  readonly locality: EndpointLocality;
  readonly priority: number;
  /** `load_balancing_weight` of the locality; undefined when unset. */
  readonly weight: number | undefined;
  readonly endpoints: readonly EndpointModel[];
}

export interface EndpointAssignment {
  readonly clusterName: string;
  readonly localities: readonly LocalityEndpoints[];
  /** `policy.overprovisioning_factor`: 140 when unset, as Envoy. */
  readonly overprovisioningFactor: number;
}
