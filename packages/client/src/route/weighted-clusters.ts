import type { WeightedClustersModel } from '@dabba/discovery';
import {
  compileHeaderMutations,
  type HeaderMutationLevel,
  type HeaderMutations,
} from './header-mutations.ts';

/** One compiled WeightedCluster.ClusterWeight. */
export interface WeightedClusterEntry {
  /** Cluster name; `''` when the cluster comes from `clusterHeader`. */
  readonly name: string;
  /** Request header naming the cluster (first value), when `name` is empty. */
  readonly clusterHeader: string | undefined;
  readonly weight: number;
  /** ClusterWeight.host_rewrite_literal, applied after this cluster's request headers. */
  readonly hostRewriteLiteral: string | undefined;
  /** This cluster's request ops followed by the route's (route, vhost, config levels): one list. */
  readonly requestHeaderMutations: HeaderMutations;
  /** This cluster's response ops followed by the route's: one list. */
  readonly responseHeaderMutations: HeaderMutations;
}

/** The weighted_clusters part of a compiled route action. */
export interface WeightedClusters {
  readonly clusters: readonly WeightedClusterEntry[];
  /** Sum of the weights; selection is `random % totalWeight`. */
  readonly totalWeight: number;
  /** WeightedCluster.header_name: a request header that supplies the random value. */
  readonly randomValueHeader: string | undefined;
  /** The entry for a random value (any non-negative integer; reduced modulo `totalWeight`). */
  pick(random: number): WeightedClusterEntry;
  /** `pick(random).name`. */
  choose(random: number): string;
}

/**
 * Compiles weighted_clusters as Envoy does (router/weighted_cluster_specifier.cc):
 * - weights are relative; the total is their sum (> 0 and <= 2^32-1, as the decoder checked);
 * - the pick is `random % total`, then the cluster whose cumulative interval
 *   `[begin, begin + weight)` holds it (zero-weight clusters are never picked);
 * - the deprecated `total_weight` is ignored: the proto says "the client will use the sum of
 *   all cluster weights" and current Envoy no longer checks it;
 * - a cluster's own request/response headers are evaluated before the route's levels,
 *   whatever most_specific_header_mutations_wins says (WeightedClusterEntry::finalize*Headers).
 *
 * @param routeRequest,routeResponse the route's already-ordered levels, appended to each cluster's.
 */
export function compileWeightedClusters(
  wc: WeightedClustersModel,
  routeRequest: readonly HeaderMutationLevel[],
  routeResponse: readonly HeaderMutationLevel[],
): WeightedClusters {
  // runtime_key_prefix needs Envoy's runtime; without one Envoy uses the configured weights too.
  let total = 0;
  const entries: WeightedClusterEntry[] = wc.clusters.map((c) => {
    total += c.weight;
    return Object.freeze({
      name: c.name,
      clusterHeader: c.clusterHeader.length > 0 ? c.clusterHeader.toLowerCase() : undefined,
      weight: c.weight,
      hostRewriteLiteral: c.hostRewriteLiteral.length > 0 ? c.hostRewriteLiteral : undefined,
      requestHeaderMutations: compileHeaderMutations([
        { add: c.requestHeadersToAdd, remove: c.requestHeadersToRemove },
        ...routeRequest,
      ]),
      responseHeaderMutations: compileHeaderMutations([
        { add: c.responseHeadersToAdd, remove: c.responseHeadersToRemove },
        ...routeResponse,
      ]),
    });
  });

  // Cumulative interval ends; a binary search finds the first end above the drawn value, which
  // skips zero-weight entries exactly as the linear walk over [begin, end) does.
  const ends = new Float64Array(entries.length);
  let acc = 0;
  entries.forEach((e, i) => {
    acc += e.weight;
    ends[i] = acc;
  });
  const pick = (random: number): WeightedClusterEntry => {
    const value = random % total;
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! > value) hi = mid;
      else lo = mid + 1;
    }
    return entries[lo]!;
  };
  return Object.freeze({
    clusters: Object.freeze(entries),
    totalWeight: total,
    randomValueHeader: wc.headerName?.toLowerCase(),
    pick,
    choose: (random: number) => pick(random).name,
  });
}

const UINT64_DECIMAL = /^[0-9]{1,20}$/;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * The random value Envoy uses for a weighted pick when WeightedCluster.header_name is set: the
 * header's value as a uint64 in base 10, reduced modulo `total`; `undefined` when the header is
 * absent or not a valid uint64 (Envoy then falls back to its own random value).
 */
export function randomValueFromHeader(value: string | undefined, total: number): number | undefined {
  if (value === undefined || !UINT64_DECIMAL.test(value)) return undefined;
  if (value.length <= 15) return Number(value) % total;
  const n = BigInt(value);
  return n > UINT64_MAX ? undefined : Number(n % BigInt(total));
}
