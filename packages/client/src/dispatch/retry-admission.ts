/**
 * The circuit breakers of each cluster on the request path: one {@link RequestAdmission} per
 * compiled cluster (DEFAULT priority), made on the first request the cluster sees and kept on
 * the cluster, which carries it over to the next compile while its limits are unchanged.
 * Requests take an active or pending slot from it (max_requests, max_pending_requests) when
 * `counting` is set; retries take a retry slot (max_retries, or the retry budget, which then
 * sees the active and pending requests).
 */
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import type { ClusterAdmission } from '../resilience/circuit-breakers.ts';
import { RequestAdmission } from '../resilience/request-admission.ts';

/** The request admission of `cluster`. */
export function admissionOf(cluster: CompiledCluster): RequestAdmission {
  let a = cluster.admission;
  if (a === undefined) {
    a = new RequestAdmission(cluster.circuitBreakers.default, cluster.requestCapacity);
    cluster.admission = a;
  }
  return a;
}

/** The DEFAULT-priority admission counters of `cluster`. */
export function retryAdmissionOf(cluster: CompiledCluster): ClusterAdmission {
  return admissionOf(cluster).counters;
}
