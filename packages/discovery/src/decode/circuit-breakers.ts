/**
 * Decoder for a Cluster's `circuit_breakers` (cluster/v3/circuit_breaker.proto): every priority's
 * thresholds resolved with Envoy's defaults, as ClusterInfoImpl builds its ResourceManagers.
 */
import type {
  CircuitBreakers,
  CircuitBreakers_Thresholds,
} from '#xds/envoy/config/cluster/v3/circuit_breaker_pb.js';
import type { CircuitBreakerLimits, ClusterCircuitBreakers, RetryBudgetLimits } from '../model/cluster.ts';
import type { IssueSink } from './decoded.ts';

/** Envoy's defaults when a threshold is absent (cluster/v3/circuit_breaker.proto). */
export const ENVOY_CIRCUIT_BREAKER_DEFAULTS: CircuitBreakerLimits = Object.freeze({
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
  retryBudget: undefined,
  trackRemaining: false,
  maxConnectionPools: undefined,
});

/** RetryBudget defaults when the budget is set but a field is not (circuit_breaker.proto). */
export const ENVOY_RETRY_BUDGET_DEFAULTS: RetryBudgetLimits = Object.freeze({
  budgetPercent: 20,
  minRetryConcurrency: 3,
});

// envoy.config.core.v3.RoutingPriority: DEFAULT 0, HIGH 1; nothing else is defined.
const ROUTING_PRIORITY_HIGH = 1;

function resolveThresholds(t: CircuitBreakers_Thresholds | undefined): CircuitBreakerLimits {
  if (!t) return ENVOY_CIRCUIT_BREAKER_DEFAULTS;
  const d = ENVOY_CIRCUIT_BREAKER_DEFAULTS;
  // ClusterInfoImpl::getRetryBudgetParams: a retry_budget message, even empty, is a budget;
  // its unset fields take their defaults (20%, 3).
  const budget = t.retryBudget;
  return Object.freeze({
    maxConnections: t.maxConnections ?? d.maxConnections,
    maxPendingRequests: t.maxPendingRequests ?? d.maxPendingRequests,
    maxRequests: t.maxRequests ?? d.maxRequests,
    maxRetries: t.maxRetries ?? d.maxRetries,
    retryBudget: budget
      ? Object.freeze({
          budgetPercent: budget.budgetPercent?.value ?? ENVOY_RETRY_BUDGET_DEFAULTS.budgetPercent,
          minRetryConcurrency: budget.minRetryConcurrency ?? ENVOY_RETRY_BUDGET_DEFAULTS.minRetryConcurrency,
        })
      : undefined,
    trackRemaining: t.trackRemaining,
    maxConnectionPools: t.maxConnectionPools,
  });
}

/** Envoy takes the first Thresholds entry of a priority and ignores later duplicates. */
function firstFor(list: readonly CircuitBreakers_Thresholds[], high: boolean) {
  return list.find((t) => (t.priority === ROUTING_PRIORITY_HIGH) === high);
}

/**
 * Resolves a cluster's `circuit_breakers`. A priority without a Thresholds entry (or a cluster
 * without circuit_breakers) gets Envoy's defaults: 1024 connections, 1024 pending requests,
 * 1024 requests, 3 retries. Istio-translated clusters set every limit (MaxUint32 when the
 * DestinationRule leaves it open), so these defaults matter for raw xDS only.
 */
export function resolveCircuitBreakers(xds: CircuitBreakers | undefined): ClusterCircuitBreakers {
  const list = xds?.thresholds ?? [];
  const perHost = xds?.perHostThresholds ?? [];
  const hostDefault = firstFor(perHost, false)?.maxConnections;
  const hostHigh = firstFor(perHost, true)?.maxConnections;
  return Object.freeze({
    default: resolveThresholds(firstFor(list, false)),
    high: resolveThresholds(firstFor(list, true)),
    perHostMaxConnections: Object.freeze({
      ...(hostDefault !== undefined ? { default: hostDefault } : {}),
      ...(hostHigh !== undefined ? { high: hostHigh } : {}),
    }),
  });
}

/**
 * {@link resolveCircuitBreakers} after the proto's validation rules: a priority Envoy does not
 * define, and a retry budget percent outside 0..100 (type/v3/percent.proto), are issues.
 */
export function decodeCircuitBreakers(
  xds: CircuitBreakers | undefined,
  sink: IssueSink,
): ClusterCircuitBreakers {
  const check = (list: readonly CircuitBreakers_Thresholds[], field: string) =>
    list.forEach((t, i) => {
      const at = `circuit_breakers.${field}[${i}]`;
      if (t.priority !== 0 && t.priority !== ROUTING_PRIORITY_HIGH)
        sink.add(`${at}.priority`, `value must be one of the defined enum values, got ${t.priority}`);
      const percent = t.retryBudget?.budgetPercent?.value;
      if (percent !== undefined && !(percent >= 0 && percent <= 100))
        sink.add(`${at}.retry_budget.budget_percent.value`, `must be within 0 and 100, got ${percent}`);
    });
  check(xds?.thresholds ?? [], 'thresholds');
  check(xds?.perHostThresholds ?? [], 'per_host_thresholds');
  return resolveCircuitBreakers(xds);
}
