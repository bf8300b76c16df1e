import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { OutlierDetectionSchema } from '@dabba/discovery';
import type { Host } from '../../src/lb/host.ts';
import {
  type OutlierChange,
  OutlierDetector,
  type OutlierOutcome,
} from '../../src/resilience/outlier-detector.ts';
import { makeHosts } from '../lb/hosts.ts';
import { compileOutlierDetection } from './decode-outlier.ts';

// Envoy arch docs "Outlier detection" and source/common/upstream/outlier_detection_impl.cc are the
// reference for every expectation below.

function setup(json: JsonValue, hostCount = 10, random: () => number = () => 0) {
  const config = compileOutlierDetection(fromJson(OutlierDetectionSchema, json))!;
  const hosts = makeHosts('h', hostCount, hostCount);
  const clock = { t: 0, now: () => clock.t };
  const changes: OutlierChange[] = [];
  const detector = new OutlierDetector(config, hosts, {
    clock,
    random,
    onChange: (c) => changes.push(...c),
  });
  const record = (host: Host, outcome: OutlierOutcome, times = 1) => {
    for (let i = 0; i < times; i++) detector.recordResult(host, outcome);
  };
  return { detector, hosts, clock, changes, record };
}

describe('consecutive 5xx (Envoy default 5, enforced 100%)', () => {
  test('ejects at exactly the 5th consecutive 5xx, not the 4th, and reports the change', () => {
    const { detector, hosts, changes, record } = setup({});
    const h = hosts[0]!;
    record(h, 500, 4);
    assert.equal(detector.isEjected(h), false);
    assert.equal(changes.length, 0);
    record(h, 500);
    assert.equal(detector.isEjected(h), true);
    assert.deepEqual(changes, [{ host: h, ejected: true, type: 'consecutive-5xx' }]);
    assert.equal(detector.ejectedCount, 1);
  });

  test('a non-5xx response resets the count', () => {
    const { detector, hosts, record } = setup({});
    const h = hosts[0]!;
    record(h, 500, 4);
    record(h, 404);
    record(h, 500, 4);
    assert.equal(detector.isEjected(h), false);
  });

  test('a configured threshold of 3 ejects on the 3rd', () => {
    const { detector, hosts, record } = setup({ consecutive5xx: 3 });
    record(hosts[0]!, 503, 2);
    assert.equal(detector.isEjected(hosts[0]!), false);
    record(hosts[0]!, 503);
    assert.equal(detector.isEjected(hosts[0]!), true);
  });

  test('enforcing_consecutive_5xx 0 detects but never ejects', () => {
    const { detector, hosts, changes, record } = setup({ enforcingConsecutive5xx: 0 });
    record(hosts[0]!, 500, 50);
    assert.equal(detector.isEjected(hosts[0]!), false);
    assert.equal(changes.length, 0);
    // The counter resets after each detection, so 50 errors are 10 detections.
    assert.equal(detector.stats.detected['consecutive-5xx'], 10);
    assert.equal(detector.stats.enforced['consecutive-5xx'], 0);
  });

  test('enforcing 50%: ejected when the draw % 100 is below 50 (runtime featureEnabled)', () => {
    let draw = 50;
    const { detector, hosts, record } = setup({ enforcingConsecutive5xx: 50 }, 10, () => draw / 2 ** 32);
    record(hosts[0]!, 500, 5);
    assert.equal(detector.isEjected(hosts[0]!), false);
    draw = 49;
    record(hosts[0]!, 500, 5);
    assert.equal(detector.isEjected(hosts[0]!), true);
  });

  test('errors while ejected do not eject again (onConsecutiveErrorWorker skips ejected hosts)', () => {
    const { detector, hosts, changes, record } = setup({ maxEjectionPercent: 100 });
    record(hosts[0]!, 500, 15);
    assert.equal(changes.length, 1);
    assert.equal(detector.ejectedCount, 1);
    assert.equal(detector.hostStatus(hosts[0]!)!.numEjections, 1);
  });

  test('threshold 0 never fires (Envoy compares the count with ==)', () => {
    const { detector, hosts, record } = setup({ consecutive5xx: 0 });
    record(hosts[0]!, 500, 20);
    assert.equal(detector.isEjected(hosts[0]!), false);
  });
});

