/**
 * The per-cluster request counters Envoy's router keeps (cluster.<name>.upstream_rq_*), added to
 * once per logical request when it ends: a handful of number increments, only with metrics on.
 * Read at scrape time by {@link ClusterStats}; kept by cluster name so they survive recompiles.
 */
export class ClusterTraffic {
  /** `upstream_rq_total`: attempts sent to an endpoint pool (retries included). */
  rqTotal = 0;
  /** `upstream_rq_completed`: attempts that ended, however they ended. */
  rqCompleted = 0;
  /** `upstream_rq_retry`: retries that were sent (attempts after the first). */
  rqRetry = 0;
  /** `upstream_rq_retry_success`: retried requests whose last attempt was not retriable. */
  rqRetrySuccess = 0;
  /** `upstream_rq_timeout`: requests that hit the route timeout. */
  rqTimeout = 0;
  /** `upstream_rq_<N>xx`, indexed by the status class 1..5. */
  readonly rqClass: number[] = [0, 0, 0, 0, 0, 0];

  /**
   * One logical request ended.
   *
   * @param attempts - attempts dispatched to endpoint pools (0 when refused before any).
   * @param chargedStatus - the code Envoy's router charges (`chargeUpstreamCode`): the
   *   forwarded status, or the local reply's for an upstream failure or overflow; 0 when none.
   * @param retrySuccess - retried, and the last attempt's result was not retriable.
   * @param routeTimeout - ended by the route (global) timeout.
   */
  requestEnded(attempts: number, chargedStatus: number, retrySuccess: boolean, routeTimeout: boolean): void {
    this.rqTotal += attempts;
    this.rqCompleted += attempts;
    if (attempts > 1) this.rqRetry += attempts - 1;
    if (retrySuccess) this.rqRetrySuccess++;
    if (routeTimeout) this.rqTimeout++;
    if (chargedStatus >= 100 && chargedStatus <= 599) this.rqClass[Math.trunc(chargedStatus / 100)]!++;
  }
}
