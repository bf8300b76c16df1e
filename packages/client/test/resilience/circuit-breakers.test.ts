/**
 * Circuit breakers as admission control, against Envoy: defaults from cluster/v3/circuit_breaker.proto,
 * the retry budget of ResourceManagerImpl, overflow stats of conn_pool_base.cc
 * (upstream_rq_pending_overflow for max_requests and max_pending_requests, upstream_cx_overflow with
 * the never-starve rule) and the router's upstream_rq_retry_overflow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type CircuitBreakerLimits,
  CircuitBreakersSchema,
  resolveCircuitBreakers as compileCircuitBreakers,
  ENVOY_CIRCUIT_BREAKER_DEFAULTS,
} from '@dabba/discovery';
import {
  ClusterAdmission,
  createClusterAdmissions,
  envoyRetryLimit,
} from '../../src/resilience/circuit-breakers.ts';

const MAX_UINT32 = 4_294_967_295;
const HIGH = 1;

const compile = (init?: MessageInitShape<typeof CircuitBreakersSchema>) =>
  compileCircuitBreakers(init === undefined ? undefined : create(CircuitBreakersSchema, init));

const limits = (overrides: Partial<CircuitBreakerLimits>): CircuitBreakerLimits => ({
  ...ENVOY_CIRCUIT_BREAKER_DEFAULTS,
  ...overrides,
});

describe('compileCircuitBreakers', () => {
  const table: {
    name: string;
    xds: MessageInitShape<typeof CircuitBreakersSchema> | undefined;
    expect: Partial<CircuitBreakerLimits>;
    high?: Partial<CircuitBreakerLimits>;
  }[] = [
    {
      name: 'no circuit_breakers: Envoy defaults 1024/1024/1024/3',
      xds: undefined,
      expect: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
    },
    {
      name: 'an empty Thresholds: defaults per field',
      xds: { thresholds: [{}] },
      expect: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
    },
    {
      name: 'some fields set, others default',
      xds: { thresholds: [{ maxConnections: 10, maxRetries: 0 }] },
      expect: { maxConnections: 10, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 0 },
    },
    {
      name: "Istio's translation (MaxUint32 everywhere, track_remaining)",
      xds: {
        thresholds: [
          {
            maxConnections: MAX_UINT32,
            maxPendingRequests: MAX_UINT32,
            maxRequests: MAX_UINT32,
            maxRetries: MAX_UINT32,
            trackRemaining: true,
          },
        ],
      },
      expect: {
        maxConnections: MAX_UINT32,
        maxPendingRequests: MAX_UINT32,
        maxRequests: MAX_UINT32,
        maxRetries: MAX_UINT32,
        trackRemaining: true,
      },
    },
    {
      name: 'the first Thresholds of a priority wins; HIGH is separate',
      xds: {
        thresholds: [{ maxRequests: 5 }, { priority: HIGH, maxRequests: 50 }, { maxRequests: 7 }],
      },
      expect: { maxRequests: 5 },
      high: { maxRequests: 50, maxConnections: 1024 },
    },
    {
      name: 'a retry budget with fields unset gets 20% / 3 only if one field is set',
      xds: { thresholds: [{ retryBudget: { minRetryConcurrency: 1 } }] },
      expect: { retryBudget: { budgetPercent: 20, minRetryConcurrency: 1 } },
    },
    {
      // ClusterInfoImpl::getRetryBudgetParams fills both defaults when the message is present,
      // so ResourceManagerImpl::useRetryBudget holds and the budget replaces max_retries.
      name: 'an empty retry_budget is a budget of 20% with a floor of 3 (getRetryBudgetParams)',
      xds: { thresholds: [{ maxRetries: 4, retryBudget: {} }] },
      expect: { maxRetries: 4, retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 } },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const c = compile(row.xds);
      for (const [k, v] of Object.entries(row.expect))
        assert.deepEqual(c.default[k as keyof CircuitBreakerLimits], v, k);
      for (const [k, v] of Object.entries(row.high ?? {}))
        assert.deepEqual(c.high[k as keyof CircuitBreakerLimits], v, `high.${k}`);
    });
  }

  it('per_host_thresholds: only max_connections, per priority', () => {
    const c = compile({ perHostThresholds: [{ maxConnections: 2, maxRequests: 9 }] });
    assert.deepEqual(c.perHostMaxConnections, { default: 2 });
  });
});

describe('ClusterAdmission: each limit admits exactly `max` and overflows after', () => {
  const resources = [
    {
      name: 'max_requests',
      limits: { maxRequests: 3 },
      take: (a: ClusterAdmission) => a.tryStartRequest(),
      end: (a: ClusterAdmission) => a.endRequest(),
      count: (a: ClusterAdmission) => a.activeRequests,
      stat: 'upstream_rq_pending_overflow' as const,
    },
    {
      name: 'max_pending_requests',
      limits: { maxPendingRequests: 2 },
      take: (a: ClusterAdmission) => a.tryQueuePending(),
      end: (a: ClusterAdmission) => a.endPending(),
      count: (a: ClusterAdmission) => a.pendingRequests,
      stat: 'upstream_rq_pending_overflow' as const,
    },
    {
      name: 'max_retries',
      limits: { maxRetries: 1 },
      take: (a: ClusterAdmission) => a.tryStartRetry(),
      end: (a: ClusterAdmission) => a.endRetry(),
      count: (a: ClusterAdmission) => a.activeRetries,
      stat: 'upstream_rq_retry_overflow' as const,
    },
    {
      name: 'max_requests of 0 admits nothing',
      limits: { maxRequests: 0 },
      take: (a: ClusterAdmission) => a.tryStartRequest(),
      end: (a: ClusterAdmission) => a.endRequest(),
      count: (a: ClusterAdmission) => a.activeRequests,
      stat: 'upstream_rq_pending_overflow' as const,
    },
  ];
  for (const r of resources) {
    it(r.name, () => {
      const a = new ClusterAdmission(limits(r.limits));
      const max = Object.values(r.limits)[0]!;
      for (let i = 0; i < max; i++) assert.equal(r.take(a), true, `slot ${i}`);
      assert.equal(r.take(a), false, 'over the limit fails fast');
      assert.equal(r.take(a), false);
      assert.equal(a.stats[r.stat], 2, 'each overflow is counted');
      assert.equal(r.count(a), max, 'a failed try takes nothing');
      for (let i = 0; i < max; i++) r.end(a);
      assert.equal(r.count(a), 0, 'counters return to zero');
      assert.throws(() => r.end(a), RangeError, 'an unpaired end is a bug, not a silent negative');
      if (max > 0) assert.equal(r.take(a), true, 'slots free again after end');
    });
  }

  it('counters are independent: pending does not consume requests', () => {
    const a = new ClusterAdmission(limits({ maxRequests: 1, maxPendingRequests: 1 }));
    assert.equal(a.tryQueuePending(), true);
    assert.equal(a.tryStartRequest(), true);
    assert.equal(a.tryQueuePending(), false);
    assert.equal(a.tryStartRequest(), false);
    assert.equal(a.stats.upstream_rq_pending_overflow, 2);
    assert.deepEqual(a.open(), { cx_open: 0, rq_pending_open: 1, rq_open: 1, rq_retry_open: 0 });
    a.endPending();
    a.endRequest();
    assert.deepEqual(
      [a.activeRequests, a.pendingRequests, a.activeRetries, a.activeConnections],
      [0, 0, 0, 0],
    );
    assert.deepEqual(a.open(), { cx_open: 0, rq_pending_open: 0, rq_open: 0, rq_retry_open: 0 });
  });
});

describe('max_connections (conn_pool_base.cc tryCreateNewConnection)', () => {
  it('below the limit: may open; at the limit: overflow counted, and only a host without connections may open', () => {
    const a = new ClusterAdmission(limits({ maxConnections: 2 }));
    assert.equal(a.canOpenConnection(true), true);
    a.connectionOpened();
    a.connectionOpened();
    assert.equal(a.canOpenConnection(true), false);
    assert.equal(a.stats.upstream_cx_overflow, 1);
    // Never starve a host: its first connection is allowed even over the cluster limit.
    assert.equal(a.canOpenConnection(false), true);
    assert.equal(a.stats.upstream_cx_overflow, 2);
    a.connectionOpened();
    assert.equal(a.open().cx_open, 1);
    a.connectionClosed();
    a.connectionClosed();
    a.connectionClosed();
    assert.equal(a.activeConnections, 0);
    assert.throws(() => a.connectionClosed(), RangeError);
  });
});

describe('retry budget (ResourceManagerImpl::RetryBudgetImpl::max)', () => {
  const budget = limits({ maxRetries: 100, retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 } });
  const table = [
    { active: 0, pending: 0, max: 3 }, // never below min_retry_concurrency
    { active: 10, pending: 0, max: 3 },
    { active: 20, pending: 0, max: 4 },
    { active: 20, pending: 5, max: 5 }, // pending requests count
    { active: 24, pending: 0, max: 4 }, // 4.8 truncates
    { active: 1000, pending: 0, max: 200 },
  ];
  for (const row of table) {
    it(`${row.active} active + ${row.pending} pending at 20%, min 3 -> ${row.max} retries`, () => {
      const counts = {
        activeRequests: row.active,
        pendingRequests: row.pending,
        activeRetries: 0,
        activeConnections: 0,
      };
      assert.equal(envoyRetryLimit(counts, budget), row.max);
    });
  }

  it('the budget overrides max_retries and follows the live request count', () => {
    const a = new ClusterAdmission(budget);
    for (let i = 0; i < 20; i++) assert.equal(a.tryStartRequest(), true);
    for (let i = 0; i < 4; i++) assert.equal(a.tryStartRetry(), true);
    assert.equal(a.tryStartRetry(), false);
    assert.equal(a.stats.upstream_rq_retry_overflow, 1);
    for (let i = 0; i < 5; i++) assert.equal(a.tryQueuePending(), true);
    assert.equal(a.tryStartRetry(), true, '25 active+pending allow 5');
  });

  it('the retry module can replace the limit through the hook', () => {
    const calls: number[] = [];
    const a = new ClusterAdmission(limits({ maxRetries: 10 }), {
      retryLimit: (counts) => {
        calls.push(counts.activeRetries);
        return 1;
      },
    });
    assert.equal(a.tryStartRetry(), true);
    assert.equal(a.tryStartRetry(), false);
    assert.deepEqual(calls, [0, 1]);
  });
});

describe('createClusterAdmissions', () => {
  it('priorities have their own counters and share the overflow stats', () => {
    const c = createClusterAdmissions(
      compile({ thresholds: [{ maxRequests: 1 }, { priority: HIGH, maxRequests: 1 }] }),
    );
    assert.equal(c.default.tryStartRequest(), true);
    assert.equal(c.high.tryStartRequest(), true);
    assert.equal(c.default.tryStartRequest(), false);
    assert.equal(c.high.tryStartRequest(), false);
    assert.equal(c.stats.upstream_rq_pending_overflow, 2);
    assert.equal(c.default.stats, c.high.stats);
  });
});
