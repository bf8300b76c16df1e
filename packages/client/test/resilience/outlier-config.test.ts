import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import type { OUTLIER_DEFAULTS } from '@dabba/discovery';
import { ConfigError, OutlierDetectionSchema } from '@dabba/discovery';
import { compileOutlierDetection } from './decode-outlier.ts';

const compile = (json: JsonValue) => compileOutlierDetection(fromJson(OutlierDetectionSchema, json));

describe('compileOutlierDetection: Envoy defaults (cluster/v3/outlier_detection.proto, DetectorConfig DEFAULT_*)', () => {
  const defaults: [keyof typeof OUTLIER_DEFAULTS, number | boolean][] = [
    ['consecutive5xx', 5],
    ['enforcingConsecutive5xx', 100],
    ['intervalMs', 10_000],
    ['baseEjectionTimeMs', 30_000],
    ['maxEjectionPercent', 10],
    ['alwaysEjectOneHost', false],
    ['consecutiveGatewayFailure', 5],
    ['enforcingConsecutiveGatewayFailure', 0],
    ['consecutiveLocalOriginFailure', 5],
    ['enforcingConsecutiveLocalOriginFailure', 100],
    ['splitExternalLocalOriginErrors', false],
    ['enforcingLocalOriginSuccessRate', 100],
    ['successRateMinimumHosts', 5],
    ['successRateRequestVolume', 100],
    ['successRateStdevFactor', 1900],
    ['enforcingSuccessRate', 100],
    ['failurePercentageThreshold', 85],
    ['enforcingFailurePercentage', 0],
    ['enforcingFailurePercentageLocalOrigin', 0],
    ['failurePercentageMinimumHosts', 5],
    ['failurePercentageRequestVolume', 50],
    ['maxEjectionTimeMs', 300_000],
    ['maxEjectionTimeJitterMs', 0],
  ];
  const empty = compile({})!;
  for (const [field, value] of defaults) {
    test(`${field} defaults to ${value}`, () => assert.equal(empty[field], value));
  }

  test('no outlier_detection on the cluster: no detector (Envoy DetectorImplFactory returns null)', () => {
    assert.equal(compileOutlierDetection(undefined), undefined);
  });

  test('max_ejection_time unset: 300 s or base_ejection_time, whichever is larger (proto doc)', () => {
    assert.equal(compile({ baseEjectionTime: '10s' })!.maxEjectionTimeMs, 300_000);
    assert.equal(compile({ baseEjectionTime: '400s' })!.maxEjectionTimeMs, 400_000);
  });
});

describe('compileOutlierDetection: fields', () => {
  test('every set field replaces its default', () => {
    const c = compile({
      consecutive5xx: 7,
      interval: '2.5s',
      baseEjectionTime: '1s',
      maxEjectionPercent: 40,
      enforcingConsecutive5xx: 60,
      enforcingSuccessRate: 0,
      successRateMinimumHosts: 3,
      successRateRequestVolume: 20,
      successRateStdevFactor: 1000,
      consecutiveGatewayFailure: 2,
      enforcingConsecutiveGatewayFailure: 100,
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: 4,
      enforcingConsecutiveLocalOriginFailure: 90,
      enforcingLocalOriginSuccessRate: 80,
      failurePercentageThreshold: 70,
      enforcingFailurePercentage: 100,
      enforcingFailurePercentageLocalOrigin: 50,
      failurePercentageMinimumHosts: 2,
      failurePercentageRequestVolume: 10,
      maxEjectionTime: '9s',
      maxEjectionTimeJitter: '0.250s',
      alwaysEjectOneHost: true,
    })!;
    assert.deepEqual(
      { ...c },
      {
        intervalMs: 2500,
        baseEjectionTimeMs: 1000,
        maxEjectionTimeMs: 9000,
        maxEjectionTimeJitterMs: 250,
        maxEjectionPercent: 40,
        alwaysEjectOneHost: true,
        consecutive5xx: 7,
        enforcingConsecutive5xx: 60,
        consecutiveGatewayFailure: 2,
        enforcingConsecutiveGatewayFailure: 100,
        splitExternalLocalOriginErrors: true,
        consecutiveLocalOriginFailure: 4,
        enforcingConsecutiveLocalOriginFailure: 90,
        enforcingSuccessRate: 0,
        enforcingLocalOriginSuccessRate: 80,
        successRateMinimumHosts: 3,
        successRateRequestVolume: 20,
        successRateStdevFactor: 1000,
        failurePercentageThreshold: 70,
        enforcingFailurePercentage: 100,
        enforcingFailurePercentageLocalOrigin: 50,
        failurePercentageMinimumHosts: 2,
        failurePercentageRequestVolume: 10,
      },
    );
  });

  test('an explicit 0 is kept (wrapper types): Istio disables success rate with enforcing_success_rate 0', () => {
    assert.equal(compile({ enforcingSuccessRate: 0, consecutive5xx: 0 })!.enforcingSuccessRate, 0);
    assert.equal(compile({ consecutive5xx: 0 })!.consecutive5xx, 0);
  });

  test('rejects what Envoy rejects, every problem at once (proto validation rules, DetectorImpl::create)', () => {
    const err = (() => {
      try {
        compileOutlierDetection(
          fromJson(OutlierDetectionSchema, {
            interval: '0s',
            maxEjectionPercent: 101,
            enforcingConsecutive5xx: 150,
            baseEjectionTime: '60s',
            maxEjectionTime: '30s',
          }),
          { clusterName: 'outbound|80||a.default.svc.cluster.local' },
        );
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'DABBA_CONFIG_INVALID');
    assert.deepEqual(err.issues.map((i) => i.path).sort(), [
      'outlier_detection.enforcing_consecutive_5xx',
      'outlier_detection.interval',
      'outlier_detection.max_ejection_percent',
      'outlier_detection.max_ejection_time',
    ]);
    assert.deepEqual(err.issues[0]!.resource, {
      kind: 'Cluster',
      name: 'outbound|80||a.default.svc.cluster.local',
    });
  });
});
