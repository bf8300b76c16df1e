/**
 * A snapshot: one complete, consistent, immutable set of xDS resources, the unit every
 * configuration source publishes and the data plane compiles. Consistent means every name a
 * resource refers to (route configuration, cluster, endpoint assignment) is present, as
 * go-control-plane checks before it serves a snapshot.
 */
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { type Cluster, Cluster_DiscoveryType } from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '#xds/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '#xds/envoy/config/route/v3/route_pb.js';
import { HttpConnectionManagerSchema } from '#xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { decodeResourcesSteps, issuesOf, type SnapshotModels } from './decode/decode-resources.ts';
import { deepFreeze } from './decode/deep-freeze.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { runSteps, type Steps } from './steps.ts';

/** The resources of a snapshot, each map keyed by resource name. */
export interface XdsResources {
  readonly listeners: ReadonlyMap<string, Listener>;
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** ClusterLoadAssignments of EDS clusters, keyed by cluster (service) name. */
  readonly endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
}

export interface Snapshot extends XdsResources {
  /** Opaque version, like xDS `version_info`; changes whenever any resource changes. */
  readonly version: string;
  /** Human description of where it came from (`istio-files:./mesh`). */
  readonly source: string;
  /**
   * The resources as their decoders gave them: what the data plane compiles. The xDS messages
   * above stay for the configuration dump, which shows the resources as received.
   */
  readonly models: SnapshotModels;
}

/** Resources as lists, the form translators and decoders produce. */
export interface XdsResourceLists {
  readonly listeners: readonly Listener[];
  readonly routes: readonly RouteConfiguration[];
  readonly clusters: readonly Cluster[];
  readonly endpoints: readonly ClusterLoadAssignment[];
}

function byName<T>(
  items: readonly T[],
  name: (t: T) => string,
  kind: string,
  issues: ConfigIssue[],
  source: string,
): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    const n = name(item);
    if (map.has(n))
      issues.push({ source, resource: { kind, name: n }, path: 'name', message: 'duplicate resource name' });
    map.set(n, item);
  }
  return map;
}

/** Lists every reference in `resources` that does not resolve. */
export function checkConsistency(resources: XdsResources, source: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  runSteps(checkConsistencySteps(resources, source, issues));
  return issues;
}

/** {@link checkConsistency} as steps: a pause after each virtual host and every 256 clusters. */
function* checkConsistencySteps(resources: XdsResources, source: string, issues: ConfigIssue[]): Steps<void> {
  for (const [name, listener] of resources.listeners) {
    listener.filterChains.forEach((chain, c) => {
      chain.filters.forEach((filter, f) => {
        if (filter.configType.case !== 'typedConfig') return;
        const hcm = anyUnpack(filter.configType.value, HttpConnectionManagerSchema);
        if (
          hcm?.routeSpecifier.case === 'rds' &&
          !resources.routes.has(hcm.routeSpecifier.value.routeConfigName)
        ) {
          issues.push({
            source,
            resource: { kind: 'Listener', name },
            path: `filter_chains[${c}].filters[${f}].typed_config.rds.route_config_name`,
            message: `route configuration "${hcm.routeSpecifier.value.routeConfigName}" is missing`,
          });
        }
      });
    });
  }
  for (const [name, rc] of resources.routes) {
    for (let v = 0; v < rc.virtualHosts.length; v++) {
      const routes = rc.virtualHosts[v]!.routes;
      for (let r = 0; r < routes.length; r++) {
        const action = routes[r]!.action;
        if (action.case !== 'route') continue;
        const spec = action.value.clusterSpecifier;
        const names =
          spec.case === 'cluster'
            ? [spec.value]
            : spec.case === 'weightedClusters'
              ? spec.value.clusters.map((c) => c.name)
              : [];
        for (const cluster of names) {
          if (!resources.clusters.has(cluster)) {
            issues.push({
              source,
              resource: { kind: 'RouteConfiguration', name },
              path: `virtual_hosts[${v}].routes[${r}].route`,
              message: `cluster "${cluster}" is missing`,
            });
          }
        }
      }
      yield;
    }
  }
  let seen = 0;
  for (const [name, cluster] of resources.clusters) {
    if (++seen % 256 === 0) yield;
    const eds =
      cluster.clusterDiscoveryType.case === 'type' &&
      cluster.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS;
    const serviceName = cluster.edsClusterConfig?.serviceName || name;
    if (eds && !resources.endpoints.has(serviceName)) {
      issues.push({
        source,
        resource: { kind: 'Cluster', name },
        path: 'eds_cluster_config',
        message: `endpoints "${serviceName}" are missing`,
      });
    }
  }
}

/**
 * Builds a frozen snapshot, or throws ConfigError listing every duplicate and dangling reference
 * and every issue of a resource its decoder rejects.
 */
export function createSnapshot(version: string, source: string, lists: XdsResourceLists): Snapshot {
  return runSteps(createSnapshotSteps(version, source, lists));
}

/**
 * {@link createSnapshot} as steps: freezing pauses after each resource (and each virtual host of
 * a route configuration, which can hold thousands), so it can run in slices.
 */
export function* createSnapshotSteps(
  version: string,
  source: string,
  lists: XdsResourceLists,
): Steps<Snapshot> {
  const issues: ConfigIssue[] = [];
  const resources: XdsResources = {
    listeners: byName(lists.listeners, (l) => l.name, 'Listener', issues, source),
    routes: byName(lists.routes, (r) => r.name, 'RouteConfiguration', issues, source),
    clusters: byName(lists.clusters, (c) => c.name, 'Cluster', issues, source),
    endpoints: byName(lists.endpoints, (e) => e.clusterName, 'ClusterLoadAssignment', issues, source),
  };
  yield;
  yield* checkConsistencySteps(resources, source, issues);
  const { models, rejected } = yield* decodeResourcesSteps(resources, source);
  issues.push(...issuesOf(rejected));
  if (issues.length > 0) throw new ConfigError(issues);
  yield;
  for (const rc of resources.routes.values()) {
    for (const vh of rc.virtualHosts) {
      deepFreeze(vh);
      yield;
    }
  }
  for (const map of [resources.listeners, resources.routes, resources.clusters, resources.endpoints]) {
    for (const v of map.values()) {
      deepFreeze(v);
      yield;
    }
  }
  return Object.freeze({ version, source, ...resources, models: Object.freeze(models) });
}
