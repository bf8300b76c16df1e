/**
 * How a routed request ended, as its record and its failure-rate breaker hear it: once per
 * logical request (after retries), at the router's finishing step. The functions are plain so
 * the router calls them with its state and nothing is allocated for them.
 */
import { ResponseFlag } from '../errors.ts';
import type { BreakerCall } from '../resilience/failure-breaker.ts';
import { responseFlagsOf } from '../telemetry/response-outcome.ts';

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
 * The code Envoy's router charges the cluster's stats for a request that ended with `status`
 * and `flags`: the forwarded status, or the local reply of an upstream failure or overflow
 * (chargeUpstreamAbort); nothing (0) for Dabba's own breaker or a caller's abort before any
 * attempt.
 */
export function chargedStatus(status: number, flags: string, forwarded: boolean, attempts: number): number {
  return forwarded || attempts > 0 || flags === ResponseFlag.UPSTREAM_OVERFLOW ? status : 0;
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
