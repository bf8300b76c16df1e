/**
 * @dabba/discovery: configuration in. Sources (Istio YAML files today; xDS from istiod next)
 * become validated, versioned, immutable snapshots of xDS v3 resources.
 */

export type { JsonValue } from '@bufbuild/protobuf';
export { snapshotToConfigDump } from './config-dump.ts';
export type {
  ConfigSource,
  ConfigSubscription,
  SnapshotListener,
  SnapshotOutcome,
} from './config-source.ts';
export {
  decodeCircuitBreakers,
  ENVOY_CIRCUIT_BREAKER_DEFAULTS,
  ENVOY_RETRY_BUDGET_DEFAULTS,
  resolveCircuitBreakers,
} from './decode/circuit-breakers.ts';
export { decodeCluster } from './decode/cluster.ts';
export { decodeClusterLoadAssignment, decodeEndpoints } from './decode/cluster-load-assignment.ts';
export {
  decodeResourcesSteps,
  issuesOf,
  type ResourceRejection,
  rejectionsOf,
  type SnapshotModels,
  type WireResources,
} from './decode/decode-resources.ts';
export { type Decoded, IssueSink } from './decode/decoded.ts';
export { durationMs, optionalDurationMs } from './decode/duration.ts';
export { validateHeaderMatcher } from './decode/header-matcher.ts';
export { decodeListener } from './decode/listener.ts';
export { decodeOutlierDetection, OUTLIER_DEFAULTS } from './decode/outlier-detection.ts';
export { validateQueryParameterMatcher } from './decode/query-parameter-matcher.ts';
export { compileRe2, re2Problem } from './decode/re2.ts';
export {
  decodeRouteConfiguration,
  decodeRouteConfigurationSteps,
} from './decode/route-configuration.ts';
export { validateRouteMatch } from './decode/route-match.ts';
export { validateStringMatcher } from './decode/string-matcher.ts';
export {
  type ClusterTransport,
  decodeClusterTransport,
  PLAINTEXT,
  type SanMatcher,
  type SanType,
  type TlsData,
  type TlsVersion,
  type TransportSocketMatch,
  type TrustAnchor,
  transportForEndpoint,
  type UpstreamTls,
  type UpstreamTransport,
} from './decode/upstream-transport.ts';
export { validateVirtualHostDomains } from './decode/virtual-host-domains.ts';
export {
  ConfigError,
  type ConfigIssue,
  DabbaError,
  type DabbaErrorOptions,
  DiscoveryErrorCode,
  formatIssue,
  type ResourceRef,
  XdsDecodeError,
} from './errors.ts';
export { outboundClusterName, resolveShortName, virtualHostDomains } from './istio/host-names.ts';
export { type IstioFilesOptions, istioFiles } from './istio/istio-files.ts';
export type { IstioResource, IstioResourceSet } from './istio/istio-resource.ts';
export {
  BLACKHOLE_CLUSTER,
  MESH_CONFIG_DEFAULTS,
  type MeshConfig,
  PASSTHROUGH_CLUSTER,
} from './istio/mesh-config.ts';
export { type ParsedYaml, parseIstioYaml } from './istio/parse-istio-yaml.ts';
export { type TranslateResult, translateIstio } from './istio/translate.ts';
export type {
  CircuitBreakerLimits,
  ClusterCircuitBreakers,
  ClusterDiscoveryType,
  ClusterHttpSettings,
  ClusterLbPolicy,
  ClusterModel,
  IstioServiceRef,
  OutlierConfig,
  RetryBudgetLimits,
} from './model/cluster.ts';
export type { DirectResponseModel } from './model/direct-response.ts';
export type {
  EndpointAssignment,
  EndpointHealth,
  EndpointLocality,
  EndpointModel,
  LocalityEndpoints,
} from './model/endpoint-assignment.ts';
export type {
  FractionalPercent,
  FractionalPercentDenominator,
  RuntimeFractionalPercent,
} from './model/fractional-percent.ts';
export type { HashPolicyModel } from './model/hash-policy.ts';
export type { HeaderMatcher, Int64Range } from './model/header-matcher.ts';
export type {
  HeaderAppendAction,
  HeaderMutationLists,
  HeaderValueOptionModel,
} from './model/header-mutations.ts';
export type { FaultAbortModel, FaultDelayModel, HttpFaultModel } from './model/http-fault.ts';
export type {
  EscapedSlashesAction,
  HttpConnectionManagerModel,
  ListenerModel,
  ListenerSettings,
  PathNormalization,
  RouteSource,
} from './model/listener.ts';
export type { MirrorPolicyModel } from './model/mirror-policy.ts';
export type { QueryParameterMatcher } from './model/query-parameter-matcher.ts';
export type { RedirectActionModel, RedirectResponseCode } from './model/redirect-action.ts';
export type { RegexRewriteModel } from './model/regex-rewrite.ts';
export type {
  RateLimitedRetryBackOffModel,
  ResetHeaderFormat,
  ResetHeaderModel,
  RetryBackOffModel,
  RetryHostPredicateModel,
  RetryPolicyModel,
  RetryPriorityModel,
} from './model/retry-policy.ts';
export type { ClusterSpecifierModel, RouteActionModel } from './model/route-action.ts';
export type {
  RouteActionChoice,
  RouteConfigurationModel,
  RouteModel,
  UnsupportedRouteActionModel,
  VirtualHostModel,
} from './model/route-configuration.ts';
export type { RouteMatch } from './model/route-match.ts';
export type { RegexMatcher, StringMatcher } from './model/string-matcher.ts';
export type { ClusterWeightModel, WeightedClustersModel } from './model/weighted-clusters.ts';
export {
  checkConsistency,
  createSnapshot,
  type Snapshot,
  type XdsResourceLists,
  type XdsResources,
} from './snapshot.ts';
export {
  type Locality,
  parseLocality,
  resolveWorkload,
  WORKLOAD_DEFAULTS,
  type Workload,
  type WorkloadOptions,
} from './workload.ts';
export * from './xds/codec.ts';
export * from './xds/registry.ts';
export * from './xds/type-urls.ts';
export * from './xds-types.ts';
