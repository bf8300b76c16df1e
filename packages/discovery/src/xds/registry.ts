/**
 * One protobuf-es registry holding every generated xDS message, enum and service, plus the
 * well-known types they use. Packing and unpacking `Any`, and proto3 JSON with `@type`, resolve
 * type URLs through it.
 */

import { createRegistry, type DescFile, type Registry } from '@bufbuild/protobuf';
import { file_envoy_admin_v3_config_dump } from '#xds/envoy/admin/v3/config_dump_pb.js';
import { file_envoy_config_bootstrap_v3_bootstrap } from '#xds/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { file_envoy_config_cluster_v3_cluster } from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import { file_envoy_config_endpoint_v3_endpoint } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import { file_envoy_config_listener_v3_listener } from '#xds/envoy/config/listener/v3/listener_pb.js';
import { file_envoy_config_route_v3_route } from '#xds/envoy/config/route/v3/route_pb.js';
import { file_envoy_extensions_clusters_aggregate_v3_cluster } from '#xds/envoy/extensions/clusters/aggregate/v3/cluster_pb.js';
import { file_envoy_extensions_filters_http_fault_v3_fault } from '#xds/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { file_envoy_extensions_filters_http_rbac_v3_rbac } from '#xds/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { file_envoy_extensions_filters_http_router_v3_router } from '#xds/envoy/extensions/filters/http/router/v3/router_pb.js';
import { file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager } from '#xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { file_envoy_extensions_load_balancing_policies_client_side_weighted_round_robin_v3_client_side_weighted_round_robin } from '#xds/envoy/extensions/load_balancing_policies/client_side_weighted_round_robin/v3/client_side_weighted_round_robin_pb.js';
import { file_envoy_extensions_load_balancing_policies_cluster_provided_v3_cluster_provided } from '#xds/envoy/extensions/load_balancing_policies/cluster_provided/v3/cluster_provided_pb.js';
import { file_envoy_extensions_load_balancing_policies_common_v3_common } from '#xds/envoy/extensions/load_balancing_policies/common/v3/common_pb.js';
import { file_envoy_extensions_load_balancing_policies_least_request_v3_least_request } from '#xds/envoy/extensions/load_balancing_policies/least_request/v3/least_request_pb.js';
import { file_envoy_extensions_load_balancing_policies_maglev_v3_maglev } from '#xds/envoy/extensions/load_balancing_policies/maglev/v3/maglev_pb.js';
import { file_envoy_extensions_load_balancing_policies_pick_first_v3_pick_first } from '#xds/envoy/extensions/load_balancing_policies/pick_first/v3/pick_first_pb.js';
import { file_envoy_extensions_load_balancing_policies_random_v3_random } from '#xds/envoy/extensions/load_balancing_policies/random/v3/random_pb.js';
import { file_envoy_extensions_load_balancing_policies_ring_hash_v3_ring_hash } from '#xds/envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash_pb.js';
import { file_envoy_extensions_load_balancing_policies_round_robin_v3_round_robin } from '#xds/envoy/extensions/load_balancing_policies/round_robin/v3/round_robin_pb.js';
import { file_envoy_extensions_load_balancing_policies_subset_v3_subset } from '#xds/envoy/extensions/load_balancing_policies/subset/v3/subset_pb.js';
import { file_envoy_extensions_load_balancing_policies_wrr_locality_v3_wrr_locality } from '#xds/envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality_pb.js';
import { file_envoy_extensions_retry_priority_previous_priorities_v3_previous_priorities_config } from '#xds/envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config_pb.js';
import { file_envoy_extensions_transport_sockets_raw_buffer_v3_raw_buffer } from '#xds/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_cert } from '#xds/envoy/extensions/transport_sockets/tls/v3/cert_pb.js';
import { file_envoy_extensions_upstreams_http_v3_http_protocol_options } from '#xds/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { file_envoy_service_discovery_v3_ads } from '#xds/envoy/service/discovery/v3/ads_pb.js';
import { file_envoy_service_status_v3_csds } from '#xds/envoy/service/status/v3/csds_pb.js';

// The generator's entry points; everything else generated is reachable from them through
// imports, so listing them is enough to cover every generated file (a test checks this).
// cert.proto publicly imports tls.proto, common.proto and secret.proto.
const rootFiles: readonly DescFile[] = [
  file_envoy_service_discovery_v3_ads,
  file_envoy_config_listener_v3_listener,
  file_envoy_config_route_v3_route,
  file_envoy_config_cluster_v3_cluster,
  file_envoy_config_endpoint_v3_endpoint,
  file_envoy_config_bootstrap_v3_bootstrap,
  file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
  file_envoy_extensions_filters_http_router_v3_router,
  file_envoy_extensions_filters_http_fault_v3_fault,
  file_envoy_extensions_filters_http_rbac_v3_rbac,
  file_envoy_extensions_transport_sockets_tls_v3_cert,
  file_envoy_extensions_transport_sockets_raw_buffer_v3_raw_buffer,
  file_envoy_extensions_retry_priority_previous_priorities_v3_previous_priorities_config,
  file_envoy_extensions_clusters_aggregate_v3_cluster,
  file_envoy_extensions_load_balancing_policies_client_side_weighted_round_robin_v3_client_side_weighted_round_robin,
  file_envoy_extensions_load_balancing_policies_cluster_provided_v3_cluster_provided,
  file_envoy_extensions_load_balancing_policies_common_v3_common,
  file_envoy_extensions_load_balancing_policies_least_request_v3_least_request,
  file_envoy_extensions_load_balancing_policies_maglev_v3_maglev,
  file_envoy_extensions_load_balancing_policies_pick_first_v3_pick_first,
  file_envoy_extensions_load_balancing_policies_random_v3_random,
  file_envoy_extensions_load_balancing_policies_ring_hash_v3_ring_hash,
  file_envoy_extensions_load_balancing_policies_round_robin_v3_round_robin,
  file_envoy_extensions_load_balancing_policies_subset_v3_subset,
  file_envoy_extensions_load_balancing_policies_wrr_locality_v3_wrr_locality,
  file_envoy_admin_v3_config_dump,
  file_envoy_service_status_v3_csds,
  file_envoy_extensions_upstreams_http_v3_http_protocol_options,
];

/** Every file reachable from `roots` through imports, the roots included, each once. */
function withDependencies(roots: readonly DescFile[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const pending = [...roots];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file.name)) continue;
    seen.set(file.name, file);
    pending.push(...file.dependencies);
  }
  return [...seen.values()];
}

/**
 * Every generated xDS file and the well-known-type files it imports (`google/protobuf/*`), in no
 * particular order. Names are proto paths without `.proto`, as protobuf-es reports them.
 */
export const xdsFiles: readonly DescFile[] = Object.freeze(withDependencies(rootFiles));

/**
 * Registry of every xDS v3 message, enum and service Dabba generates, and of the well-known types.
 * Pass it as `registry` to protobuf-es `fromJson`/`toJson`/`anyUnpack`, or use the helpers in
 * `codec.ts`.
 */
export const xdsRegistry: Registry = createRegistry(...xdsFiles);
