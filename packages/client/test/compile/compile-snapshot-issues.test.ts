/**
 * A snapshot whose cluster Envoy would reject is refused by the compile with every problem named
 * by resource and field path, the decoders' issues: before the decoders, a Maglev table size
 * that is not prime surfaced as a RangeError from inside the load balancer, with no field path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromJson } from '@bufbuild/protobuf';
import { ClusterSchema, ConfigError, createSnapshot } from '@dabba/discovery';
import { compileSnapshot } from '../../src/compile/compile-snapshot.ts';

const staticCluster = (name: string, extra: object) =>
  fromJson(ClusterSchema, {
    name,
    type: 'STATIC',
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '10.0.0.1', portValue: 80 } } } }],
        },
      ],
    },
    ...extra,
  });

test('regression: a bad LB setting is a ConfigError naming the cluster and the field, not a RangeError', () => {
  const snapshot = createSnapshot('1', 'xds', {
    listeners: [],
    routes: [],
    clusters: [
      staticCluster('maglev', { lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: '8' } }),
      staticCluster('least', { lbPolicy: 'LEAST_REQUEST', leastRequestLbConfig: { choiceCount: 1 } }),
      staticCluster('fine', {}),
    ],
    endpoints: [],
  });
  assert.throws(
    () => compileSnapshot(snapshot, undefined, Math.random),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => `${i.resource?.kind}/${i.resource?.name} ${i.path}`),
        ['Cluster/maglev maglev_lb_config.table_size', 'Cluster/least least_request_lb_config.choice_count'],
      );
      return true;
    },
  );
});
