import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildLbPlan, choosePriority, type PriorityInput } from '../../src/lb/priority-load.ts';
import { level, makeHosts } from './hosts.ts';

// Each level has 100 hosts, so "71% healthy" is 71 healthy hosts and health = floor(140*71/100).
const plan = (healthy: number[], panicThreshold?: number) =>
  buildLbPlan(
    healthy.map((h, i) => level(h, 0, `p${i}`)),
    panicThreshold === undefined ? {} : { panicThreshold },
  );

// The "Priority levels" section describes priority load before panic is applied, so these
// tables run with panic disabled (panicThreshold 0); panic has its own section below.
describe('Envoy arch docs "Priority levels": priority load', () => {
  const twoLevelsP1Healthy: [number, number, number][] = [
    [100, 100, 0],
    [72, 100, 0],
    [71, 99, 1],
    [50, 70, 30],
    [25, 35, 65],
    [0, 0, 100],
  ];
  for (const [p0, load0, load1] of twoLevelsP1Healthy) {
    test(`table 1 (P=1 100% healthy): P=0 ${p0}% healthy -> ${load0}% / ${load1}%`, () => {
      assert.deepEqual(plan([p0, 100], 0).healthyLoad, [load0, load1]);
    });
  }

  const twoLevels: [number, number, number, number][] = [
    [100, 100, 100, 0],
    [72, 72, 100, 0],
    [71, 71, 99, 1],
    [50, 50, 70, 30],
    [25, 100, 35, 65],
    [25, 25, 50, 50], // normalized total health 70: {35, 35} scaled to {50, 50}
  ];
  for (const [p0, p1, load0, load1] of twoLevels) {
    test(`table 2: P=0 ${p0}%, P=1 ${p1}% healthy -> ${load0}% / ${load1}%`, () => {
      assert.deepEqual(plan([p0, p1], 0).healthyLoad, [load0, load1]);
    });
  }

  const threeLevels: [number, number, number, number[]][] = [
    [100, 100, 100, [100, 0, 0]],
    [72, 72, 100, [100, 0, 0]],
    [71, 71, 100, [99, 1, 0]],
    [50, 50, 100, [70, 30, 0]],
    [25, 100, 100, [35, 65, 0]],
    [25, 25, 100, [35, 35, 30]],
    // The doc shows 36/36/28 (exact shares of 35/35/28 over 98, rounded). Envoy's integer
    // algorithm floors each share (35, 35, 28) and gives the 2% left to the first level with
    // healthy hosts (load_balancer_impl.cc recalculatePerPriorityState), so 37/35/28.
    [25, 25, 20, [37, 35, 28]],
  ];
  for (const [p0, p1, p2, loads] of threeLevels) {
    test(`table 3: ${p0}% / ${p1}% / ${p2}% healthy -> ${loads.join('/')}`, () => {
      assert.deepEqual(plan([p0, p1, p2], 0).healthyLoad, loads);
    });
  }

  test('health score is integer: floor(1.4 x healthy%), capped at 100', () => {
    assert.deepEqual(
      plan([71, 72, 50, 0], 0).priorities.map((p) => p.health),
      [99, 100, 70, 0],
    );
  });

  test('overprovisioning factor is configurable (ClusterLoadAssignment.Policy)', () => {
    const p = buildLbPlan([level(80, 0, 'a'), level(100, 0, 'b')], {
      overprovisioningFactor: 100,
      panicThreshold: 0,
    });
    assert.deepEqual(p.healthyLoad, [80, 20]);
  });

  test('weighted_priority_health uses host weights instead of counts', () => {
    const hosts = makeHosts('w', 2, 1);
    const heavy = [{ ...hosts[0]!, weight: 3 }, hosts[1]!]; // healthy weight 3 of 4
    const backup = makeHosts('b', 1, 1);
    const byCount = buildLbPlan([[{ hosts: heavy }], [{ hosts: backup }]], { panicThreshold: 0 });
    const byWeight = buildLbPlan([[{ hosts: heavy }], [{ hosts: backup }]], {
      panicThreshold: 0,
      weightedPriorityHealth: true,
    });
    assert.equal(byCount.priorities[0]!.health, 70); // 140 * 1/2
    assert.equal(byWeight.priorities[0]!.health, 100); // 140 * 3/4 capped
  });
});

describe('Envoy arch docs "Degraded endpoints": degraded hosts take the spill before lower health', () => {
  const rows: [number, number, number, number][] = [
    // healthy%, degraded%, traffic to healthy, traffic to degraded (unhealthy is the rest)
    [100, 0, 100, 0],
    [71, 0, 100, 0],
    [71, 29, 99, 1],
    [25, 65, 35, 65],
    [5, 0, 100, 0],
  ];
  for (const [healthy, degraded, toHealthy, toDegraded] of rows) {
    test(`P=0 ${healthy}% healthy / ${degraded}% degraded -> ${toHealthy}% / ${toDegraded}%`, () => {
      const p = buildLbPlan([level(healthy, degraded)]);
      assert.deepEqual([p.healthyLoad[0], p.degradedLoad[0]], [toHealthy, toDegraded]);
    });
  }
});

