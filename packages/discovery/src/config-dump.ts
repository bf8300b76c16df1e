/**
 * A snapshot as Envoy's admin `/config_dump` shows it (envoy.admin.v3.ConfigDump with Listeners,
 * Clusters, Routes and Endpoints dumps, every resource "dynamic" with its version), so the tools
 * people use to read a sidecar's configuration (istioctl proxy-config, jq recipes) read Dabba's.
 */
import { create } from '@bufbuild/protobuf';
import { anyPack, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type ConfigDump, ConfigDumpSchema } from '#xds/envoy/admin/v3/config_dump_pb.js';
import {
  ClustersConfigDumpSchema,
  EndpointsConfigDumpSchema,
  ListenersConfigDumpSchema,
  RoutesConfigDumpSchema,
} from '#xds/envoy/admin/v3/config_dump_shared_pb.js';
import { ClusterSchema } from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '#xds/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '#xds/envoy/config/route/v3/route_pb.js';
import type { Snapshot } from './snapshot.ts';

/** Builds the ConfigDump message of a snapshot; `resourceToJson()` turns it into Envoy's JSON. */
export function snapshotToConfigDump(snapshot: Snapshot, appliedAt: Date = new Date()): ConfigDump {
  const version = snapshot.version;
  const lastUpdated = timestampFromDate(appliedAt);
  const listeners = create(ListenersConfigDumpSchema, {
    versionInfo: version,
    dynamicListeners: [...snapshot.listeners.values()].map((listener) => ({
      name: listener.name,
      activeState: { versionInfo: version, listener: anyPack(ListenerSchema, listener), lastUpdated },
    })),
  });
  const clusters = create(ClustersConfigDumpSchema, {
    versionInfo: version,
    dynamicActiveClusters: [...snapshot.clusters.values()].map((cluster) => ({
      versionInfo: version,
      cluster: anyPack(ClusterSchema, cluster),
      lastUpdated,
    })),
  });
  const routes = create(RoutesConfigDumpSchema, {
    dynamicRouteConfigs: [...snapshot.routes.values()].map((rc) => ({
      versionInfo: version,
      routeConfig: anyPack(RouteConfigurationSchema, rc),
      lastUpdated,
    })),
  });
  const endpoints = create(EndpointsConfigDumpSchema, {
    dynamicEndpointConfigs: [...snapshot.endpoints.values()].map((cla) => ({
      versionInfo: version,
      endpointConfig: anyPack(ClusterLoadAssignmentSchema, cla),
      lastUpdated,
    })),
  });
  return create(ConfigDumpSchema, {
    configs: [
      anyPack(ListenersConfigDumpSchema, listeners),
      anyPack(ClustersConfigDumpSchema, clusters),
      anyPack(RoutesConfigDumpSchema, routes),
      anyPack(EndpointsConfigDumpSchema, endpoints),
    ],
  });
}
