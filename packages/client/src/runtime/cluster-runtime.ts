/**
 * A cluster's runtime state: what changes while the cluster serves, kept by cluster name and
 * carried across snapshots (the design's `runtime/`). The compiled cluster is the configuration
 * and is never written; this holds the balancer the request path picks from (the compiled one,
 * or one outlier detection rebuilt), the outlier detector, the admission counters and the
 * metric label sets. An update that leaves a cluster unchanged leaves all of it as it was (its
 * balancer's position included); one that changes it carries over what the change allows, as
 * Envoy's cluster manager does: ejections while the outlier config is the same, in-flight
 * admission counts while the limits are the same.
 */
import type { Clock } from '@dabba/core';
import type { CircuitBreakerLimits } from '@dabba/discovery';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import { sameData } from '../compile/same-data.ts';
import type { Host, HostHealth } from '../lb/host.ts';
import type { LoadBalancer } from '../lb/index.ts';
import { RequestAdmission } from '../resilience/request-admission.ts';
import type { ResponseLabelSets } from '../telemetry/response-label-sets.ts';
import { ClusterOutlier, sameOutlierConfig } from './cluster-outlier.ts';

export class ClusterRuntime {
  readonly name: string;
  #cluster: CompiledCluster;
  /** The balancer picks come from; the request path reads it once per pick, never caches it. */
  balancer: LoadBalancer | undefined;
  /** Live outlier detection, for clusters with outlier detection and hosts. */
  outlier: ClusterOutlier | undefined;
  #admission: RequestAdmission | undefined;
  /**
   * The label sets requests to this cluster record into, set by the mesh when metrics are on;
   * kept while the cluster's destination labels are the same.
   */
  metrics: ResponseLabelSets | undefined;

  readonly #clock: Clock;

  constructor(cluster: CompiledCluster, clock: Clock) {
    this.name = cluster.name;
    this.#clock = clock;
    this.#cluster = cluster;
    this.balancer = cluster.balancer;
    this.outlier = this.#startOutlier(cluster);
  }

  /** The compiled cluster in force. */
  get cluster(): CompiledCluster {
    return this.#cluster;
  }

  /** The hosts of the compiled cluster in force. */
  get hosts(): readonly Host[] {
    return this.#cluster.hosts;
  }

  /** The admission counters made so far; undefined before the cluster's first request. */
  get admission(): RequestAdmission | undefined {
    return this.#admission;
  }

  /**
   * The cluster's circuit-breaker counters (DEFAULT priority), made on the first request it
   * sees. Requests keep the object they took a slot from, so a replaced one still counts down.
   */
  requestAdmission(): RequestAdmission {
    let a = this.#admission;
    if (a === undefined) {
      a = new RequestAdmission(this.#cluster.circuitBreakers.default, this.#cluster.requestCapacity);
      this.#admission = a;
    }
    return a;
  }

  /** The health picks give `host` now: its configured health, or unhealthy while ejected. */
  healthOf(host: Host): HostHealth {
    return this.outlier === undefined ? host.health : this.outlier.healthOf(host);
  }

  /** Takes the same cluster of a newer snapshot; the same compiled object changes nothing. */
  adopt(next: CompiledCluster): void {
    const previous = this.#cluster;
    if (next === previous) return;
    this.#cluster = next;
    this.balancer = next.balancer;
    const admission = this.#admission;
    if (
      admission !== undefined &&
      !(
        admission.capacity === next.requestCapacity &&
        sameLimits(admission.counters.limits, next.circuitBreakers.default)
      )
    )
      this.#admission = undefined;
    const outlier = this.outlier;
    const config = next.outlierConfig;
    if (
      outlier !== undefined &&
      config !== undefined &&
      next.balancer !== undefined &&
      sameOutlierConfig(outlier.detector.config, config)
    ) {
      outlier.adopt(next);
    } else {
      outlier?.dispose();
      this.outlier = this.#startOutlier(next);
    }
    if (!sameData(previous.istioDestination, next.istioDestination)) this.metrics = undefined;
  }

  /** The cluster left the configuration: its timers stop. */
  dispose(): void {
    this.outlier?.dispose();
  }

  #startOutlier(cluster: CompiledCluster): ClusterOutlier | undefined {
    const config = cluster.outlierConfig;
    const inputs = cluster.lbInputs;
    if (config === undefined || inputs === undefined || cluster.balancer === undefined) return undefined;
    return new ClusterOutlier(cluster, config, inputs.random, this.#clock, (balancer) => {
      this.balancer = balancer;
    });
  }
}

/** Whether two priorities' limits are the same (admission counters carry over only then). */
function sameLimits(a: CircuitBreakerLimits, b: CircuitBreakerLimits): boolean {
  return (
    a === b ||
    (a.maxConnections === b.maxConnections &&
      a.maxPendingRequests === b.maxPendingRequests &&
      a.maxRequests === b.maxRequests &&
      a.maxRetries === b.maxRetries &&
      a.retryBudget?.budgetPercent === b.retryBudget?.budgetPercent &&
      a.retryBudget?.minRetryConcurrency === b.retryBudget?.minRetryConcurrency)
  );
}
