import type { HashPolicyModel } from './hash-policy.ts';
import type { MirrorPolicyModel } from './mirror-policy.ts';
import type { RegexRewriteModel } from './regex-rewrite.ts';
import type { RetryPolicyModel } from './retry-policy.ts';
import type { WeightedClustersModel } from './weighted-clusters.ts';

/** RouteAction.cluster_specifier. */
export type ClusterSpecifierModel =
  /** Never empty. */
  | { readonly kind: 'cluster'; readonly cluster: string }
  /** Never empty; as configured. */
  | { readonly kind: 'clusterHeader'; readonly header: string }
  | { readonly kind: 'weightedClusters'; readonly weightedClusters: WeightedClustersModel }
  /**
   * A cluster specifier plugin, which Dabba does not implement: the route still takes part in
   * matching (first match wins), and requests it matches fail.
   */
  | {
      readonly kind: 'unsupported';
      readonly field: 'clusterSpecifierPlugin' | 'inlineClusterSpecifierPlugin';
    };

/** route_components.proto RouteAction (Route.route): forward upstream. */
export interface RouteActionModel {
  readonly kind: 'route';
  readonly clusterSpecifier: ClusterSpecifierModel;
  /** `timeout` in milliseconds; undefined when unset (Envoy then uses 15 s), 0 disables it. */
  readonly timeoutMs: number | undefined;
  /** The route's own retry policy; the virtual host's applies when undefined. */
  readonly retryPolicy: RetryPolicyModel | undefined;
  readonly hashPolicy: readonly HashPolicyModel[];
  /** `prefix_rewrite`; `''` when unset. Never set together with `regexRewrite`. */
  readonly prefixRewrite: string;
  readonly regexRewrite: RegexRewriteModel | undefined;
  /** `host_rewrite_literal`; `''` when unset. */
  readonly hostRewriteLiteral: string;
  /** `auto_host_rewrite`. */
  readonly autoHostRewrite: boolean;
  readonly requestMirrorPolicies: readonly MirrorPolicyModel[];
}
