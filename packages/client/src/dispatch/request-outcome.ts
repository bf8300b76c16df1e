/**
 * How a routed request ended, as its telemetry and its failure-rate breaker hear it: once per
 * logical request (after retries), at the router's finishing step. The functions are plain so
 * the router calls them with its state and nothing is allocated for them.
 */
import type { Dispatcher } from 'undici';
import { ResponseFlag, UpstreamTimeoutError } from '../errors.ts';
import type { BreakerCall } from '../resilience/failure-breaker.ts';
import { grpcStatusOf, httpToGrpcStatus } from '../telemetry/grpc-response-status.ts';
import { responseFlagsOf, withFaultDelayFlag } from '../telemetry/response-outcome.ts';
import { responseHeadBytes } from '../telemetry/wire-size.ts';
import { FaultDelay } from './fault-delay.ts';
import type { RouterRoute } from './router-route.ts';

/** How a request ended, for its failure-rate breaker. */
export const Verdict = {
  /** Dabba's or the caller's end: the forwarded status decides, if any; otherwise no verdict. */
  Local: 0,
  /** An upstream failure (UF, UC, UR, UT, a reset body). */
  Upstream: 1,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/**
 * The response flags of a request that ended with `err`: the error's own, else `DC` for a
 * caller's abort and `UR` for an upstream reset after the response started.
 */
export function failureFlags(err: Error, aborted: boolean, status: number, verdict: Verdict): string {
  return responseFlagsOf(err, aborted ? 'DC' : status !== 0 && verdict === Verdict.Upstream ? 'UR' : '-');
}

/**
 * Records the logical request once in Istio's request metrics and Envoy's cluster stats, as
 * Envoy's stats filter and router would: `status` is the forwarded status, else the local reply
 * Envoy would have sent; `forwarded` the controller of the forwarded response, if any; `caller`
 * the router's handler: a {@link FaultDelay} when an injected delay held the request, whose
 * record then carries `DI` with the router's flags and a duration from before the delay
 * (Envoy's stream info times the downstream request). The cluster stats count it as any other.
 */
export function recordRequest(
  route: RouterRoute,
  status: number,
  flags: string,
  forwarded: Dispatcher.DispatchController | undefined,
  startedAt: number,
  responseBytes: number,
  attempts: number,
  reason: Error | null,
  caller: Dispatcher.DispatchHandler,
): void {
  const metrics = route.metrics;
  let sets = route.state.metrics;
  if (metrics === undefined || sets === undefined) return;
  let labelFlags = flags;
  if (caller instanceof FaultDelay) {
    labelFlags = withFaultDelayFlag(flags);
    startedAt = caller.startedAt;
  }
  let code = status;
  let grpcStatus = '';
  if (route.grpc === true) {
    sets = sets.grpc;
    if (forwarded !== undefined) {
      // Envoy's Grpc::Common::getGrpcStatus(trailers, headers, info): trailer, header, HTTP status.
      grpcStatus =
        grpcStatusOf(forwarded.rawTrailers) ??
        grpcStatusOf(forwarded.rawHeaders) ??
        (status !== 0 ? httpToGrpcStatus(status) : '');
    } else if (status !== 0) {
      // Envoy answers a gRPC request locally with a trailers-only 200 carrying the mapped status.
      code = 200;
      grpcStatus = httpToGrpcStatus(status);
    }
  }
  metrics.record(
    sets.get(code, labelFlags, grpcStatus),
    performance.now() - startedAt,
    route.requestBytes,
    forwarded === undefined ? 0 : responseHeadBytes(status, forwarded.rawHeaders) + responseBytes,
  );
  const traffic = sets.traffic;
  if (traffic !== undefined) {
    traffic.requestEnded(
      attempts,
      // The code Envoy's router charges: the forwarded status, or the local reply of an upstream
      // failure or overflow (chargeUpstreamAbort); not Dabba's own breaker, not a caller's abort.
      forwarded !== undefined || attempts > 0 || flags === ResponseFlag.UPSTREAM_OVERFLOW ? status : 0,
      // RetryStateImpl::shouldRetry: a retried request whose last result was not retriable.
      attempts > 1 && forwarded !== undefined && flags === '-',
      reason instanceof UpstreamTimeoutError && reason.timeout === 'route',
    );
  }
}

/**
 * The request's verdict for its failure-rate breaker: failure for an upstream failure or a
 * forwarded 5xx, success for any other forwarded response, no verdict without a response.
 */
export function settleBreaker(call: BreakerCall, verdict: Verdict, forwardedStatus: number): void {
  if (verdict === Verdict.Upstream || forwardedStatus >= 500) call.fail();
  else if (forwardedStatus !== 0) call.succeed();
  else call.abstain();
}
