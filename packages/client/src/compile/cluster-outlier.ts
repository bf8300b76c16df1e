/**
 * Outlier detection on the data plane: the mechanics around the pure {@link OutlierDetector}.
 * One {@link ClusterOutlier} per cluster that has `outlier_detection` (Istio: a DestinationRule
 * `outlierDetection`) and hosts: it owns the detector and its interval timer, folds ejections
 * into the hosts' health, and swaps in a rebuilt load balancer whenever ejections change
 * (Envoy: the detector's changed-state callback makes the cluster recompute its healthy host
 * lists, and priority spill-over and panic follow from the new lists).
 *
 * Lifetime: created when a compiled mesh is applied, never during a compile (a compile can be
 * abandoned, and must not start timers or take a detector away from the serving mesh). A
 * cluster that survives a snapshot with the same outlier config keeps its detector (counters,
 * ejections, multipliers), as Envoy keeps a cluster's detector across EDS updates; otherwise the
 * old one is disposed with its timer.
 */

import type { OutlierConfig } from '@dabba/discovery';
import type { Host } from '../lb/host.ts';
import {
  buildLbPlan,
  createLoadBalancer,
  type LbPlanOptions,
  type LbPolicy,
  type PriorityInput,
} from '../lb/index.ts';
import type { RandomSource } from '../lb/random-source.ts';
import { OutlierDetector, type OutlierOutcome } from '../resilience/outlier-detector.ts';
import { MAX_TIMER_MS, timerPiece } from '../timer-limit.ts';
import type { CompiledCluster } from './compile-cluster.ts';
import type { CompiledMesh } from './compile-snapshot.ts';

/**
 * What the compiler built the cluster's LB plan from, kept (only for clusters with outlier
 * detection) so the balancer can be rebuilt over the same inputs when ejections change.
 */
export interface ClusterLbInputs {
  readonly policy: LbPolicy;
  readonly priorities: readonly PriorityInput[];
  readonly planOptions: LbPlanOptions;
  readonly random: RandomSource;
  /** Whether the compiled plan already treated some host as ejected (see ClusterOutlier.adopt). */
  readonly builtWithEjections: boolean;
}

/** Whether two resolved outlier configs are the same (a detector carries over only then). */
export function sameOutlierConfig(a: OutlierConfig, b: OutlierConfig): boolean {
  for (const key of Object.keys(a) as (keyof OutlierConfig)[]) if (a[key] !== b[key]) return false;
  return true;
}

/** The health the LB plan should read for a host, given whether it is ejected. */
export function effectiveHealth(host: Host, ejected: boolean): Host['health'] {
  return ejected ? 'unhealthy' : (host.edsHealth ?? host.health);
}

/** A cluster's live outlier detection: detector, interval timer and balancer swaps. */
export class ClusterOutlier {
  readonly detector: OutlierDetector;
  /** The compiled cluster whose balancer this replaces (the newest one it was adopted by). */
  #cluster: CompiledCluster;
  #timer: NodeJS.Timeout | undefined;

  constructor(cluster: CompiledCluster, config: OutlierConfig, random: RandomSource) {
    this.#cluster = cluster;
    this.detector = new OutlierDetector(config, cluster.hosts, {
      random,
      onChange: () => this.#refresh(false),
    });
    // Unref'd: an idle mesh must not keep the process alive for its detectors.
    if (config.intervalMs <= MAX_TIMER_MS) {
      this.#timer = setInterval(ClusterOutlier.#tick, config.intervalMs, this);
    } else {
      // An interval longer than one Node timer holds: ticks on a chain of pieces.
      this.#timer = setTimeout(
        ClusterOutlier.#longTick,
        MAX_TIMER_MS,
        this,
        config.intervalMs - MAX_TIMER_MS,
      );
    }
    this.#timer.unref();
  }

  /** The compiled cluster currently served by this detector. */
  get cluster(): CompiledCluster {
    return this.#cluster;
  }

  get disposed(): boolean {
    return this.#timer === undefined;
  }

  /**
   * One result for a host (see {@link OutlierOutcome}). Results arriving after dispose (a request
   * that outlived its snapshot) are dropped.
   */
  record(host: Host, outcome: OutlierOutcome): void {
    if (this.#timer !== undefined) this.detector.recordResult(host, outcome);
  }

  /**
   * Takes over the same cluster of a newer snapshot: tracks its hosts (state kept by key) and
   * makes its balancer reflect the current ejections. The compiler built that balancer from the
   * ejections it saw; they may have changed while the compile ran, so it is rebuilt unless
   * neither the compile nor the detector has any ejection (then the compiled plan is exact).
   */
  adopt(cluster: CompiledCluster): void {
    this.#cluster = cluster;
    cluster.outlier = this;
    this.detector.setHosts(cluster.hosts);
    this.#refresh(this.detector.ejectedCount > 0 || cluster.lbInputs?.builtWithEjections === true);
  }

  dispose(): void {
    if (this.#timer === undefined) return;
    // clearInterval and clearTimeout clear either kind of timer.
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Folds ejections into host health and swaps in a rebuilt balancer when anything changed. */
  #refresh(force: boolean): void {
    if (this.#timer === undefined) return;
    const cluster = this.#cluster;
    let changed = force;
    for (const host of cluster.hosts) {
      const health = effectiveHealth(host, this.detector.isEjected(host));
      if (host.health !== health) {
        host.health = health;
        changed = true;
      }
    }
    const inputs = cluster.lbInputs;
    if (!changed || inputs === undefined) return;
    const plan = buildLbPlan(inputs.priorities, inputs.planOptions);
    // The request path reads `cluster.balancer` once per pick, so the swap is one assignment.
    cluster.balancer = createLoadBalancer(inputs.policy, plan, { random: inputs.random });
  }

  static #tick(self: ClusterOutlier): void {
    self.detector.tick();
  }

  static #longTick(self: ClusterOutlier, rest: number): void {
    if (self.#timer === undefined) return;
    if (rest <= 0) {
      self.detector.tick();
      rest = self.detector.config.intervalMs;
    }
    const piece = timerPiece(rest);
    self.#timer = setTimeout(ClusterOutlier.#longTick, piece, self, rest - piece);
    self.#timer.unref();
  }
}

/**
 * Starts outlier detection for a mesh just applied: every cluster with outlier detection and
 * hosts gets the detector of the same cluster in `previous` when its config is unchanged, else a
 * new one. Detectors of `previous` that were not carried over are disposed.
 */
export function activateOutlierDetection(next: CompiledMesh, previous: CompiledMesh | undefined): void {
  for (const [name, cluster] of next.clusters) {
    const config = cluster.outlierConfig;
    const inputs = cluster.lbInputs;
    if (config === undefined || inputs === undefined || cluster.balancer === undefined) continue;
    const old = previous?.clusters.get(name)?.outlier;
    if (old !== undefined && !old.disposed && sameOutlierConfig(old.detector.config, config)) {
      old.adopt(cluster);
    } else {
      cluster.outlier = new ClusterOutlier(cluster, config, inputs.random);
    }
  }
  if (previous === undefined) return;
  for (const [name, cluster] of previous.clusters) {
    const outlier = cluster.outlier;
    if (outlier !== undefined && outlier.cluster !== next.clusters.get(name)) outlier.dispose();
  }
}

/** Stops every detector timer of a mesh (it is being replaced or closed). */
export function disposeOutlierDetection(mesh: CompiledMesh | undefined): void {
  if (mesh === undefined) return;
  for (const cluster of mesh.clusters.values()) cluster.outlier?.dispose();
}
