/**
 * The typed error of a request whose last attempt ended without a response and was not retried,
 * with Envoy's response flags: the failure's own (`UT`, `UF`/`UC`/..., `UR`), then `URX` when the
 * retry limit was the reason or `UO` when the retry circuit breaker refused.
 */
import { TlsUnavailable } from '../connection/tls-unavailable.ts';
import {
  ResponseFlag,
  UpstreamConnectError,
  UpstreamResetError,
  UpstreamTimeoutError,
  UpstreamTlsUnavailableError,
} from '../errors.ts';
import type { AttemptOutcome, NoRetryReason } from '../resilience/decide-retry.ts';
import { responseFlagOf } from './attempt-outcome.ts';
import type { RouterRoute } from './router-route.ts';

/**
 * The error for `outcome` on `endpoint` after `attempts` attempts. `idle` marks a per-try timeout
 * that was per_try_idle_timeout; `perTryTimeoutMs` is the effective per-try timeout.
 */
export function attemptFailureError(
  route: RouterRoute,
  endpoint: string,
  attempts: number,
  outcome: AttemptOutcome,
  reason: NoRetryReason,
  err: Error | undefined,
  idle: boolean,
  perTryTimeoutMs: number,
): Error {
  const flags: string[] = [];
  const ctx = {
    authority: route.requestAuthority,
    path: route.requestPath,
    cluster: route.cluster.name,
    endpoint,
    attempts,
    responseFlags: flags,
    cause: err,
  };
  // The errors copy `responseFlags` when constructed, so the retry flag goes in first (in
  // Envoy's order, the failure's own flag precedes URX / UO; responseFlagsOf sorts for metrics).
  const retryFlag =
    reason === 'retry-limit-exceeded'
      ? ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED
      : reason === 'retry-overflow'
        ? ResponseFlag.UPSTREAM_OVERFLOW
        : undefined;
  if (outcome.kind === 'per-try-timeout') {
    flags.push(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
    if (retryFlag !== undefined) flags.push(retryFlag);
    return idle
      ? new UpstreamTimeoutError({
          ...ctx,
          timeout: 'per-try-idle',
          timeoutMs: route.retry?.perTryIdleTimeoutMs ?? 0,
        })
      : new UpstreamTimeoutError({ ...ctx, timeout: 'per-try', timeoutMs: perTryTimeoutMs });
  }
  if (outcome.kind === 'connect-failure') {
    flags.push(responseFlagOf('connect-failure', err));
    if (retryFlag !== undefined) flags.push(retryFlag);
    // The TLS the endpoint requires could not be set up: say which and why, typed.
    if (err instanceof TlsUnavailable)
      return new UpstreamTlsUnavailableError({ ...ctx, code: err.code, reason: err.reason });
    return new UpstreamConnectError(ctx);
  }
  flags.push(
    responseFlagOf(outcome.kind === 'refused-stream' ? 'refused-stream' : 'reset-before-response', err),
  );
  if (retryFlag !== undefined) flags.push(retryFlag);
  return new UpstreamResetError(ctx);
}
