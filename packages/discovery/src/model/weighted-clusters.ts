import type { HeaderMutationLists } from './header-mutations.ts';

/** One WeightedCluster.ClusterWeight. */
export interface ClusterWeightModel extends HeaderMutationLists {
  /** Exactly one of `name` and `clusterHeader` is non-empty. */
  readonly name: string;
  /** Request header whose first value names the cluster; `''` when `name` is set. */
  readonly clusterHeader: string;
  readonly weight: number;
  /** `host_rewrite_literal`; `''` when unset. */
  readonly hostRewriteLiteral: string;
}

/**
 * route_components.proto WeightedCluster: at least one cluster, weights summing to more than 0
 * and at most 2^32-1. `total_weight` (deprecated) and `runtime_key_prefix` are not kept: Envoy
 * uses the sum of the weights, and Dabba has no runtime.
 */
export interface WeightedClustersModel {
  readonly clusters: readonly ClusterWeightModel[];
  /** `header_name`: a request header that supplies the random value; undefined when unset. */
  readonly headerName: string | undefined;
}
