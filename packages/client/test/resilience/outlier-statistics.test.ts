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
import { successRateEjectionThreshold } from '../../src/resilience/outlier-statistics.ts';
import { makeHosts } from '../lb/hosts.ts';
import { compileOutlierDetection } from './decode-outlier.ts';

// Consecutive detectors off (a threshold of 0 never fires) so only the interval sweep ejects;
// max_ejection_percent 100 so the bound does not hide a detector.
const SWEEP_ONLY = { consecutive5xx: 0, consecutiveGatewayFailure: 0, consecutiveLocalOriginFailure: 0 };

function setup(json: JsonValue, hostCount = 5) {
  const config = compileOutlierDetection(
    fromJson(OutlierDetectionSchema, { maxEjectionPercent: 100, ...SWEEP_ONLY, ...(json as object) }),
  )!;
  const hosts = makeHosts('h', hostCount, hostCount);
  const clock = { t: 0, now: () => clock.t };
  const changes: OutlierChange[] = [];
  const detector = new OutlierDetector(config, hosts, {
    clock,
    random: () => 0,
    onChange: (c) => changes.push(...c),
  });
  /** Records `success` successes and `total - success` failures of the given kind. */
  const feed = (host: Host, success: number, total: number, failure: OutlierOutcome = 500) => {
    for (let i = 0; i < success; i++) detector.recordResult(host, 200);
    for (let i = success; i < total; i++) detector.recordResult(host, failure);
  };
  const ejected = () => hosts.map((h) => detector.isEjected(h));
  return { detector, hosts, clock, changes, feed, ejected };
}

describe('success rate: threshold = mean - stdev x success_rate_stdev_factor / 1000 (outlier_detection.proto)', () => {
  test("Envoy's own example: {50, 100, 100, 100, 100} at 1.9 -> mean 90, threshold 52", () => {
    const r = successRateEjectionThreshold([50, 100, 100, 100, 100], 1.9);
    assert.equal(r.mean, 90);
    assert.ok(Math.abs(r.threshold - 52) < 1e-9);
  });

  // [success rates (percent, 100 requests each), stdev factor, expected threshold, ejected]
  const table: [number[], number, number, boolean[]][] = [
    [[50, 100, 100, 100, 100], 1900, 52, [true, false, false, false, false]],
    [[80, 85, 90, 95, 100], 1900, 90 - 1.9 * Math.sqrt(50), [false, false, false, false, false]],
    [[80, 85, 90, 95, 100], 1000, 90 - Math.sqrt(50), [true, false, false, false, false]],
    [
      [70, 95, 96, 97, 98, 99],
      1900,
      92.5 - 1.9 * Math.sqrt(617.5 / 6),
      [true, false, false, false, false, false],
    ],
    [[100, 100, 100, 100, 100], 1900, 100, [false, false, false, false, false]],
  ];
  for (const [rates, factor, threshold, expected] of table) {
    test(`rates ${rates.join(',')} factor ${factor}: threshold ${threshold.toFixed(2)}`, () => {
      const { detector, hosts, feed, ejected } = setup({ successRateStdevFactor: factor }, rates.length);
      for (let i = 0; i < rates.length; i++) feed(hosts[i]!, rates[i]!, 100);
      detector.tick();
      assert.deepEqual(ejected(), expected);
      const direct = successRateEjectionThreshold(rates, factor / 1000);
      assert.ok(Math.abs(direct.threshold - threshold) < 1e-9);
      assert.equal(detector.stats.enforced['success-rate'], expected.filter(Boolean).length);
    });
  }

  test('hosts below success_rate_request_volume (100) are not counted towards minimum hosts (5)', () => {
    const { detector, hosts, feed, ejected } = setup({});
    feed(hosts[0]!, 50, 100);
    for (const h of hosts.slice(1, 4)) feed(h, 100, 100);
    feed(hosts[4]!, 99, 99);
    detector.tick();
    assert.deepEqual(ejected(), [false, false, false, false, false]);
  });

  test('enforcing_success_rate 0 (what Istio sets) detects and never ejects', () => {
    const { detector, hosts, feed, ejected } = setup({ enforcingSuccessRate: 0 });
    feed(hosts[0]!, 50, 100);
    for (const h of hosts.slice(1)) feed(h, 100, 100);
    detector.tick();
    assert.deepEqual(ejected(), [false, false, false, false, false]);
    assert.equal(detector.stats.detected['success-rate'], 1);
  });

  test('only the interval that just ended counts: the next sweep starts from zero', () => {
    const { detector, hosts, feed, ejected } = setup({});
    // 60 requests per host in each of three intervals: never 100 in one.
    for (let round = 0; round < 3; round++) {
      feed(hosts[0]!, 30, 60);
      for (const h of hosts.slice(1)) feed(h, 60, 60);
      detector.tick();
    }
    assert.deepEqual(ejected(), [false, false, false, false, false]);
  });
});

