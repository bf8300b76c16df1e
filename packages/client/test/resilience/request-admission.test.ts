/**
 * Request admission under max_requests / max_pending_requests: active while the cluster's
 * connections have room, pending beyond them, overflow (UO) past either limit; a freed
 * connection promotes the oldest pending request; every slot is given back exactly once.
 * And the max_connections split across endpoint pools (compile-cluster connectionsPerEndpoint).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  type CircuitBreakerLimits,
  CircuitBreakersSchema,
  resolveCircuitBreakers as compileCircuitBreakers,
  ENVOY_CIRCUIT_BREAKER_DEFAULTS,
} from '@dabba/discovery';
import { connectionsPerEndpoint } from '../../src/compile/compile-cluster.ts';
import {
  AdmissionTicket,
  RequestAdmission,
  UNLIMITED_THRESHOLD,
} from '../../src/resilience/request-admission.ts';

const U = UNLIMITED_THRESHOLD;
const limits = (o: Partial<CircuitBreakerLimits>): CircuitBreakerLimits => ({
  ...ENVOY_CIRCUIT_BREAKER_DEFAULTS,
  maxConnections: U,
  maxPendingRequests: U,
  maxRequests: U,
  maxRetries: U,
  ...o,
});

function counts(a: RequestAdmission) {
  return { active: a.counters.activeRequests, pending: a.counters.pendingRequests };
}

describe('RequestAdmission', () => {
  it('Istio defaults (every threshold MaxUint32) count nothing; a retry budget or a finite limit does', () => {
    assert.equal(new RequestAdmission(limits({}), Infinity).counting, false);
    assert.equal(
      new RequestAdmission(limits({}), 4).counting,
      false,
      'pending unbounded: nothing to enforce',
    );
    assert.equal(new RequestAdmission(limits({ maxPendingRequests: 1 }), Infinity).counting, false);
    assert.equal(new RequestAdmission(limits({ maxPendingRequests: 1 }), 4).counting, true);
    assert.equal(new RequestAdmission(limits({ maxRequests: 10 }), Infinity).counting, true);
    assert.equal(
      new RequestAdmission(limits({ retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 } }), Infinity)
        .counting,
      true,
    );
  });

  it('capacity 1, max_pending 1: one active, one pending, the rest overflow', () => {
    const a = new RequestAdmission(limits({ maxPendingRequests: 1 }), 1);
    const first = a.admit();
    const second = a.admit();
    assert.ok(first instanceof AdmissionTicket && !first.pending);
    assert.ok(second instanceof AdmissionTicket && second.pending);
    assert.equal(a.admit(), 'max_pending_requests');
    assert.equal(a.admit(), 'max_pending_requests');
    assert.equal(a.counters.stats.upstream_rq_pending_overflow, 2);
    assert.deepEqual(counts(a), { active: 1, pending: 1 });
    // The active request ends: its connection serves the pending one.
    a.release(first);
    assert.equal(second.pending, false);
    assert.deepEqual(counts(a), { active: 1, pending: 0 });
    a.release(second);
    assert.deepEqual(counts(a), { active: 0, pending: 0 });
  });

  it('max_requests refuses at once even with connections to spare', () => {
    const a = new RequestAdmission(limits({ maxRequests: 2 }), 10);
    assert.ok(a.admit() instanceof AdmissionTicket);
    assert.ok(a.admit() instanceof AdmissionTicket);
    assert.equal(a.admit(), 'max_requests');
  });

  it('a pending request that ends (abort, timeout) gives back its pending slot only; release is idempotent', () => {
    const a = new RequestAdmission(limits({ maxPendingRequests: 2 }), 1);
    const t1 = a.admit() as AdmissionTicket;
    const t2 = a.admit() as AdmissionTicket;
    const t3 = a.admit() as AdmissionTicket;
    a.release(t2);
    a.release(t2);
    assert.deepEqual(counts(a), { active: 1, pending: 1 });
    a.release(t1);
    assert.equal(t3.pending, false, 'the oldest remaining pending request is promoted');
    a.release(t3);
    a.release(t1);
    assert.deepEqual(counts(a), { active: 0, pending: 0 });
  });

  it('a burst of admits and releases in random order leaves every counter at zero', () => {
    const a = new RequestAdmission(limits({ maxPendingRequests: 3, maxRequests: 4 }), 2);
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const held: AdmissionTicket[] = [];
    for (let i = 0; i < 1000; i++) {
      if (rnd() < 0.55) {
        const t = a.admit();
        if (typeof t !== 'string') held.push(t);
      } else if (held.length > 0) {
        a.release(held.splice(Math.floor(rnd() * held.length), 1)[0]!);
      }
      assert.ok(a.counters.activeRequests <= 2 && a.counters.pendingRequests <= 3);
    }
    for (const t of held) a.release(t);
    assert.deepEqual(counts(a), { active: 0, pending: 0 });
  });
});

describe('connectionsPerEndpoint: max_connections split across endpoint pools', () => {
  const cb = (maxConnections: number, perHost?: number) =>
    compileCircuitBreakers(
      create(CircuitBreakersSchema, {
        thresholds: [{ maxConnections }],
        ...(perHost === undefined ? {} : { perHostThresholds: [{ maxConnections: perHost }] }),
      }),
    );
  const table: [string, number, number, number | undefined, number | undefined][] = [
    ['Istio default MaxUint32: unlimited', U, 3, undefined, undefined],
    ['one endpoint takes the whole limit', 1, 1, undefined, 1],
    ['floor keeps the cluster total within the limit', 5, 2, undefined, 2],
    ['every host may still have one connection (as in Envoy)', 2, 5, undefined, 1],
    ['per-host threshold caps the share', 100, 2, 10, 10],
    ['per-host threshold alone', U, 2, 4, 4],
  ];
  for (const [name, max, hosts, perHost, expected] of table) {
    it(name, () => assert.equal(connectionsPerEndpoint(cb(max, perHost), hosts), expected));
  }
});
