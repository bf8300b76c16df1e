/**
 * Envoy's previous_priorities retry priority (source/extensions/retry/priority/
 * previous_priorities, api/envoy/extensions/retry/priority/previous_priorities/v3): priority
 * load recomputed without the priorities already attempted, every `update_frequency` attempts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLoadBalancer, initHash } from '../../src/lb/index.ts';
import { adjustedLoads, PreviousPriorities } from '../../src/lb/previous-priorities.ts';
import { buildLbPlan, type LbPlan } from '../../src/lb/priority-load.ts';
import { level } from './hosts.ts';
import { mulberry32 } from './mulberry32.ts';

// Levels of 100 hosts each, so health = floor(140 * healthy / 100), capped at 100.
const plan = (healthy: number[], degraded: number[] = []): LbPlan =>
  buildLbPlan(
    healthy.map((h, i) => level(h, degraded[i] ?? 0, `p${i}`)),
    { panicThreshold: 0 },
  );

/** The priority a bucket table sends every draw to, or -1 when the table is mixed. */
function onlyPriority(buckets: readonly number[] | undefined, original: LbPlan): number {
  const table = buckets ?? original.buckets;
  const first = table[0]! >> 1;
  return table.every((c) => c >> 1 === first) ? first : -1;
}

describe('previous_priorities: which loads apply', () => {
  test('update_frequency 1: a retry leaves the attempted priority; all attempted starts over', () => {
    const p = plan([100, 100]);
    const state = new PreviousPriorities(1);
    assert.equal(state.priorityBuckets(p), undefined, 'no attempt yet: the original loads');
    state.onHostAttempted(p.priorities[0]!.hosts[0]!);
    assert.equal(onlyPriority(state.priorityBuckets(p), p), 1);
    state.onHostAttempted(p.priorities[1]!.hosts[0]!);
    // Both excluded: Envoy forgets them and recomputes over every level (all load on P0 again).
    assert.equal(onlyPriority(state.priorityBuckets(p), p), 0);
  });

  test("update_frequency 2 (Istio's retryRemoteLocalities): the first retry keeps the loads", () => {
    const p = plan([100, 100, 100]);
    const state = new PreviousPriorities(2);
    state.onHostAttempted(p.priorities[0]!.hosts[0]!);
    assert.equal(state.priorityBuckets(p), undefined, 'one attempt < update_frequency');
    state.onHostAttempted(p.priorities[0]!.hosts[1]!);
    assert.equal(onlyPriority(state.priorityBuckets(p), p), 1, 'two attempts: P0 excluded');
    state.onHostAttempted(p.priorities[1]!.hosts[0]!);
    assert.equal(onlyPriority(state.priorityBuckets(p), p), 1, 'three: not a multiple, last loads kept');
    state.onHostAttempted(p.priorities[1]!.hosts[1]!);
    assert.equal(onlyPriority(state.priorityBuckets(p), p), 2, 'four: P0 and P1 excluded');
  });

  test('a host not in the plan (removed since) excludes nothing', () => {
    const p = plan([100, 100]);
    const other = plan([100]).priorities[0]!.hosts[0]!;
    const state = new PreviousPriorities(1);
    state.onHostAttempted(other);
    assert.equal(onlyPriority(state.priorityBuckets(p), p), 0);
  });

  test('update_frequency must be positive', () => {
    assert.throws(() => new PreviousPriorities(0), RangeError);
  });
});

describe('previous_priorities: adjusted loads', () => {
  test('remaining levels share by health; rounding leftovers go to the first available level', () => {
    // Health 100, 33, 35 (24 and 25 healthy hosts of 100): total 68; P1 floor(3300/68) = 48,
    // P2 floor(3500/68) = 51, and the 1 left goes around again to P1.
    assert.deepEqual(adjustedLoads(plan([100, 24, 25]), [true]), {
      healthy: [0, 49, 51],
      degraded: [0, 0, 0],
    });
  });

  test('degraded hosts of a remaining level take what its healthy hosts cannot', () => {
    // P1: 50 healthy (health 70) and 50 degraded (70): total capped at 100 -> 70 healthy, 30 degraded.
    assert.deepEqual(adjustedLoads(plan([100, 50], [0, 50]), [true]), {
      healthy: [0, 70],
      degraded: [0, 30],
    });
  });

  test('no availability left even over every level: the original loads apply', () => {
    const p = plan([0, 0]);
    const state = new PreviousPriorities(1);
    state.onHostAttempted(p.priorities[0]!.hosts[0]!);
    assert.equal(state.priorityBuckets(p), undefined);
  });
});

describe('previous_priorities: picks', () => {
  const random = mulberry32(7);
  for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] as const) {
    test(`${policy}: picks follow the retry priority's loads`, async () => {
      await initHash();
      const p = plan([100, 100]);
      const lb = createLoadBalancer(policy, p, { random });
      const state = new PreviousPriorities(1);
      state.onHostAttempted(lb.pick()!);
      const priorityBuckets = state.priorityBuckets(p)!;
      const p1 = new Set(p.priorities[1]!.hosts);
      for (let i = 0; i < 200; i++) {
        assert.ok(p1.has(lb.pick({ priorityBuckets, hash: BigInt(i) * 7919n })!));
        assert.ok(p1.has(lb.pick({ priorityBuckets })!));
      }
      assert.ok(p.priorities[0]!.hosts.includes(lb.pick({ hash: 1n })!), 'without it: P0');
    });
  }
});