describe('failure percentage (threshold 85, minimum hosts 5, request volume 50; enforcing 0 by default)', () => {
  test('not enforced by default', () => {
    const { detector, hosts, feed, ejected } = setup({ enforcingSuccessRate: 0 });
    feed(hosts[0]!, 0, 50);
    for (const h of hosts.slice(1)) feed(h, 50, 50);
    detector.tick();
    assert.deepEqual(ejected(), [false, false, false, false, false]);
    assert.equal(detector.stats.detected['failure-percentage'], 1);
  });

  test('enforced: ejects at exactly 85% failures, not at 84%', () => {
    const { detector, hosts, feed, changes, ejected } = setup({
      enforcingSuccessRate: 0,
      enforcingFailurePercentage: 100,
    });
    feed(hosts[0]!, 15, 100); // 85% failures
    feed(hosts[1]!, 16, 100); // 84%
    for (const h of hosts.slice(2)) feed(h, 100, 100);
    detector.tick();
    assert.deepEqual(ejected(), [true, false, false, false, false]);
    assert.deepEqual(changes, [{ host: hosts[0]!, ejected: true, type: 'failure-percentage' }]);
  });

  test('a host under failure_percentage_request_volume is not judged, and does not count towards minimum hosts', () => {
    const { detector, hosts, feed, ejected } = setup({
      enforcingSuccessRate: 0,
      enforcingFailurePercentage: 100,
    });
    feed(hosts[0]!, 0, 49);
    for (const h of hosts.slice(1)) feed(h, 50, 50);
    detector.tick();
    assert.deepEqual(ejected(), [false, false, false, false, false]);
    // With 4 judged hosts of 5 required, even a 100%-failing one with volume stays.
    const b = setup({ enforcingSuccessRate: 0, enforcingFailurePercentage: 100 });
    b.feed(b.hosts[0]!, 0, 50);
    for (const h of b.hosts.slice(1, 4)) b.feed(h, 50, 50);
    b.detector.tick();
    assert.deepEqual(b.ejected(), [false, false, false, false, false]);
  });

  test('ejected hosts come back after base_ejection_time and are judged again only on new traffic', () => {
    const { detector, hosts, clock, feed, ejected } = setup({
      enforcingSuccessRate: 0,
      enforcingFailurePercentage: 100,
    });
    feed(hosts[0]!, 0, 50);
    for (const h of hosts.slice(1)) feed(h, 50, 50);
    detector.tick();
    assert.equal(ejected()[0], true);
    clock.t = 30_000;
    detector.tick();
    assert.equal(ejected()[0], false);
  });
});

describe('local-origin statistics follow split_external_local_origin_errors', () => {
  test('split: connect failures feed the local-origin failure percentage (enforcing_failure_percentage_local_origin)', () => {
    const { detector, hosts, feed, changes } = setup({
      splitExternalLocalOriginErrors: true,
      enforcingSuccessRate: 0,
      enforcingLocalOriginSuccessRate: 0,
      enforcingFailurePercentageLocalOrigin: 100,
    });
    for (let i = 0; i < 50; i++) detector.recordResult(hosts[0]!, 'connect-failure');
    for (const h of hosts.slice(1)) for (let i = 0; i < 50; i++) detector.recordResult(h, 'local-success');
    for (const h of hosts) feed(h, 50, 50);
    detector.tick();
    assert.deepEqual(changes, [{ host: hosts[0]!, ejected: true, type: 'failure-percentage-local-origin' }]);
  });

  test('not split: connect failures are 503s in the external failure percentage', () => {
    const { detector, hosts, feed, changes } = setup({
      enforcingSuccessRate: 0,
      enforcingFailurePercentage: 100,
    });
    feed(hosts[0]!, 0, 50, 'connect-failure');
    for (const h of hosts.slice(1)) feed(h, 50, 50);
    detector.tick();
    assert.deepEqual(changes, [{ host: hosts[0]!, ejected: true, type: 'failure-percentage' }]);
  });

  test('split: the same connect failures leave the external statistics alone', () => {
    const { detector, hosts, feed, changes } = setup({
      splitExternalLocalOriginErrors: true,
      enforcingSuccessRate: 0,
      enforcingFailurePercentage: 100,
    });
    feed(hosts[0]!, 0, 50, 'connect-failure');
    for (const h of hosts.slice(1)) feed(h, 50, 50);
    detector.tick();
    assert.deepEqual(changes, []);
  });
});
