/**
 * Span names and the subset tag read from Istio cluster names (`outbound|<port>|<subset>|<fqdn>`,
 * istio/istio pilot/pkg/model BuildSubsetKey), with the decorator operation Istio sets on outbound
 * routes (`<host>:<port>/*` for the default route).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { istioOperationName, istioSubset } from '../../src/telemetry/tracing/span-naming.ts';

describe('span naming', () => {
  it('istioSubset: the third field of an outbound cluster name, undefined when empty or absent', () => {
    const cases: [string, string | undefined][] = [
      ['outbound|9080|v1|reviews.default.svc.cluster.local', 'v1'],
      ['outbound|9080||reviews.default.svc.cluster.local', undefined],
      ['outbound|9080|v2', 'v2'],
      ['outbound|9080', undefined],
      ['inbound|9080||', undefined],
      ['PassthroughCluster', undefined],
    ];
    for (const [cluster, subset] of cases) assert.equal(istioSubset(cluster), subset, cluster);
  });

  it('istioOperationName: <fqdn>:<port>/* from the cluster, else from the authority', () => {
    assert.equal(
      istioOperationName('outbound|9080|v1|reviews.default.svc.cluster.local', 'reviews:9080'),
      'reviews.default.svc.cluster.local:9080/*',
    );
    assert.equal(istioOperationName('PassthroughCluster', 'example.com:443'), 'example.com:443/*');
    assert.equal(istioOperationName(undefined, 'a:1'), 'a:1/*');
  });
});
