import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildLbPlan, createLoadBalancer } from '../../src/lb/index.ts';
import { createLeastRequestPicker } from '../../src/lb/least-request.ts';
import { createRoundRobinPicker } from '../../src/lb/round-robin.ts';
import { makeHost } from './hosts.ts';

function weightedHosts(n: number) {
  return Array.from({ length: n }, (_, i) => makeHost(`10.0.0.${i}:80`, { weight: 1 + (i % 4) }));
}

describe('pickers built on first pick', () => {
  test('round robin picks as a picker built with the balancer would', () => {
    const hosts = weightedHosts(17);
    const balancer = createLoadBalancer('ROUND_ROBIN', buildLbPlan([[{ hosts }]]), { seed: 99 });
    const reference = createRoundRobinPicker(hosts, { seed: 99 });
    for (let i = 0; i < 200; i++) assert.equal(balancer.pick()?.key, reference.pick()?.key);
  });

  test('weighted least request reads in-flight counts when the balancer is created', () => {
    const hosts = weightedHosts(9);
    hosts[0]!.activeRequests = 5;
    hosts[3]!.activeRequests = 2;
    const balancer = createLoadBalancer('LEAST_REQUEST', buildLbPlan([[{ hosts }]]), { seed: 7 });
    const reference = createLeastRequestPicker(hosts, { seed: 7 });
    // The in-flight requests finish before the first pick; both schedules started with them.
    hosts[0]!.activeRequests = 0;
    hosts[3]!.activeRequests = 0;
    for (let i = 0; i < 100; i++) assert.equal(balancer.pick()?.key, reference.pick()?.key);
  });

  test('invalid policy settings still fail when the balancer is created', () => {
    const plan = buildLbPlan([[{ hosts: weightedHosts(3) }]]);
    assert.throws(() => createLoadBalancer({ type: 'LEAST_REQUEST', choiceCount: 1 }, plan), RangeError);
    assert.throws(
      () => createLoadBalancer({ type: 'RING_HASH', minimumRingSize: 10, maximumRingSize: 5 }, plan),
      RangeError,
    );
    assert.throws(() => createLoadBalancer({ type: 'MAGLEV', tableSize: 100 }, plan), RangeError);
  });

  test('plans share host lists instead of copying them', () => {
    const hosts = Object.freeze(weightedHosts(6));
    const plan = buildLbPlan([[{ hosts }]]);
    const p = plan.priorities[0]!;
    assert.equal(p.localities[0]!.hosts, hosts);
    assert.equal(p.hosts, hosts);
    assert.equal(p.healthyHosts, hosts);
    assert.equal(p.degradedHosts.length, 0);
    assert.equal(buildLbPlan([[{ hosts: weightedHosts(2) }]]).buckets, plan.buckets);
  });
});
