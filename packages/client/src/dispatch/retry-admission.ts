/**
 * The retry circuit breaker of each cluster (Envoy `max_retries`, or `retry_budget` when set):
 * one {@link ClusterAdmission} per compiled cluster, made on the first retry the cluster sees, so
 * requests that are never retried pay nothing for it.
 *
 * Only the retry counter is used on the request path today; active and pending requests are
 * not counted, so a retry budget allows `min_retry_concurrency` concurrent retries (its floor).
 */
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import { ClusterAdmission, compileCircuitBreakers } from '../resilience/circuit-breakers.ts';

const admissions = new WeakMap<CompiledCluster, ClusterAdmission>();

/** The DEFAULT-priority admission counters of `cluster`. */
export function retryAdmissionOf(cluster: CompiledCluster): ClusterAdmission {
  let a = admissions.get(cluster);
  if (a === undefined) {
    a = new ClusterAdmission(compileCircuitBreakers(cluster.source.circuitBreakers).default);
    admissions.set(cluster, a);
  }
  return a;
}
