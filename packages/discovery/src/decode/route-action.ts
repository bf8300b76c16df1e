import type { RouteAction } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { HashPolicyModel } from '../model/hash-policy.ts';
import type { MirrorPolicyModel } from '../model/mirror-policy.ts';
import type { ClusterSpecifierModel, RouteActionModel } from '../model/route-action.ts';
import type { IssueSink } from './decoded.ts';
import { optionalDurationMs } from './duration.ts';
import { decodeHashPolicy } from './hash-policy.ts';
import { decodeMirrorPolicy } from './mirror-policy.ts';
import { decodeRegexRewrite } from './regex-rewrite.ts';
import { decodeRetryPolicy } from './retry-policy.ts';
import { decodeWeightedClusters } from './weighted-clusters.ts';

/**
 * A RouteAction (route_components.proto). Refused: `path_rewrite_policy`, `host_rewrite_header`,
 * `host_rewrite_path_regex`, `prefix_rewrite` together with `regex_rewrite`, an empty cluster
 * or cluster header, and what the retry, hash, mirror and weighted-cluster decoders refuse.
 * Rate limits, hedging, CORS and the other fields Dabba does not act on are not kept.
 *
 * @param path field path of the RouteAction (`...routes[i].route`).
 */
export function decodeRouteAction(
  a: RouteAction,
  path: string,
  sink: IssueSink,
): RouteActionModel | undefined {
  if (a.pathRewritePolicy !== undefined) sink.add(`${path}.pathRewritePolicy`, 'not supported by Dabba');
  if (a.prefixRewrite.length > 0 && a.regexRewrite !== undefined)
    sink.add(path, 'only one of prefixRewrite, regexRewrite may be specified');
  const regexRewrite =
    a.regexRewrite === undefined
      ? undefined
      : decodeRegexRewrite(a.regexRewrite, `${path}.regexRewrite`, sink);
  const h = a.hostRewriteSpecifier;
  if (h.case === 'hostRewriteHeader' || h.case === 'hostRewritePathRegex')
    sink.add(`${path}.${h.case}`, 'not supported by Dabba');
  const retryPolicy =
    a.retryPolicy === undefined ? undefined : decodeRetryPolicy(a.retryPolicy, `${path}.retryPolicy`, sink);
  const hashPolicy: HashPolicyModel[] = [];
  a.hashPolicy.forEach((hp, i) => {
    const decoded = decodeHashPolicy(hp, `${path}.hashPolicy[${i}]`, sink);
    if (decoded !== undefined) hashPolicy.push(decoded);
  });
  const requestMirrorPolicies: MirrorPolicyModel[] = [];
  a.requestMirrorPolicies.forEach((m, i) => {
    const decoded = decodeMirrorPolicy(m, `${path}.requestMirrorPolicies[${i}]`, sink);
    if (decoded !== undefined) requestMirrorPolicies.push(decoded);
  });
  const clusterSpecifier = decodeClusterSpecifier(a, path, sink);
  if (clusterSpecifier === undefined) return undefined;
  return {
    kind: 'route',
    clusterSpecifier,
    timeoutMs: optionalDurationMs(a.timeout),
    retryPolicy,
    hashPolicy,
    prefixRewrite: a.prefixRewrite,
    regexRewrite,
    hostRewriteLiteral: h.case === 'hostRewriteLiteral' ? h.value : '',
    autoHostRewrite: h.case === 'autoHostRewrite' && h.value.value,
    requestMirrorPolicies,
  };
}

function decodeClusterSpecifier(
  a: RouteAction,
  path: string,
  sink: IssueSink,
): ClusterSpecifierModel | undefined {
  const c = a.clusterSpecifier;
  switch (c.case) {
    case 'cluster':
      if (c.value.length === 0) sink.add(`${path}.cluster`, 'must not be empty');
      return { kind: 'cluster', cluster: c.value };
    case 'clusterHeader':
      if (c.value.length === 0) sink.add(`${path}.clusterHeader`, 'must not be empty');
      return { kind: 'clusterHeader', header: c.value };
    case 'weightedClusters': {
      const weightedClusters = decodeWeightedClusters(c.value, `${path}.weightedClusters`, sink);
      return weightedClusters === undefined ? undefined : { kind: 'weightedClusters', weightedClusters };
    }
    case 'clusterSpecifierPlugin':
    case 'inlineClusterSpecifierPlugin':
      return { kind: 'unsupported', field: c.case };
    case undefined:
      sink.add(path, 'one of cluster, clusterHeader, weightedClusters is required');
      return undefined;
  }
}
