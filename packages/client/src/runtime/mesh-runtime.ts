/**
 * The runtime state of every cluster, by name, across snapshots: applying a compiled mesh gives
 * each of its clusters the state of the same name (carried over, see ClusterRuntime.adopt) or a
 * new one, and disposes of the states of clusters that are gone. Requests already routed keep
 * the state they were routed with.
 */
import { type Clock, SYSTEM_CLOCK } from '@dabba/core';
import type { CompiledMesh } from '../compile/compile-snapshot.ts';
import { ClusterRuntime } from './cluster-runtime.ts';

export class MeshRuntime {
  readonly #clusters = new Map<string, ClusterRuntime>();
  readonly #clock: Clock;

  /** `clock` times the outlier detectors' sweeps. */
  constructor(clock: Clock = SYSTEM_CLOCK) {
    this.#clock = clock;
  }

  /** The state of the cluster `name` of the mesh applied last. */
  get(name: string): ClusterRuntime | undefined {
    return this.#clusters.get(name);
  }

  values(): IterableIterator<ClusterRuntime> {
    return this.#clusters.values();
  }

  get size(): number {
    return this.#clusters.size;
  }

  /** Makes the state match `mesh`: synchronous, so no request sees half of it. */
  apply(mesh: CompiledMesh): void {
    for (const [name, cluster] of mesh.clusters) {
      const state = this.#clusters.get(name);
      if (state === undefined) this.#clusters.set(name, new ClusterRuntime(cluster, this.#clock));
      else state.adopt(cluster);
    }
    for (const [name, state] of this.#clusters) {
      if (mesh.clusters.has(name)) continue;
      state.dispose();
      this.#clusters.delete(name);
    }
  }

  /** Stops every cluster's timers (the mesh is closing). */
  dispose(): void {
    for (const state of this.#clusters.values()) state.dispose();
    this.#clusters.clear();
  }
}