describe('consecutive gateway failure (502/503/504; Envoy default 5, enforced 0%)', () => {
  test('by default detected but not enforced', () => {
    const { detector, hosts, record } = setup({ consecutive5xx: 100 });
    record(hosts[0]!, 502, 5);
    assert.equal(detector.isEjected(hosts[0]!), false);
    assert.equal(detector.stats.detected['consecutive-gateway-failure'], 1);
  });

  test('enforced (as Istio sets it for consecutiveGatewayErrors > 0): ejects at exactly the threshold', () => {
    const { detector, hosts, changes, record } = setup({
      consecutive5xx: 100,
      consecutiveGatewayFailure: 3,
      enforcingConsecutiveGatewayFailure: 100,
    });
    record(hosts[0]!, 504, 2);
    assert.equal(detector.isEjected(hosts[0]!), false);
    record(hosts[0]!, 503);
    assert.deepEqual(changes, [{ host: hosts[0]!, ejected: true, type: 'consecutive-gateway-failure' }]);
  });

  test('a 500 is a 5xx but not a gateway error: it resets the gateway count', () => {
    const { detector, hosts, record } = setup({
      consecutive5xx: 100,
      consecutiveGatewayFailure: 3,
      enforcingConsecutiveGatewayFailure: 100,
    });
    record(hosts[0]!, 502, 2);
    record(hosts[0]!, 500);
    record(hosts[0]!, 502, 2);
    assert.equal(detector.isEjected(hosts[0]!), false);
  });
});

describe('max_ejection_percent (Envoy ejectHost: (active + 1) / hosts <= max%)', () => {
  test('default 10% of 10 hosts: one ejection, the second overflows', () => {
    const { detector, hosts, record } = setup({});
    record(hosts[0]!, 500, 5);
    record(hosts[1]!, 500, 5);
    assert.equal(detector.isEjected(hosts[0]!), true);
    assert.equal(detector.isEjected(hosts[1]!), false);
    assert.equal(detector.stats.ejectionsOverflow, 1);
  });

  test('default 10% of 5 hosts ejects nothing: Envoy does not eject one host regardless', () => {
    const { detector, hosts, record } = setup({}, 5);
    record(hosts[0]!, 500, 5);
    assert.equal(detector.isEjected(hosts[0]!), false);
  });

  test('always_eject_one_host (Envoy 1.31+): the first ejection ignores the percentage, the next does not', () => {
    const { detector, hosts, record } = setup({ alwaysEjectOneHost: true }, 5);
    record(hosts[0]!, 500, 5);
    record(hosts[1]!, 500, 5);
    assert.equal(detector.isEjected(hosts[0]!), true);
    assert.equal(detector.isEjected(hosts[1]!), false);
  });

  test('50% of 4 hosts: two ejections, the third refused', () => {
    const { detector, hosts, record } = setup({ maxEjectionPercent: 50 }, 4);
    for (const h of hosts.slice(0, 3)) record(h, 500, 5);
    assert.deepEqual(
      hosts.map((h) => detector.isEjected(h)),
      [true, true, false, false],
    );
  });
});

