/**
 * Every resource of a configuration through its decoder: the models the data plane compiles, and
 * for each resource that cannot be accepted, its issues. This is where a source learns the
 * outcome per resource: an xDS client NACKs a response with the issues of its rejected
 * resources, and the Istio YAML source reports them; neither hands over a configuration with a
 * rejected resource in it.
 */
import type { Cluster } from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '#xds/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '#xds/envoy/config/route/v3/route_pb.js';
import type { ConfigIssue, ResourceRef } from '../errors.ts';
import type { ClusterModel } from '../model/cluster.ts';
import type { EndpointAssignment } from '../model/endpoint-assignment.ts';
import type { ListenerModel } from '../model/listener.ts';
import type { RouteConfigurationModel } from '../model/route-configuration.ts';
import type { Steps } from '../steps.ts';
import { decodeCluster } from './cluster.ts';
import { decodeClusterLoadAssignment } from './cluster-load-assignment.ts';
import type { Decoded } from './decoded.ts';
import { decodeListener } from './listener.ts';
import { decodeRouteConfigurationSteps } from './route-configuration.ts';

/** The decoded resources of a snapshot, each map keyed as the snapshot's resources are. */
export interface SnapshotModels {
  readonly listeners: ReadonlyMap<string, ListenerModel>;
  readonly routes: ReadonlyMap<string, RouteConfigurationModel>;
  readonly clusters: ReadonlyMap<string, ClusterModel>;
  /** Endpoint assignments of EDS clusters, keyed by cluster (service) name. */
  readonly endpoints: ReadonlyMap<string, EndpointAssignment>;
}

/** A resource that was not accepted, and why. */
export interface ResourceRejection {
  readonly resource: ResourceRef;
  readonly issues: readonly ConfigIssue[];
}

/** The wire resources to decode, keyed by name. */
export interface WireResources {
  readonly listeners: ReadonlyMap<string, Listener>;
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
}

/**
 * Decodes every resource, pausing after each (a snapshot can hold thousands of clusters).
 * Returns the models of the accepted ones and the issues of the others.
 */
export function* decodeResourcesSteps(
  resources: WireResources,
  source: string,
): Steps<{ readonly models: SnapshotModels; readonly rejected: readonly ResourceRejection[] }> {
  const rejected: ResourceRejection[] = [];
  function* all<W, M>(
    wire: ReadonlyMap<string, W>,
    decode: (w: W, source: string) => Decoded<M>,
    kind: string,
  ): Steps<Map<string, M>> {
    const out = new Map<string, M>();
    for (const [name, resource] of wire) {
      const decoded = decode(resource, source);
      if (decoded.ok) out.set(name, decoded.value);
      else rejected.push({ resource: decoded.issues[0]?.resource ?? { kind, name }, issues: decoded.issues });
      yield;
    }
    return out;
  }
  const listeners = yield* all(resources.listeners, decodeListener, 'Listener');
  // A route configuration is decoded in steps of its own: one can hold thousands of routes.
  const routes = new Map<string, RouteConfigurationModel>();
  for (const [name, config] of resources.routes) {
    const decoded = yield* decodeRouteConfigurationSteps(config, source);
    if (decoded.ok) routes.set(name, decoded.value);
    else rejected.push({ resource: { kind: 'RouteConfiguration', name }, issues: decoded.issues });
  }
  const clusters = yield* all(resources.clusters, decodeCluster, 'Cluster');
  const endpoints = yield* all(resources.endpoints, decodeClusterLoadAssignment, 'ClusterLoadAssignment');
  return { models: { listeners, routes, clusters, endpoints }, rejected };
}

/**
 * The issues of a ConfigError grouped by the resource they name, in first-seen order; issues
 * that name no resource are grouped under `undefined`.
 */
export function rejectionsOf(
  issues: readonly ConfigIssue[],
): { readonly resource: ResourceRef | undefined; readonly issues: readonly ConfigIssue[] }[] {
  const groups = new Map<string, { resource: ResourceRef | undefined; issues: ConfigIssue[] }>();
  for (const issue of issues) {
    const r = issue.resource;
    const key = r === undefined ? '' : `${r.kind}\u0000${r.namespace ?? ''}\u0000${r.name}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { resource: r, issues: [] };
      groups.set(key, group);
    }
    group.issues.push(issue);
  }
  return [...groups.values()];
}

/** The issues of every rejected resource, in one list (what a ConfigError carries). */
export function issuesOf(rejected: readonly ResourceRejection[]): ConfigIssue[] {
  return rejected.flatMap((r) => r.issues);
}
