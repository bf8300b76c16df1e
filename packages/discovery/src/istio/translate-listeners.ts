/**
 * Outbound HTTP listeners, one per port (`0.0.0.0_<port>`), each an HttpConnectionManager that
 * takes its routes from the RouteConfiguration named after the port, as istiod emits them.
 */
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '#xds/envoy/config/core/v3/base_pb.js';
import { ApiVersion } from '#xds/envoy/config/core/v3/config_source_pb.js';
import { type Listener, ListenerSchema } from '#xds/envoy/config/listener/v3/listener_pb.js';
import { RouterSchema } from '#xds/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  HttpConnectionManager_PathWithEscapedSlashesAction,
  HttpConnectionManagerSchema,
} from '#xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { MeshConfig } from './mesh-config.ts';

export const HCM_FILTER_NAME = 'envoy.filters.network.http_connection_manager';
export const ROUTER_FILTER_NAME = 'envoy.filters.http.router';

/** Istio's outbound listener name for a port. */
export function outboundListenerName(port: number): string {
  return `0.0.0.0_${port}`;
}

/**
 * The HttpConnectionManager path fields for MeshConfig `pathNormalization`, as istiod's
 * buildHTTPConnectionManager sets them (pilot/pkg/networking/core/listener_builder.go).
 */
function pathNormalizationFields(setting: MeshConfig['pathNormalization']) {
  const merge = setting === 'MERGE_SLASHES' || setting === 'DECODE_AND_MERGE_SLASHES';
  return {
    ...(setting === 'NONE' ? {} : { normalizePath: true }),
    ...(merge ? { mergeSlashes: true } : {}),
    pathWithEscapedSlashesAction:
      setting === 'DECODE_AND_MERGE_SLASHES'
        ? HttpConnectionManager_PathWithEscapedSlashesAction.UNESCAPE_AND_FORWARD
        : HttpConnectionManager_PathWithEscapedSlashesAction.KEEP_UNCHANGED,
  };
}

export function translateListener(
  port: number,
  pathNormalization: MeshConfig['pathNormalization'] = 'BASE',
): Listener {
  const name = outboundListenerName(port);
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: `outbound_${name}`,
    ...pathNormalizationFields(pathNormalization),
    routeSpecifier: {
      case: 'rds',
      value: {
        routeConfigName: String(port),
        configSource: {
          configSourceSpecifier: { case: 'ads', value: {} },
          resourceApiVersion: ApiVersion.V3,
        },
      },
    },
    httpFilters: [
      {
        name: ROUTER_FILTER_NAME,
        configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) },
      },
    ],
  });
  return create(ListenerSchema, {
    name,
    address: {
      address: {
        case: 'socketAddress',
        value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } },
      },
    },
    trafficDirection: TrafficDirection.OUTBOUND,
    // Sidecar outbound listeners do not bind; traffic reaches them through the virtual outbound.
    bindToPort: false,
    filterChains: [
      {
        filters: [
          {
            name: HCM_FILTER_NAME,
            configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) },
          },
        ],
      },
    ],
  });
}
