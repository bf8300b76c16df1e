import type { CircuitBreakers } from '@dabba/discovery';

/** CircuitBreakers.Thresholds.max_retries default. */
export const DEFAULT_MAX_RETRIES = 3;
/** RetryBudget.budget_percent default. */
export const DEFAULT_RETRY_BUDGET_PERCENT = 20;
/** RetryBudget.min_retry_concurrency default. */
export const DEFAULT_MIN_RETRY_CONCURRENCY = 3;

/** RoutingPriority.DEFAULT: Dabba routes every request at default priority. */
const PRIORITY_DEFAULT = 0;

/** The retry limit of a cluster's circuit breaker, as plain data. */
export interface RetryThresholds {
  /** Concurrent retries allowed when there is no budget. */
  readonly maxRetries: number;
  /** When set, replaces `maxRetries` (circuit_breaker.proto: "the retry budget will override"). */
  readonly budget:
    | {
        /** Percent of active plus pending requests that may be retries. */
        readonly budgetPercent: number;
        /** The limit never goes below this. */
        readonly minRetryConcurrency: number;
      }
    | undefined;
}

/**
 * The retry thresholds of a cluster's `circuit_breakers`: the first Thresholds entry at DEFAULT
 * priority (ResourceManagers::load), else Envoy's defaults. Missing budget fields take their
 * defaults only when the retry_budget message is present (ClusterInfoImpl::getRetryBudgetParams).
 */
export function retryThresholdsFromXds(cb: CircuitBreakers | undefined): RetryThresholds {
  const t = cb?.thresholds.find((x) => x.priority === PRIORITY_DEFAULT);
  const b = t?.retryBudget;
  return Object.freeze({
    maxRetries: t?.maxRetries ?? DEFAULT_MAX_RETRIES,
    budget:
      b === undefined
        ? undefined
        : Object.freeze({
            budgetPercent: b.budgetPercent?.value ?? DEFAULT_RETRY_BUDGET_PERCENT,
            minRetryConcurrency: b.minRetryConcurrency ?? DEFAULT_MIN_RETRY_CONCURRENCY,
          }),
  });
}

/**
 * The most retries that may be active at once (RetryBudgetImpl::max in
 * source/common/upstream/resource_manager_impl.h): with a budget,
 * `max(trunc(budget_percent / 100 * (active + pending)), min_retry_concurrency)`; else max_retries.
 */
export function maxActiveRetries(t: RetryThresholds, activeRequests: number, activePending: number): number {
  if (t.budget === undefined) return t.maxRetries;
  const byPercent = Math.trunc((t.budget.budgetPercent / 100) * (activeRequests + activePending));
  return Math.max(byPercent, t.budget.minRetryConcurrency);
}

/**
 * Whether one more retry may start: Envoy's `retries().canCreate()`, i.e. active retries below
 * {@link maxActiveRetries}. Checked after the retry limit; a refusal is response flag UO.
 */
export function retryAdmitted(
  t: RetryThresholds,
  activeRequests: number,
  activePending: number,
  activeRetries: number,
): boolean {
  return activeRetries < maxActiveRetries(t, activeRequests, activePending);
}
