/**
 * Options are validated once, at construction, and every problem is reported together with its
 * path (house style: resolveXOptions).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigSource, resolveWorkload } from '@dabba/discovery';
import { ConfigError } from '../src/errors.ts';
import { type MeshOptions, resolveMeshOptions } from '../src/options.ts';

const noopSource: ConfigSource = { name: 'test', subscribe: () => ({ close: async () => {} }) };

test('a missing config source and a bad workload are reported together, each with its path', () => {
  assert.throws(
    () =>
      resolveMeshOptions({
        config: undefined as unknown as ConfigSource,
        workload: { namespace: 'Not_A_Namespace', locality: 'a/b/c/d' },
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'DABBA_CONFIG_INVALID');
      assert.deepEqual(err.issues.map((i) => i.path).sort(), [
        'config',
        'workload.locality',
        'workload.namespace',
      ]);
      assert.ok(err.issues.every((i) => i.source === 'createMesh options'));
      return true;
    },
  );
});

test("defaults are Istio's: namespace default, service account default, cluster.local domains", () => {
  const resolved = resolveMeshOptions({ config: noopSource });
  assert.equal(resolved.workload.namespace, 'default');
  assert.equal(resolved.workload.serviceAccount, 'default');
  assert.equal(resolved.workload.clusterDomain, 'cluster.local');
  assert.equal(resolved.workload.trustDomain, 'cluster.local');
  assert.deepEqual(resolved.workload.locality, { region: '', zone: '', subZone: '' });
  assert.ok(Object.isFrozen(resolved) && Object.isFrozen(resolved.workload));
});

test('a locality string becomes region, zone and subzone', () => {
  assert.deepEqual(resolveWorkload({ locality: 'us-east/us-east-1a' }).locality, {
    region: 'us-east',
    zone: 'us-east-1a',
    subZone: '',
  });
});

test('logger null turns logging off; a non-function random is rejected', () => {
  assert.equal(resolveMeshOptions({ config: noopSource, logger: null }).logger, null);
  assert.throws(
    () => resolveMeshOptions({ config: noopSource, random: 4 as unknown as () => number }),
    (err: unknown) => err instanceof ConfigError && err.issues[0]?.path === 'random',
  );
});

test('failureBreaker is off when absent, and takes its defaults when given as {}', () => {
  assert.equal(resolveMeshOptions({ config: noopSource }).failureBreaker, undefined);
  const resolved = resolveMeshOptions({ config: noopSource, failureBreaker: {} }).failureBreaker;
  assert.deepEqual(resolved, {
    clusters: undefined,
    errorThresholdPercentage: 50,
    volumeThreshold: 20,
    rollingCountTimeoutMs: 10_000,
    resetTimeoutMs: 30_000,
  });
  assert.ok(Object.isFrozen(resolved));
});

test('failureBreaker keeps what is given; clusters become a set of names', () => {
  const name = 'outbound|9080||reviews.default.svc.cluster.local';
  const resolved = resolveMeshOptions({
    config: noopSource,
    failureBreaker: {
      clusters: [name],
      errorThresholdPercentage: 0,
      volumeThreshold: 0,
      rollingCountTimeoutMs: 10,
      resetTimeoutMs: 1,
    },
  }).failureBreaker;
  assert.deepEqual([...(resolved?.clusters ?? [])], [name]);
  assert.equal(resolved?.errorThresholdPercentage, 0);
  assert.equal(resolved?.volumeThreshold, 0);
  assert.equal(resolved?.rollingCountTimeoutMs, 10);
  assert.equal(resolved?.resetTimeoutMs, 1);
});

const badBreakers: [name: string, value: unknown, paths: string[]][] = [
  ['not an object', 'on', ['failureBreaker']],
  ['an array', [], ['failureBreaker']],
  [
    'every bad field at once',
    {
      clusters: ['ok', '', 7],
      errorThresholdPercentage: 100,
      volumeThreshold: 2.5,
      rollingCountTimeoutMs: 5,
      resetTimeoutMs: 0,
      timeoutMs: 10,
    },
    [
      'failureBreaker.clusters[1]',
      'failureBreaker.clusters[2]',
      'failureBreaker.errorThresholdPercentage',
      'failureBreaker.resetTimeoutMs',
      'failureBreaker.rollingCountTimeoutMs',
      'failureBreaker.timeoutMs',
      'failureBreaker.volumeThreshold',
    ],
  ],
  ['clusters not an array', { clusters: 'outbound|80||a' }, ['failureBreaker.clusters']],
  ['clusters empty (would apply to nothing)', { clusters: [] }, ['failureBreaker.clusters']],
  ['negative percentage', { errorThresholdPercentage: -1 }, ['failureBreaker.errorThresholdPercentage']],
  ['NaN percentage', { errorThresholdPercentage: Number.NaN }, ['failureBreaker.errorThresholdPercentage']],
  ['string volume', { volumeThreshold: '20' }, ['failureBreaker.volumeThreshold']],
  ['negative volume', { volumeThreshold: -1 }, ['failureBreaker.volumeThreshold']],
  ['reset beyond setTimeout', { resetTimeoutMs: 2 ** 31 }, ['failureBreaker.resetTimeoutMs']],
  ['fractional window', { rollingCountTimeoutMs: 1000.5 }, ['failureBreaker.rollingCountTimeoutMs']],
];

for (const [name, value, paths] of badBreakers) {
  test(`failureBreaker rejected (${name}), each problem with its path, together with the others`, () => {
    assert.throws(
      () =>
        resolveMeshOptions({
          config: undefined as unknown as ConfigSource,
          failureBreaker: value as NonNullable<MeshOptions['failureBreaker']>,
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'DABBA_CONFIG_INVALID');
        assert.deepEqual(err.issues.map((i) => i.path).sort(), ['config', ...paths].sort());
        return true;
      },
    );
  });
}
