import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import {
  type CircuitBreakerLimits,
  CircuitBreakersSchema,
  resolveCircuitBreakers as compileCircuitBreakers,
} from '@dabba/discovery';
import { envoyRetryLimit } from '../../src/resilience/circuit-breakers.ts';

// The retry limit the admission counters apply (ClusterAdmission.tryStartRetry), tested as it runs.
interface RetryThresholds {
  readonly maxRetries: number;
  readonly budget: { readonly budgetPercent: number; readonly minRetryConcurrency: number } | undefined;
}

function fromLimits(limits: CircuitBreakerLimits): RetryThresholds {
  return { maxRetries: limits.maxRetries, budget: limits.retryBudget };
}

function retryThresholdsFromXds(xds: Parameters<typeof compileCircuitBreakers>[0]): RetryThresholds {
  return fromLimits(compileCircuitBreakers(xds).default);
}

function thresholds(json: JsonValue): RetryThresholds {
  return retryThresholdsFromXds(fromJson(CircuitBreakersSchema, { thresholds: json }));
}

function limitsOf(t: RetryThresholds): CircuitBreakerLimits {
  return {
    maxConnections: 1024,
    maxPendingRequests: 1024,
    maxRequests: 1024,
    maxRetries: t.maxRetries,
    retryBudget: t.budget,
    trackRemaining: false,
    maxConnectionPools: undefined,
  };
}

function maxActiveRetries(t: RetryThresholds, activeRequests: number, activePending: number): number {
  return envoyRetryLimit(
    { activeRequests, pendingRequests: activePending, activeRetries: 0, activeConnections: 0 },
    limitsOf(t),
  );
}

function retryAdmitted(
  t: RetryThresholds,
  activeRequests: number,
  activePending: number,
  activeRetries: number,
) {
  return activeRetries < maxActiveRetries(t, activeRequests, activePending);
}

// cluster/v3/circuit_breaker.proto max_retries: "If not specified, the default is 3."
test('without a budget, max_retries applies: default 3', () => {
  const t = retryThresholdsFromXds(undefined);
  assert.deepEqual(t, { maxRetries: 3, budget: undefined });
  assert.equal(retryAdmitted(t, 1000, 0, 2), true);
  assert.equal(retryAdmitted(t, 1000, 0, 3), false);
});

// Istio writes max_retries MaxUint32 unless the DestinationRule sets maxRetries.
test("Istio's max_retries 4294967295 never refuses", () => {
  const t = thresholds([{ maxRetries: 4294967295 }]);
  assert.equal(retryAdmitted(t, 1, 0, 1_000_000), true);
});

// RetryBudget.budget_percent: "if there are 100 active requests and the budget_percent is set to
// 25, there may be 25 active retries."
test('budget_percent example from the proto: 100 active at 25% allows 25 retries', () => {
  const t = thresholds([{ retryBudget: { budgetPercent: { value: 25 } } }]);
  assert.equal(maxActiveRetries(t, 100, 0), 25);
  assert.equal(retryAdmitted(t, 100, 0, 24), true);
  assert.equal(retryAdmitted(t, 100, 0, 25), false);
});

// "as a percentage of the sum of active requests and active pending requests"
test('the budget counts active and pending requests', () => {
  const t = thresholds([{ retryBudget: { budgetPercent: { value: 25 } } }]);
  assert.equal(maxActiveRetries(t, 60, 40), 25);
});

// Defaults "Defaults to 20%" and min_retry_concurrency "Defaults to 3" apply once retry_budget is
// present (ClusterInfoImpl::getRetryBudgetParams); "may never go below this number".
test('empty retry_budget: 20% with a floor of 3 concurrent retries', () => {
  const t = thresholds([{ retryBudget: {} }]);
  assert.deepEqual(t.budget, { budgetPercent: 20, minRetryConcurrency: 3 });
  assert.equal(maxActiveRetries(t, 0, 0), 3);
  assert.equal(maxActiveRetries(t, 10, 0), 3);
  assert.equal(maxActiveRetries(t, 100, 0), 20);
  // uint64 conversion truncates: 20% of 19 is 3.8 -> 3.
  assert.equal(
    maxActiveRetries({ maxRetries: 3, budget: { budgetPercent: 20, minRetryConcurrency: 0 } }, 19, 0),
    3,
  );
});

// "If this field is set, the retry budget will override any configured retry circuit breaker."
test('a budget overrides max_retries', () => {
  const t = thresholds([
    { maxRetries: 1, retryBudget: { budgetPercent: { value: 50 }, minRetryConcurrency: 0 } },
  ]);
  assert.equal(retryAdmitted(t, 10, 0, 4), true);
  assert.equal(retryAdmitted(t, 10, 0, 5), false);
});

// ResourceManagers::load: the first Thresholds entry whose priority matches (DEFAULT here).
test('only DEFAULT-priority thresholds apply', () => {
  const t = thresholds([{ priority: 'HIGH', maxRetries: 100 }, { maxRetries: 7 }]);
  assert.equal(t.maxRetries, 7);
});