describe('ejection time: base_ejection_time x times ejected, capped by max_ejection_time', () => {
  test('a host stays out for base_ejection_time and comes back at the first sweep after it', () => {
    const { detector, hosts, clock, changes, record } = setup({});
    clock.t = 5_000;
    record(hosts[0]!, 500, 5);
    clock.t = 30_000;
    detector.tick();
    assert.equal(detector.isEjected(hosts[0]!), true, '25 s < 30 s');
    clock.t = 35_000;
    detector.tick();
    assert.equal(detector.isEjected(hosts[0]!), false);
    assert.deepEqual(changes.at(-1), { host: hosts[0]!, ejected: false });
    assert.equal(detector.ejectedCount, 0);
  });

  test('the second ejection lasts twice as long', () => {
    const { detector, hosts, clock, record } = setup({});
    record(hosts[0]!, 500, 5);
    clock.t = 30_000;
    detector.tick();
    assert.equal(detector.isEjected(hosts[0]!), false);
    record(hosts[0]!, 500, 5);
    assert.equal(detector.hostStatus(hosts[0]!)!.ejectedUntilMs, 30_000 + 60_000);
    clock.t = 89_999;
    detector.tick();
    assert.equal(detector.isEjected(hosts[0]!), true);
    clock.t = 90_000;
    detector.tick();
    assert.equal(detector.isEjected(hosts[0]!), false);
  });

  test('growth stops at max_ejection_time (base 10 s, max 25 s: 10, 20, 25, 25 s)', () => {
    const { detector, hosts, clock, record } = setup({ baseEjectionTime: '10s', maxEjectionTime: '25s' });
    const h = hosts[0]!;
    const lengths: number[] = [];
    for (let i = 0; i < 5; i++) {
      record(h, 500, 5);
      const s = detector.hostStatus(h)!;
      lengths.push(s.ejectedUntilMs! - clock.t);
      clock.t = s.ejectedUntilMs!;
      detector.tick();
      assert.equal(detector.isEjected(h), false);
    }
    assert.deepEqual(lengths, [10_000, 20_000, 25_000, 25_000, 25_000]);
    // The multiplier stops once base x multiplier reaches max + base (Envoy ejectHost).
    assert.equal(detector.hostStatus(h)!.ejectionMultiplier, 4);
    assert.equal(detector.hostStatus(h)!.numEjections, 5);
  });

  test('each full interval back in service takes one off the multiplier', () => {
    const { detector, hosts, clock, record } = setup({});
    const h = hosts[0]!;
    record(h, 500, 5); // multiplier 1, 30 s
    clock.t = 30_000;
    detector.tick();
    record(h, 500, 5); // multiplier 2, 60 s
    clock.t = 90_000;
    detector.tick(); // back; un-ejected this sweep, so no decrement yet
    assert.equal(detector.hostStatus(h)!.ejectionMultiplier, 2);
    clock.t = 100_000;
    detector.tick();
    assert.equal(detector.hostStatus(h)!.ejectionMultiplier, 1);
    clock.t = 110_000;
    detector.tick();
    assert.equal(detector.hostStatus(h)!.ejectionMultiplier, 0);
    record(h, 500, 5);
    assert.equal(detector.hostStatus(h)!.ejectedUntilMs, 110_000 + 30_000);
  });

  test('max_ejection_time_jitter adds draw % (jitter + 1) ms', () => {
    const { detector, hosts, clock, record } = setup(
      { maxEjectionTimeJitter: '1s' },
      10,
      () => 700 / 2 ** 32,
    );
    record(hosts[0]!, 500, 5);
    clock.t = 30_699;
    detector.tick();
    assert.equal(detector.isEjected(hosts[0]!), true);
    clock.t = 30_700;
    detector.tick();
    assert.equal(detector.isEjected(hosts[0]!), false);
  });

  test('un-ejection clears the consecutive counters, so one more error does not re-eject', () => {
    const { detector, hosts, clock, record } = setup({});
    const h = hosts[0]!;
    record(h, 500, 5);
    record(h, 500, 4); // counted while ejected (panic traffic, retries already in flight)
    clock.t = 30_000;
    detector.tick();
    record(h, 500);
    assert.equal(detector.isEjected(h), false);
  });
});

describe('hosts across snapshots (setHosts)', () => {
  test('a surviving endpoint keeps its ejection even as a new Host object', () => {
    const { detector, hosts, record } = setup({});
    record(hosts[0]!, 500, 5);
    const next = makeHosts('h', 10, 10);
    detector.setHosts(next);
    assert.equal(detector.isEjected(next[0]!), true);
    assert.equal(detector.ejectedCount, 1);
  });

  test('a removed host no longer counts against max_ejection_percent; results for it are ignored', () => {
    // 50% of 3 hosts allows one ejection; of the 2 left after a removal, one again.
    const { detector, hosts, record } = setup({ maxEjectionPercent: 50 }, 3);
    record(hosts[0]!, 500, 5);
    record(hosts[1]!, 500, 5);
    assert.equal(detector.isEjected(hosts[1]!), false, 'refused while h0 is ejected');
    detector.setHosts(hosts.slice(1));
    assert.equal(detector.ejectedCount, 0);
    record(hosts[0]!, 500, 5);
    record(hosts[1]!, 500, 5);
    assert.equal(detector.isEjected(hosts[1]!), true);
    assert.equal(detector.isEjected(hosts[0]!), false);
  });
});

