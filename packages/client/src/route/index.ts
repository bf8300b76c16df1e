export {
  applyHeaderMutations,
  compileHeaderMutations,
  type HeaderMutationLevel,
  type HeaderMutations,
  type HeaderOp,
} from './header-mutations.ts';
export { compilePathRewrite, matchedLength, type PathRewrite, type PathRewriter } from './path-rewrite.ts';
export { compileRedirect, type RedirectRoute } from './redirect.ts';
export { compileRegexRewrite, type RegexRewrite } from './regex-rewrite.ts';
export {
  type ClusterHeaderRoute,
  type ClusterRoute,
  type CompiledRouteAction,
  DEFAULT_ROUTE_TIMEOUT_MS,
  type DirectResponseRoute,
  type ForwardingPolicy,
  type HashPolicy,
  type UnsupportedRoute,
  type WeightedRoute,
} from './route-action.ts';
export {
  buildRouteIndex,
  type IndexedRoute,
  type PathPattern,
  pathPatternOf,
  type RouteIndex,
} from './route-index.ts';
export {
  clusterFor,
  compileRouteTable,
  type RouteSelection,
  type RouteTable,
  type RouteTableOptions,
} from './route-table.ts';
export {
  compileWeightedClusters,
  randomValueFromHeader,
  type WeightedClusterEntry,
  type WeightedClusters,
} from './weighted-clusters.ts';
