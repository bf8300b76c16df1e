/**
 * The xDS v3 message types and schemas other packages use, re-exported from the generated code
 * so that only @dabba/discovery knows where generated files live.
 */
export {
  type CircuitBreakers,
  type CircuitBreakers_Thresholds,
  CircuitBreakersSchema,
} from '#xds/envoy/config/cluster/v3/circuit_breaker_pb.js';
export {
  type Cluster,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
} from '#xds/envoy/config/cluster/v3/cluster_pb.js';
export {
  type OutlierDetection,
  OutlierDetectionSchema,
} from '#xds/envoy/config/cluster/v3/outlier_detection_pb.js';
export {
  HeaderValueOption_HeaderAppendAction,
  type Metadata,
  TrafficDirection,
} from '#xds/envoy/config/core/v3/base_pb.js';
export { HealthStatus } from '#xds/envoy/config/core/v3/health_check_pb.js';
export type {
  LbEndpoint,
  LocalityLbEndpoints,
} from '#xds/envoy/config/endpoint/v3/endpoint_components_pb.js';
export {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
} from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
export { type Listener, ListenerSchema } from '#xds/envoy/config/listener/v3/listener_pb.js';
export {
  type DirectResponseAction,
  type RedirectAction,
  RedirectAction_RedirectResponseCode,
  type RetryPolicy,
  type Route,
  type RouteAction,
  type RouteAction_HashPolicy,
  type VirtualHost,
  type WeightedCluster,
  type WeightedCluster_ClusterWeight,
} from '#xds/envoy/config/route/v3/route_components_pb.js';
export { type RouteConfiguration, RouteConfigurationSchema } from '#xds/envoy/config/route/v3/route_pb.js';
export { type HTTPFault, HTTPFaultSchema } from '#xds/envoy/extensions/filters/http/fault/v3/fault_pb.js';
export {
  type HttpConnectionManager,
  HttpConnectionManager_PathWithEscapedSlashesAction,
  HttpConnectionManagerSchema,
} from '#xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
export {
  type PreviousPrioritiesConfig,
  PreviousPrioritiesConfigSchema,
} from '#xds/envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config_pb.js';
export {
  type HttpProtocolOptions,
  HttpProtocolOptionsSchema,
} from '#xds/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
