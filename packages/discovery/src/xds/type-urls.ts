/**
 * xDS v3 type URLs: the `type_url` of an `Any` and of a DiscoveryRequest, and the `@type` of an
 * Any in proto3 JSON. Spelled out as string literals (rather than derived from the generated
 * schemas) so that code matching on a type URL does not have to load the generated descriptors.
 * A test checks every value against the generated registry.
 */

/** Prefix Envoy and every xDS control plane put before the message's full name. */
export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Type URLs of the xDS v3 resources and typed extensions Dabba understands. */
export const XdsTypeUrl = {
  // Resources served by the discovery services (LDS, RDS, SRDS, CDS, EDS, SDS).
  LISTENER: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  ROUTE_CONFIGURATION: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  SCOPED_ROUTE_CONFIGURATION: 'type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration',
  VIRTUAL_HOST: 'type.googleapis.com/envoy.config.route.v3.VirtualHost',
  CLUSTER: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  CLUSTER_LOAD_ASSIGNMENT: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  SECRET: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',

  // The discovery protocol itself.
  DISCOVERY_REQUEST: 'type.googleapis.com/envoy.service.discovery.v3.DiscoveryRequest',
  DISCOVERY_RESPONSE: 'type.googleapis.com/envoy.service.discovery.v3.DiscoveryResponse',
  DELTA_DISCOVERY_REQUEST: 'type.googleapis.com/envoy.service.discovery.v3.DeltaDiscoveryRequest',
  DELTA_DISCOVERY_RESPONSE: 'type.googleapis.com/envoy.service.discovery.v3.DeltaDiscoveryResponse',
  RESOURCE: 'type.googleapis.com/envoy.service.discovery.v3.Resource',
  BOOTSTRAP: 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap',

  // Filters (in Listener filter chains and HttpConnectionManager http_filters).
  HTTP_CONNECTION_MANAGER:
    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  ROUTER: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  HTTP_FAULT: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  RBAC: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
  RBAC_PER_ROUTE: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute',

  // Transport sockets and cluster extensions.
  UPSTREAM_TLS_CONTEXT: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  RAW_BUFFER: 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
  DOWNSTREAM_TLS_CONTEXT:
    'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  AGGREGATE_CLUSTER_CONFIG: 'type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig',
  HTTP_PROTOCOL_OPTIONS: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',

  // Load-balancing policies (Cluster.load_balancing_policy).
  LB_ROUND_ROBIN: 'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin',
  LB_LEAST_REQUEST:
    'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest',
  LB_RANDOM: 'type.googleapis.com/envoy.extensions.load_balancing_policies.random.v3.Random',
  LB_RING_HASH: 'type.googleapis.com/envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash',
  LB_MAGLEV: 'type.googleapis.com/envoy.extensions.load_balancing_policies.maglev.v3.Maglev',
  LB_PICK_FIRST: 'type.googleapis.com/envoy.extensions.load_balancing_policies.pick_first.v3.PickFirst',
  LB_WRR_LOCALITY: 'type.googleapis.com/envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality',
  LB_CLIENT_SIDE_WEIGHTED_ROUND_ROBIN:
    'type.googleapis.com/envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin',
  LB_CLUSTER_PROVIDED:
    'type.googleapis.com/envoy.extensions.load_balancing_policies.cluster_provided.v3.ClusterProvided',
  LB_SUBSET: 'type.googleapis.com/envoy.extensions.load_balancing_policies.subset.v3.Subset',

  // Admin and status.
  CLIENT_CONFIG: 'type.googleapis.com/envoy.service.status.v3.ClientConfig',
  CONFIG_DUMP: 'type.googleapis.com/envoy.admin.v3.ConfigDump',
} as const;

/** One of the type URLs in {@link XdsTypeUrl}. */
export type XdsTypeUrl = (typeof XdsTypeUrl)[keyof typeof XdsTypeUrl];

/** Builds the type URL of a message from its full name, e.g. `envoy.config.cluster.v3.Cluster`. */
export function typeUrlOf(typeName: string): string {
  return TYPE_URL_PREFIX + typeName;
}

/**
 * Full message name of a type URL: the part after the last `/`, which is how Envoy and the
 * protobuf runtimes resolve type URLs whatever their host part.
 */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