describe('local-origin errors, split_external_local_origin_errors false (Envoy default)', () => {
  test('connect failures and resets count as 503: five eject through consecutive 5xx', () => {
    const { detector, hosts, changes, record } = setup({});
    record(hosts[0]!, 'connect-failure', 3);
    record(hosts[0]!, 'reset', 2);
    assert.deepEqual(changes, [{ host: hosts[0]!, ejected: true, type: 'consecutive-5xx' }]);
    assert.equal(detector.isEjected(hosts[0]!), true);
  });

  test('"two timeouts then a 500 count as three errors" (arch docs example)', () => {
    const { detector, hosts, record } = setup({ consecutive5xx: 3 });
    record(hosts[0]!, 'timeout', 2);
    assert.equal(detector.isEjected(hosts[0]!), false);
    record(hosts[0]!, 500);
    assert.equal(detector.isEjected(hosts[0]!), true);
  });

  test('timeouts are 504, a gateway error', () => {
    const { hosts, changes, record } = setup({
      consecutive5xx: 100,
      consecutiveGatewayFailure: 2,
      enforcingConsecutiveGatewayFailure: 100,
    });
    record(hosts[0]!, 'timeout', 2);
    assert.equal(changes[0]?.type, 'consecutive-gateway-failure');
  });

  test('a connection obtained maps to no HTTP code and does not reset the count', () => {
    const { detector, hosts, record } = setup({});
    record(hosts[0]!, 'connect-failure', 4);
    record(hosts[0]!, 'local-success');
    record(hosts[0]!, 'connect-failure');
    assert.equal(detector.isEjected(hosts[0]!), true);
  });
});

describe('local-origin errors, split_external_local_origin_errors true', () => {
  test('connect failures eject through consecutive_local_origin_failure, at exactly its threshold', () => {
    const { detector, hosts, changes, record } = setup({ splitExternalLocalOriginErrors: true });
    record(hosts[0]!, 'connect-failure', 4);
    assert.equal(detector.isEjected(hosts[0]!), false);
    record(hosts[0]!, 'timeout');
    assert.deepEqual(changes, [{ host: hosts[0]!, ejected: true, type: 'consecutive-local-origin-failure' }]);
  });

  test('local-origin failures no longer feed consecutive 5xx', () => {
    const { detector, hosts, record } = setup({
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: 100,
    });
    record(hosts[0]!, 'connect-failure', 3);
    record(hosts[0]!, 500, 2);
    assert.equal(detector.isEjected(hosts[0]!), false);
    record(hosts[0]!, 500, 3);
    assert.equal(detector.isEjected(hosts[0]!), true, 'five real 5xx still eject');
  });

  test('a connection obtained resets the local-origin count; a 5xx does not', () => {
    const { detector, hosts, record } = setup({ splitExternalLocalOriginErrors: true });
    record(hosts[0]!, 'reset', 4);
    record(hosts[0]!, 'local-success');
    record(hosts[0]!, 'reset', 4);
    assert.equal(detector.isEjected(hosts[0]!), false);
    record(hosts[0]!, 500);
    record(hosts[0]!, 'reset');
    assert.equal(detector.isEjected(hosts[0]!), true);
  });

  test('enforcing_consecutive_local_origin_failure 0 never ejects', () => {
    const { detector, hosts, record } = setup({
      splitExternalLocalOriginErrors: true,
      enforcingConsecutiveLocalOriginFailure: 0,
    });
    record(hosts[0]!, 'connect-failure', 30);
    assert.equal(detector.isEjected(hosts[0]!), false);
  });
});
