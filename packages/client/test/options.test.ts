/**
 * Options are validated once, at construction, and every problem is reported together with its
 * path (house style: resolveXOptions).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigSource, resolveWorkload } from '@dabba/discovery';
import { ConfigError } from '../src/errors.ts';
import { resolveMeshOptions } from '../src/options.ts';

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
