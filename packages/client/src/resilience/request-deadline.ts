/**
 * Route timeout and per-try timeout arithmetic (router filter docs, x-envoy-max-retries notes;
 * source/common/router/router.cc FilterUtility::finalTimeout, onRequestComplete, onResponseTimeout).
 *
 * The route timeout is global: one timer, armed when the request has been fully received,
 * covers every attempt and every backoff ("if the request timeout is set to 3s, and the first
 * request attempt takes 2.7s, the retry (including back-off) has .3s to complete"). The per-try
 * timeout is armed per attempt. Whichever fires first decides: a per-try timeout may be retried,
 * the route timeout never is (UT, 504).
 *
 * The caller-supplied overrides Envoy honours (x-envoy-upstream-rq-timeout-ms,
 * x-envoy-upstream-rq-per-try-timeout-ms) are read by dispatch/envoy-request-headers.ts and
 * arrive here as the route's values; grpc-timeout with max_grpc_timeout is not read.
 */

/**
 * The per-try timeout Envoy applies: a per_try_timeout not below a non-zero route timeout is
 * dropped (FilterUtility::finalTimeout: "If it's >= global we just ignore it"). 0 = none.
 */
export function effectivePerTryTimeoutMs(routeTimeoutMs: number, perTryTimeoutMs: number): number {
  if (routeTimeoutMs > 0 && perTryTimeoutMs >= routeTimeoutMs) return 0;
  return perTryTimeoutMs;
}
