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

/** Which timer bounds an attempt. */
export type AttemptTimeoutKind = 'per-try' | 'route' | 'none';

/** How long an attempt may run, and which timeout that is. */
export interface AttemptTimeout {
  /** Ms until the binding timer fires; `Infinity` when `kind` is `none`. */
  readonly timeoutMs: number;
  readonly kind: AttemptTimeoutKind;
}

/**
 * The per-try timeout Envoy applies: a per_try_timeout not below a non-zero route timeout is
 * dropped (FilterUtility::finalTimeout: "If it's >= global we just ignore it"). 0 = none.
 */
export function effectivePerTryTimeoutMs(routeTimeoutMs: number, perTryTimeoutMs: number): number {
  if (routeTimeoutMs > 0 && perTryTimeoutMs >= routeTimeoutMs) return 0;
  return perTryTimeoutMs;
}

/**
 * The route deadline on a monotonic clock, or `undefined` when the route timeout is 0
 * (disabled, Istio's default).
 *
 * @param requestCompleteMs when the request (with its body) was fully handed over; Envoy
 *   starts the global timer then, not when the first byte arrived.
 */
export function routeDeadlineMs(requestCompleteMs: number, routeTimeoutMs: number): number | undefined {
  return routeTimeoutMs > 0 ? requestCompleteMs + routeTimeoutMs : undefined;
}

/** Ms left before `deadline`, never negative; `undefined` when there is no deadline. */
export function remainingMs(deadline: number | undefined, nowMs: number): number | undefined {
  return deadline === undefined ? undefined : Math.max(0, deadline - nowMs);
}

/** Whether the route timeout has fired. */
export function routeTimeoutExpired(deadline: number | undefined, nowMs: number): boolean {
  return deadline !== undefined && nowMs >= deadline;
}

/**
 * The timer that bounds the attempt starting at `nowMs`: the per-try timeout or the time left
 * on the route, whichever is shorter. On a tie the route timeout wins, because a retry after
 * it could not run anyway.
 *
 * @param perTryTimeoutMs the already-effective per-try timeout ({@link effectivePerTryTimeoutMs}).
 */
export function attemptTimeout(
  perTryTimeoutMs: number,
  deadline: number | undefined,
  nowMs: number,
): AttemptTimeout {
  const left = remainingMs(deadline, nowMs);
  if (perTryTimeoutMs > 0 && (left === undefined || perTryTimeoutMs < left)) {
    return { timeoutMs: perTryTimeoutMs, kind: 'per-try' };
  }
  if (left !== undefined) return { timeoutMs: left, kind: 'route' };
  return { timeoutMs: Number.POSITIVE_INFINITY, kind: 'none' };
}
