/**
 * Snapshot -> the runtime structures the request path reads: route tables by outbound port and
 * clusters by name. Compiled once per snapshot; the request path only reads the result.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import {
  type ListenerSettings,
  PASSTHROUGH_CLUSTER,
  type RouteConfigurationModel,
  type Snapshot,
} from '@dabba/discovery';
import { compileRouteTableSteps, type RouteTable } from '../route/route-table.ts';
import { type CompiledCluster, compileCluster, createCompileInterner } from './compile-cluster.ts';

export interface CompiledMesh {
  readonly snapshot: Snapshot;
  /** Route table of each outbound HTTP listener, by port. */
  readonly routeTables: ReadonlyMap<number, RouteTable>;
  /** Route configuration name of each port, for explain(). */
  readonly routeConfigNames: ReadonlyMap<number, string>;
  /** Path normalization and header limits of each port's listener (HttpConnectionManager). */
  readonly listenerSettings: ReadonlyMap<number, ListenerSettings>;
  readonly clusters: ReadonlyMap<string, CompiledCluster>;
  /** Requests to ports without a listener go straight to their destination (Istio ALLOW_ANY). */
  readonly passthroughUnknownPorts: boolean;
}

/** Options of {@link compileSnapshotAsync}; every field optional. */
export interface CompileSnapshotAsyncOptions {
  /**
   * Longest synchronous stretch, in milliseconds: after a unit of work (a virtual host or a few
   * dozen routes of a route table, one cluster) ends past this, the compile yields to the event
   * loop (setImmediate). Default 10. One unit can overrun it, and garbage collection can land
   * in any slice.
   */
  readonly sliceMs?: number;
  /**
   * Abort a compile that a newer snapshot made stale: checked at every yield, and the promise
   * rejects with `signal.reason`.
   */
  readonly signal?: AbortSignal;
}

const DEFAULT_SLICE_MS = 10;

/** Compiles a snapshot (its models: every resource in it was accepted by its decoder). */
export function compileSnapshot(
  snapshot: Snapshot,
  previous: CompiledMesh | undefined,
  random: () => number,
): CompiledMesh {
  const steps = compileSteps(snapshot, previous, random);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/**
 * {@link compileSnapshot} in slices: the same work in the same order (so the same result for
 * the same `random`), yielding to the event loop whenever a slice has run `sliceMs`, so that
 * a large snapshot does not stall requests and timers while it compiles.
 *
 * Caveats for the caller:
 * - Apply the result in the continuation of this promise (no other await in between), and
 *   pass the mesh applied at that time as `previous` of the next compile: `previous` lends its
 *   Host objects (with their in-flight counts) to the new mesh.
 * - Only one compile should matter at a time: when a newer snapshot arrives, abort the running
 *   compile through `signal` (or ignore its result) and start the new one with the applied
 *   mesh as `previous`, never with the stale compile's result.
 * - Hosts lent by `previous` get the new snapshot's health while the compile runs (as the
 *   synchronous compile does, only then nobody can observe it). The applied mesh's balancers do
 *   not read health (their plans were computed before), so picks are unaffected; only explain()
 *   of the applied mesh may show the newer health until the new mesh is applied. An aborted
 *   compile can leave that newer health behind; the next compile sets it again for every host
 *   it keeps.
 */
export async function compileSnapshotAsync(
  snapshot: Snapshot,
  previous: CompiledMesh | undefined,
  random: () => number,
  options: CompileSnapshotAsyncOptions = {},
): Promise<CompiledMesh> {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  if (!(sliceMs >= 0)) throw new RangeError(`sliceMs must be >= 0, got ${options.sliceMs}`);
  const signal = options.signal;
  signal?.throwIfAborted();
  const steps = compileSteps(snapshot, previous, random);
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) {
      // The caller applies the mesh synchronously in its continuation (pool cleanup, listeners):
      // give that work a slice of its own rather than the end of the compile's last one.
      await yieldToEventLoop();
      signal?.throwIfAborted();
      return step.value;
    }
    if (performance.now() - sliceStart >= sliceMs) {
      await yieldToEventLoop();
      signal?.throwIfAborted();
      sliceStart = performance.now();
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The compile as a sequence of steps: it yields after each unit of work, and whoever drives it
 * decides whether to pause there. Returns the mesh: the snapshot's decoders have refused every
 * resource the compile could not build.
 */
function* compileSteps(
  snapshot: Snapshot,
  previous: CompiledMesh | undefined,
  random: () => number,
): Generator<void, CompiledMesh, void> {
  const routeTables = new Map<number, RouteTable>();
  const routeConfigNames = new Map<number, string>();
  const listenerSettings = new Map<number, ListenerSettings>();
  const compiledRoutes = new Map<string, RouteTable>();

  // A generator too, so that a route configuration with thousands of virtual hosts is compiled
  // across slices rather than in one synchronous piece.
  function* tableFor(name: string, config: RouteConfigurationModel): Generator<void, RouteTable, void> {
    const existing = compiledRoutes.get(name);
    if (existing) return existing;
    const table = yield* compileRouteTableSteps(config, { random });
    compiledRoutes.set(name, table);
    return table;
  }

  for (const { port, http } of snapshot.models.listeners.values()) {
    if (port === undefined) continue;
    for (const hcm of http) {
      const source = hcm.routes;
      const config = source.kind === 'rds' ? snapshot.models.routes.get(source.name) : source.config;
      if (!config) continue;
      routeTables.set(port, yield* tableFor(source.name, config));
      routeConfigNames.set(port, source.name);
      listenerSettings.set(port, hcm.settings);
      yield;
    }
  }

  const clusters = new Map<string, CompiledCluster>();
  const interner = createCompileInterner();
  for (const [name, cluster] of snapshot.models.clusters) {
    yield;
    const assignment = snapshot.models.endpoints.get(cluster.edsServiceName);
    clusters.set(name, compileCluster(cluster, assignment, previous?.clusters.get(name), random, interner));
  }
  return Object.freeze({
    snapshot,
    routeTables,
    routeConfigNames,
    listenerSettings,
    clusters,
    passthroughUnknownPorts: allowsPassthrough(snapshot, clusters),
  });
}

/**
 * Whether traffic to a port without a listener goes straight to its destination (Istio ALLOW_ANY)
 * or is dropped (REGISTRY_ONLY). istiod sends PassthroughCluster in both modes, so its presence
 * alone says nothing; the mode shows in every HTTP route configuration's catch-all virtual host
 * (`*`): `allow_any` routes to PassthroughCluster, `block_all` answers 502 (httproute.go
 * buildCatchAllVirtualHost). Without a catch-all to read, the cluster's presence decides.
 */
function allowsPassthrough(snapshot: Snapshot, clusters: ReadonlyMap<string, CompiledCluster>): boolean {
  if (clusters.get(PASSTHROUGH_CLUSTER)?.kind !== 'passthrough') return false;
  for (const config of snapshot.models.routes.values()) {
    for (const vh of config.virtualHosts) {
      if (!vh.domains.includes('*')) continue;
      const action = vh.routes[0]?.action;
      return (
        action?.kind === 'route' &&
        action.clusterSpecifier.kind === 'cluster' &&
        action.clusterSpecifier.cluster === PASSTHROUGH_CLUSTER
      );
    }
  }
  return true;
}