describe('Envoy arch docs "Panic threshold"', () => {
  const p1Healthy: [number, number, number][] = [
    [72, 100, 0],
    [71, 99, 1],
    [50, 70, 30],
    [25, 35, 65],
    [0, 0, 100],
  ];
  for (const [p0, load0, load1] of p1Healthy) {
    test(`table 1: P=0 ${p0}% with P=1 healthy -> ${load0}/${load1}, no panic, NTA 100`, () => {
      const p = plan([p0, 100]);
      assert.deepEqual(p.healthyLoad, [load0, load1]);
      assert.deepEqual(
        p.priorities.map((x) => x.panic),
        [false, false],
      );
      assert.equal(p.normalizedTotalAvailability, 100);
    });
  }

  // Panic flags and normalized total health are as the doc's table 2. Its loads for 50/60 (doc
  // 50/50) and 25/100 (doc 25/75) contradict the "Priority levels" section, which Envoy's code
  // follows (70/30, 35/65); 5/65 is 8/92 in Envoy's integer algorithm (doc 7/93): 7 and
  // floor(91*100/98)=92, remainder 1 to P=0.
  const bothLevels: [number, number, number[], boolean[], number][] = [
    [72, 72, [100, 0], [false, false], 100],
    [71, 71, [99, 1], [false, false], 100],
    [50, 60, [70, 30], [false, false], 100],
    [25, 100, [35, 65], [false, false], 100],
    [25, 25, [50, 50], [true, true], 70],
    [5, 65, [8, 92], [true, false], 98],
  ];
  for (const [p0, p1, loads, panic, nta] of bothLevels) {
    test(`table 2: P=0 ${p0}%, P=1 ${p1}% -> panic ${panic.join('/')}, NTA ${nta}`, () => {
      const p = plan([p0, p1]);
      assert.deepEqual(
        p.priorities.map((x) => x.panic),
        panic,
      );
      assert.equal(p.normalizedTotalAvailability, nta);
      assert.deepEqual(p.healthyLoad, loads);
    });
  }

  test('panic threshold 0 disables panic; all unhealthy -> 100% to P=0, no host to pick', () => {
    const p = plan([0, 0], 0);
    assert.deepEqual(p.healthyLoad, [100, 0]);
    assert.deepEqual(
      p.priorities.map((x) => x.panic),
      [false, false],
    );
  });

  // The doc says "all traffic will be redirected to P=0"; Envoy's recalculateLoadInTotalPanic
  // spreads it by host count over all levels (here 4 hosts vs 1), which we follow.
  test('all hosts unhealthy with threshold > 0: total panic, load by host count', () => {
    const p = buildLbPlan([[{ hosts: makeHosts('a', 4, 0) }], [{ hosts: makeHosts('b', 1, 0) }]]);
    assert.equal(p.totalPanic, true);
    assert.deepEqual(p.healthyLoad, [80, 20]);
  });

  test('panic threshold is configurable and compares unscaled healthy%', () => {
    // 40% healthy: health 56, NTA 56 < 100; 40 < 50 panics, 40 >= 30 does not.
    assert.equal(plan([40])!.priorities[0]!.panic, true);
    assert.equal(plan([40], 30).priorities[0]!.panic, false);
  });

  test('an empty P=0 in total panic gives its load to the first non-empty level', () => {
    const p = buildLbPlan([[], [{ hosts: makeHosts('b', 3, 0) }]] as PriorityInput[]);
    assert.deepEqual(p.healthyLoad, [0, 100]);
  });
});

describe('choosePriority: value % 100 + 1 against cumulative loads', () => {
  test('70/30 split: 69 -> P=0, 70 -> P=1 (Envoy RingHashFailoverTest uses 69 and 71)', () => {
    const p = plan([50, 100]);
    assert.deepEqual(choosePriority(p, 69), { priority: 0, degraded: false });
    assert.deepEqual(choosePriority(p, 70), { priority: 1, degraded: false });
    assert.deepEqual(choosePriority(p, 171), { priority: 1, degraded: false });
  });

  test('degraded buckets follow all healthy buckets', () => {
    const p = buildLbPlan([level(25, 65)]);
    assert.deepEqual(choosePriority(p, 34), { priority: 0, degraded: false });
    assert.deepEqual(choosePriority(p, 35), { priority: 0, degraded: true });
  });

  test('the plan is frozen', () => {
    const p = plan([100]);
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.healthyLoad) && Object.isFrozen(p.priorities[0]));
  });
});
