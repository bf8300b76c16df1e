/**
 * End to end: a VirtualService canary split (80/20 across two subsets) over real sockets.
 *
 * Pins: Istio VirtualService HTTPRouteDestination.weight ("the proportion of traffic to be
 * forwarded to the service version", istio.io/latest/docs/reference/config/networking/virtual-service/
 * #HTTPRouteDestination), translated to Envoy weighted_clusters (route/v3/route_components.proto
 * WeightedCluster: "an upstream cluster is chosen in proportion to its weight").
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  serviceYaml,
  versionSubsetsYaml,
} from '../support/mesh-folder.ts';
import { assertProportion, runMany, seededRandom, tally } from '../support/stats.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

const CANARY = `${versionSubsetsYaml('reviews', { stable: 'v1', canary: 'v2' })}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - route:
        - { destination: { host: reviews, subset: stable }, weight: 80 }
        - { destination: { host: reviews, subset: canary }, weight: 20 }
`;

describe('weighted canary split', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const upstreams: Upstream[] = [];

  before(async () => {
    upstreams.push(await startUpstream('stable'), await startUpstream('canary'));
    folder = await createMeshFolder();
    await folder.write(
      'reviews.yaml',
      serviceYaml('reviews', 9080, [
        { name: 'stable', port: upstreams[0]!.port, labels: { version: 'v1' } },
        { name: 'canary', port: upstreams[1]!.port, labels: { version: 'v2' } },
      ]),
    );
    await folder.write('canary.yaml', CANARY);
    mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(0x5eed),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  // 4,000 requests; tolerance 5 sd of a binomial proportion = 5·sqrt(0.8·0.2/4000) = ±3.16 pp,
  // P(false failure) < 5.7e-7 (support/stats.ts). With the seeded random source the run is
  // deterministic anyway; the tolerance is what a Math.random run would need.
  test('80/20 route weights send 80% ± 3.16 pp of 4,000 requests to the stable subset', async () => {
    const n = 4000;
    const names = await runMany(n, 32, async () => {
      const res = await request('http://reviews:9080/', { dispatcher: mesh });
      assert.equal(res.statusCode, 200);
      return ((await res.body.json()) as { upstream: string }).upstream;
    });
    const counts = tally(names);
    assert.equal((counts.stable ?? 0) + (counts.canary ?? 0), n);
    assertProportion(counts.stable ?? 0, n, 0.8, 'stable subset');
  });

  test('control: a single 100-weight destination takes all 200 requests, so the split above comes from the weights', async () => {
    const only = CANARY.replace(
      /\n {8}- \{ destination: \{ host: reviews, subset: canary \}, weight: 20 \}/,
      '',
    ).replace('weight: 80', 'weight: 100');
    assert.notEqual(only, CANARY);
    const g = await createMeshFolder();
    await g.write(
      'reviews.yaml',
      serviceYaml('reviews', 9080, [
        { name: 'stable', port: upstreams[0]!.port, labels: { version: 'v1' } },
        { name: 'canary', port: upstreams[1]!.port, labels: { version: 'v2' } },
      ]),
    );
    await g.write('canary.yaml', only);
    const control = await createMesh({ config: istioFiles(g.dir, { watch: false }), logger: null });
    try {
      const names = await runMany(200, 16, async () => {
        const res = await request('http://reviews:9080/', { dispatcher: control });
        return ((await res.body.json()) as { upstream: string }).upstream;
      });
      assert.deepEqual(tally(names), { stable: 200 });
    } finally {
      await control.close();
      await g.remove();
    }
  });
});
