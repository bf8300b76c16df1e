/**
 * A routed request refused before its first attempt, as a local reply: by its cluster's circuit
 * breakers (max_requests, max_pending_requests: Envoy's 503 with `UO`) or by Dabba's opt-in
 * failure-rate breaker (a 503 with no Envoy flag). Recorded in the metrics and told to the
 * observer like any ended request, then failed with its typed error; no timer, no attempt.
 */
import type { Dispatcher } from 'undici';
import { type CircuitBreakerLimitName, CircuitOpenError, OverflowError, ResponseFlag } from '../errors.ts';
import type { ClusterFailureBreaker } from '../resilience/failure-breaker.ts';
import { type RequestAdmission, thresholdOf } from '../resilience/request-admission.ts';
import { failLocally } from './local-response.ts';
import type { RouterRoute } from './router-route.ts';

/** `admission` refused the request on `limit` (`UO`): the 503 is charged to the cluster. */
export function refuseOverflow(
  route: RouterRoute,
  caller: Dispatcher.DispatchHandler,
  admission: RequestAdmission,
  limit: CircuitBreakerLimitName,
): void {
  route.record.endUpstream(
    503,
    ResponseFlag.UPSTREAM_OVERFLOW,
    undefined,
    0,
    0,
    undefined,
    503,
    false,
    false,
  );
  failLocally(
    caller,
    new OverflowError({
      authority: route.requestAuthority,
      path: route.requestPath,
      cluster: route.cluster.name,
      limit,
      threshold: thresholdOf(admission.counters.limits, limit),
    }),
  );
}

/** The cluster's failure-rate `breaker` is open (or half-open with its trial taken). */
export function refuseCircuitOpen(
  route: RouterRoute,
  caller: Dispatcher.DispatchHandler,
  breaker: ClusterFailureBreaker,
): void {
  // Dabba's own breaker has no Envoy flag: a 503 local reply without one, charged nowhere.
  route.record.endUpstream(503, '-', undefined, 0, 0, undefined, 0, false, false);
  failLocally(
    caller,
    new CircuitOpenError({
      authority: route.requestAuthority,
      path: route.requestPath,
      cluster: route.cluster.name,
      state: breaker.state === 'open' ? 'open' : 'half-open',
      resetTimeoutMs: breaker.resetTimeoutMs,
    }),
  );
}
