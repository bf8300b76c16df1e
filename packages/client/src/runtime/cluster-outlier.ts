/**
 * Outlier detection on the data plane: the mechanics around the pure {@link OutlierDetector}.
 * One {@link ClusterOutlier} per cluster that has `outlier_detection` (Istio: a DestinationRule
 * `outlierDetection`) and hosts, owned by the cluster's runtime state: it owns the detector and
 * its interval timer and, whenever ejections change, builds a balancer over the hosts with the
 * ejected ones unhealthy and hands it to the cluster's runtime (Envoy: the detector's
 * changed-state callback makes the cluster recompute its healthy host lists, and priority
 * spill-over and panic follow from the new lists). The compiled cluster is never written.
 *
 * Lifetime: created when a compiled mesh is applied, never during a compile (a compile can be
 * abandoned, and must not start timers or take a detector away from the serving mesh). A
 * cluster that survives a snapshot with the same outlier config keeps its detector (counters,
 * ejections, multipliers), as Envoy keeps a cluster's detector across EDS updates; otherwise the
 * old one is disposed with its timer.
 */
import type { Clock, TimerHandle } from '@dabba/core';
import type { OutlierConfig } from '@dabba/discovery';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import type { Host, HostHealth } from '../lb/host.ts';
import { buildLbPlan, createLoadBalancer, type LoadBalancer } from '../lb/index.ts';
import type { RandomSource } from '../lb/random-source.ts';
import { OutlierDetector, type OutlierOutcome } from '../resilience/outlier-detector.ts';

/** Whether two resolved outlier configs are the same (a detector carries over only then). */
export function sameOutlierConfig(a: OutlierConfig, b: OutlierConfig): boolean {
  for (const key of Object.keys(a) as (keyof OutlierConfig)[]) if (a[key] !== b[key]) return false;
  return true;
}

/** A cluster's live outlier detection: detector, interval timer and balancer rebuilds. */
export class ClusterOutlier {
  readonly detector: OutlierDetector;
  /** The compiled cluster whose hosts are tracked (the newest one adopted). */
  #cluster: CompiledCluster;
  /** Where a rebuilt balancer goes: the cluster's runtime state. */
  readonly #install: (balancer: LoadBalancer | undefined) => void;
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;

  constructor(
    cluster: CompiledCluster,
    config: OutlierConfig,
    random: RandomSource,
    clock: Clock,
    install: (b: LoadBalancer | undefined) => void,
  ) {
    this.#cluster = cluster;
    this.#install = install;
    this.#clock = clock;
    this.detector = new OutlierDetector(config, cluster.hosts, {
      random,
      clock,
      onChange: () => this.#rebuild(),
    });
    // Unreferenced: an idle mesh must not keep the process alive for its detectors. Re-armed
    // after each sweep, as Envoy's interval timer is.
    this.#timer = clock.schedule(ClusterOutlier.#tick, config.intervalMs, this);
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

  /** The health the cluster's balancer gives `host` now: unhealthy while it is ejected. */
  healthOf(host: Host): HostHealth {
    return this.detector.isEjected(host) ? 'unhealthy' : host.health;
  }

  /**
   * Takes over the same cluster of a newer snapshot: tracks its hosts (state kept by key), and
   * when some host is ejected, replaces the compiled balancer (built over the configured health)
   * with one that leaves the ejected hosts out.
   */
  adopt(cluster: CompiledCluster): void {
    this.#cluster = cluster;
    this.detector.setHosts(cluster.hosts);
    if (this.detector.ejectedCount > 0) this.#rebuild();
  }

  dispose(): void {
    if (this.#timer === undefined) return;
    this.#clock.cancel(this.#timer);
    this.#timer = undefined;
  }

  /** A balancer over the current ejections; the compiled one when nothing is ejected. */
  #rebuild(): void {
    if (this.#timer === undefined) return;
    const cluster = this.#cluster;
    const inputs = cluster.lbInputs;
    if (inputs === undefined || this.detector.ejectedCount === 0) {
      this.#install(cluster.balancer);
      return;
    }
    const plan = buildLbPlan(inputs.priorities, { ...inputs.planOptions, healthOf: (h) => this.healthOf(h) });
    this.#install(createLoadBalancer(inputs.policy, plan, { random: inputs.random }));
  }

  static #tick(self: ClusterOutlier): void {
    if (self.#timer === undefined) return;
    self.#timer = self.#clock.schedule(ClusterOutlier.#tick, self.detector.config.intervalMs, self);
    self.detector.tick();
  }
}
