import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { buildLbPlan, createLoadBalancer, initHash, type LbPolicy } from '../../src/lb/index.ts';
import { level, makeHost, makeHosts, tally } from './hosts.ts';
import { mulberry32 } from './mulberry32.ts';

before(() => initHash());

const N = 20000;

describe('Envoy arch docs "Locality weighted load balancing": X weight 1, Y weight 2', () => {
  // Doc rows (L=X healthy -> % to X). Effective weight = weight x min(1, 1.4 x healthy share);
  // locality picks are EDF, so shares over 20,000 picks are exact to +-0.1 point; the doc's
  // percentages are rounded, so the tolerance is 1 point.
  const rows: [number, number][] = [
    [100, 33],
    [70, 33],
    [69, 32],
    [50, 26],
    [25, 15],
    [0, 0],
  ];
  for (const [healthy, toX] of rows) {
    test(`L=X ${healthy}% healthy -> ${toX}% to X`, () => {
      const plan = buildLbPlan([
        [
          { weight: 1, hosts: makeHosts('x', 100, healthy) },
          { weight: 2, hosts: makeHosts('y', 100, 100) },
        ],
      ]);
      const lb = createLoadBalancer('ROUND_ROBIN', plan, { random: mulberry32(10) });
      let x = 0;
      for (let i = 0; i < N; i++) if (lb.pick()!.key.startsWith('x.')) x++;
      assert.ok(Math.abs((100 * x) / N - toX) <= 1, `to X ${(100 * x) / N}%`);
    });
  }

  test('without locality weights, hosts are balanced flat across localities', () => {
    const plan = buildLbPlan([[{ hosts: makeHosts('x', 1, 1) }, { hosts: makeHosts('y', 3, 3) }]]);
    assert.equal(plan.localityWeighted, false);
    const lb = createLoadBalancer('ROUND_ROBIN', plan, { random: mulberry32(11) });
    const counts = tally(Array.from({ length: 4000 }, () => lb.pick()));
    assert.equal(counts.get('x.0:80'), 1000);
  });

  test('a locality without a weight gets no traffic when locality weighting is on', () => {
    const plan = buildLbPlan([[{ weight: 1, hosts: makeHosts('x', 2, 2) }, { hosts: makeHosts('y', 2, 2) }]]);
    const lb = createLoadBalancer('RANDOM', plan, { random: mulberry32(12) });
    assert.ok(Array.from({ length: 1000 }, () => lb.pick()!).every((h) => h.key.startsWith('x.')));
  });
});

describe('createLoadBalancer: priority, panic and health', () => {
  const policies: LbPolicy['type'][] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'];

  for (const policy of policies) {
    test(`${policy}: 50% healthy P=0 with healthy P=1 splits 70/30 and picks only healthy hosts`, () => {
      const plan = buildLbPlan([level(50, 0, 'p0'), level(100, 0, 'p1')]);
      const lb = createLoadBalancer(policy, plan, { random: mulberry32(13) });
      let p0 = 0;
      for (let i = 0; i < N; i++) {
        const h = lb.pick()!;
        assert.equal(h.health, 'healthy');
        if (h.key.startsWith('p0.')) p0++;
      }
      assert.ok(Math.abs(p0 / N - 0.7) < 0.015, `P=0 ${p0 / N}`); // +-1.5 points
    });

    test(`${policy}: in panic, picks spread over all hosts of the level regardless of health`, () => {
      const plan = buildLbPlan([level(10)]); // 10% healthy < 50% threshold, NTA 14 < 100
      assert.equal(plan.priorities[0]!.panic, true);
      const lb = createLoadBalancer(policy, plan, { random: mulberry32(14) });
      let unhealthy = 0;
      for (let i = 0; i < N; i++) if (lb.pick()!.health === 'unhealthy') unhealthy++;
      assert.ok(Math.abs(unhealthy / N - 0.9) < 0.03, `unhealthy ${unhealthy / N}`); // +-3 points
    });

    test(`${policy}: panic disabled and nothing healthy -> no host ("no healthy upstream")`, () => {
      const plan = buildLbPlan([level(0)], { panicThreshold: 0 });
      assert.equal(createLoadBalancer(policy, plan).pick(), undefined);
    });
  }

  test('degraded hosts receive the degraded share (Envoy "Degraded endpoints")', () => {
    const plan = buildLbPlan([level(25, 65)]);
    const lb = createLoadBalancer('ROUND_ROBIN', plan, { random: mulberry32(15) });
    const degraded = Array.from({ length: N }, () => lb.pick()!).filter(
      (h) => h.health === 'degraded',
    ).length;
    assert.ok(Math.abs(degraded / N - 0.65) < 0.015, `degraded ${degraded / N}`);
  });

  test('hash LBs choose the priority from the hash: 69 -> P=0, 71 -> P=1 (Envoy RingHashFailoverTest)', () => {
    const p0 = [makeHost('127.0.0.1:80'), makeHost('127.0.0.1:81', { health: 'unhealthy' })];
    const p1 = [makeHost('127.0.0.1:82')];
    const plan = buildLbPlan([[{ hosts: p0 }], [{ hosts: p1 }]]);
    for (const policy of ['RING_HASH', 'MAGLEV'] as const) {
      const lb = createLoadBalancer(policy, plan);
      assert.equal(lb.pick({ hash: 69 }), p0[0]);
      assert.equal(lb.pick({ hash: 71n }), p1[0]);
    }
  });

  test('exclude re-runs the whole pick, up to hostSelectionRetryCount + 1 times', () => {
    const plan = buildLbPlan([[{ hosts: ['a:1', 'b:1', 'c:1'].map((k) => makeHost(k)) }]]);
    const lb = createLoadBalancer('ROUND_ROBIN', plan, { seed: 0 });
    let calls = 0;
    const exclude = () => {
      calls++;
      return true;
    };
    assert.equal(lb.pick({ exclude })?.key, 'b:1'); // default 1 retry: 2 picks, last returned
    assert.equal(calls, 2);
    calls = 0;
    assert.equal(lb.pick({ exclude, hostSelectionRetryCount: 4 })?.key, 'a:1'); // c, a, b, c, a
    assert.equal(calls, 5);
  });
});
