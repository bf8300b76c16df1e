import type { HeaderMatcher } from './header-matcher.ts';

/** RetryPolicy.RetryBackOff, with its durations in milliseconds. */
export interface RetryBackOffModel {
  readonly baseIntervalMs: number;
  /** undefined: Envoy's default of ten times the base interval. */
  readonly maxIntervalMs: number | undefined;
}

/** RetryPolicy.ResetHeaderFormat. */
export type ResetHeaderFormat = 'SECONDS' | 'UNIX_TIMESTAMP';

/** RetryPolicy.ResetHeader. */
export interface ResetHeaderModel {
  /** Header name as configured. */
  readonly name: string;
  readonly format: ResetHeaderFormat;
}

/** RetryPolicy.RateLimitedRetryBackOff; `resetHeaders` is never empty. */
export interface RateLimitedRetryBackOffModel {
  readonly resetHeaders: readonly ResetHeaderModel[];
  /** undefined: Envoy's default (300 s). */
  readonly maxIntervalMs: number | undefined;
}

/**
 * A RetryPolicy.retry_host_predicate entry Dabba implements: only Envoy's previous_hosts, named
 * by its typed_config type or, without one, by its extension name.
 */
export interface RetryHostPredicateModel {
  readonly kind: 'previousHosts';
  readonly name: string;
}

/** RetryPolicy.retry_priority: only Envoy's previous_priorities, its config decoded. */
export interface RetryPriorityModel {
  readonly kind: 'previousPriorities';
  readonly name: string;
  /** PreviousPrioritiesConfig `update_frequency`; always > 0. */
  readonly updateFrequency: number;
}

/**
 * route_components.proto RetryPolicy as Dabba uses it. Durations are in milliseconds; fields
 * left unset are `undefined` (the data plane applies Envoy's defaults).
 */
export interface RetryPolicyModel {
  /** `retry_on` as configured: a comma-separated list of conditions. */
  readonly retryOn: string;
  /** `num_retries`; undefined when unset (Envoy then allows 1). */
  readonly numRetries: number | undefined;
  readonly perTryTimeoutMs: number | undefined;
  readonly perTryIdleTimeoutMs: number | undefined;
  readonly retryPriority: RetryPriorityModel | undefined;
  readonly retryHostPredicates: readonly RetryHostPredicateModel[];
  /** `host_selection_retry_max_attempts`; 0 when unset. */
  readonly hostSelectionRetryMaxAttempts: number;
  readonly retriableStatusCodes: readonly number[];
  readonly retryBackOff: RetryBackOffModel | undefined;
  readonly rateLimitedRetryBackOff: RateLimitedRetryBackOffModel | undefined;
  readonly retriableHeaders: readonly HeaderMatcher[];
  readonly retriableRequestHeaders: readonly HeaderMatcher[];
}
