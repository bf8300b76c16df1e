import type { WeightedCluster } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { ClusterWeightModel, WeightedClustersModel } from '../model/weighted-clusters.ts';
import type { IssueSink } from './decoded.ts';
import { decodeHeaderMutationLists } from './header-mutations.ts';

const UINT32_MAX = 0xffff_ffff;

/**
 * A WeightedCluster, checked as Envoy checks it (router/weighted_cluster_specifier.cc): at
 * least one cluster; each with a `weight` and exactly one of `name`, `cluster_header`; the
 * weights summing to more than 0 and at most 2^32-1.
 *
 * @param path field path of the WeightedCluster.
 */
export function decodeWeightedClusters(
  wc: WeightedCluster,
  path: string,
  sink: IssueSink,
): WeightedClustersModel | undefined {
  if (wc.clusters.length === 0) {
    sink.add(`${path}.clusters`, 'at least one cluster is required');
    return undefined;
  }
  let total = 0;
  let weighed = true;
  const clusters: ClusterWeightModel[] = wc.clusters.map((c, i) => {
    const at = `${path}.clusters[${i}]`;
    if ((c.name.length === 0) === (c.clusterHeader.length === 0))
      sink.add(
        at,
        c.name.length === 0
          ? 'At least one of name or cluster_header need to be specified'
          : 'Only one of name or cluster_header can be specified',
      );
    if (c.weight === undefined) {
      sink.add(`${at}.weight`, 'weight is required');
      weighed = false;
    }
    total += c.weight ?? 0;
    const host = c.hostRewriteSpecifier.case === 'hostRewriteLiteral' ? c.hostRewriteSpecifier.value : '';
    return {
      name: c.name,
      clusterHeader: c.clusterHeader,
      weight: c.weight ?? 0,
      hostRewriteLiteral: host,
      ...decodeHeaderMutationLists(c, `${at}.`, sink),
    };
  });
  // Only a sum over every weight says something about the configuration.
  if (weighed && total === 0)
    sink.add(`${path}.clusters`, 'Sum of weights in the weighted_cluster must be greater than 0.');
  if (total > UINT32_MAX) sink.add(`${path}.clusters`, `sum of weights exceeds ${UINT32_MAX}`);
  const header = wc.randomValueSpecifier.case === 'headerName' ? wc.randomValueSpecifier.value : '';
  return { clusters, headerName: header.length > 0 ? header : undefined };
}
