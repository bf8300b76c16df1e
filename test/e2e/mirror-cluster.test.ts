/**
 * End to end, on real sockets: a mirror copy goes through its cluster as Envoy's shadow requests
 * do (router.cc sends shadows through the cluster's async client, whose router and connection
 * pools are the cluster's): the mirror cluster's circuit breakers bound the copies (an overflowing
 * copy is dropped and counted in `upstream_rq_pending_overflow`), and its outlier detection hears
 * their results (a mirror endpoint answering 5xx is ejected). Envoy sets no hash policy on shadow
 * requests (RequestOptions without setHashPolicy), so a RING_HASH mirror cluster picks at random.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { Registry } from 'prom-client';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  routeYaml,
  serviceYaml,
  waitFor,
} from '../support/mesh-folder.ts';
import { seededRandom } from '../support/stats.ts';
import { slowHandler, startUpstream, switchableHandler, type Upstream } from '../support/upstream.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mirror copies and the mirror cluster', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  let registry: Registry;
  const up: Record<string, Upstream> = {};

  before(async () => {
    for (const name of ['cb', 'od', 'rh']) up[name] = await startUpstream(name);
    // The mirror of `cb` holds each copy 1.5 s; its cluster admits one request at a time.
    up.cbmirror = await startUpstream('cbmirror', slowHandler(1500));
    up.odbad = await startUpstream('odbad', switchableHandler({ status: 503 }));
    up.odgood = await startUpstream('odgood', switchableHandler({ status: 200 }));
    up.rh1 = await startUpstream('rh1');
    up.rh2 = await startUpstream('rh2');
    up.rh3 = await startUpstream('rh3');
    const one = (name: string, port = up[name]!.port) =>
      serviceYaml(name, 9080, [{ name, port, labels: {} }]);
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      [
        one('cb'),
        one('od'),
        one('rh'),
        one('cbmirror'),
        serviceYaml('odmirror', 9080, [
          { name: 'odbad', port: up.odbad!.port, labels: {} },
          { name: 'odgood', port: up.odgood!.port, labels: {} },
        ]),
        serviceYaml(
          'rhmirror',
          9080,
          ['rh1', 'rh2', 'rh3'].map((name) => ({ name, port: up[name]!.port, labels: {} })),
        ),
      ].join('---\n'),
    );
    const mirrored = (name: string, mirror: string, hash = '') =>
      `${routeYaml(name, `mirror: { host: ${mirror} }`)}${hash}---\n`;
    await folder.write(
      'rules.yaml',
      `${mirrored('cb', 'cbmirror')}${mirrored('od', 'odmirror')}${mirrored('rh', 'rhmirror')}apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: cbmirror }
spec:
  host: cbmirror
  trafficPolicy:
    connectionPool: { http: { http2MaxRequests: 1 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: odmirror }
spec:
  host: odmirror
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection: { consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 60s, maxEjectionPercent: 100 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: rhmirror }
spec:
  host: rhmirror
  trafficPolicy:
    loadBalancer: { consistentHash: { httpHeaderName: x-user } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: rh }
spec:
  host: rh
  trafficPolicy:
    loadBalancer: { consistentHash: { httpHeaderName: x-user } }
`,
    );
    registry = new Registry();
    mesh = await createMesh({
      workload: { namespace: 'default', labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(31),
      metrics: { registry },
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of Object.values(up)) await u.close();
    await folder?.remove();
  });

  const get = async (service: string, headers: Record<string, string> = {}) => {
    const res = await request(`http://${service}:9080/`, { dispatcher: mesh, headers });
    await res.body.text();
    return res.statusCode;
  };

  async function overflowCount(cluster: string): Promise<number> {
    const text = await registry.metrics();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('envoy_cluster_upstream_rq_pending_overflow{') &&
          l.includes(`cluster_name="${cluster}"`),
      );
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  }

  test('copies over the mirror cluster’s max_requests are dropped and counted; the primaries are not', async () => {
    // Five requests at once: the first copy takes the mirror cluster's one request slot for
    // 1.5 s, the other four overflow it.
    const statuses = await Promise.all([1, 2, 3, 4, 5].map(() => get('cb')));
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    assert.equal(up.cb!.received.length, 5);
    await waitFor(() => up.cbmirror!.received.length === 1, 1000, 'the first copy');
    assert.equal(await overflowCount('outbound|9080||cbmirror.default.svc.cluster.local'), 4);
    await sleep(1600);
    assert.equal(up.cbmirror!.received.length, 1);
    // The slot came back when the copy ended: the next copy goes through.
    assert.equal(await get('cb'), 200);
    await waitFor(() => up.cbmirror!.received.length === 2, 2000, 'the next copy');
  });

  test('copies report to the mirror cluster’s outlier detection: its 5xx endpoint is ejected', async () => {
    for (let i = 0; i < 20; i++) {
      assert.equal(await get('od'), 200);
      // Fire-and-forget: let the copy's answer arrive before the next pick.
      await waitFor(
        () => up.odbad!.received.length + up.odgood!.received.length === i + 1,
        2000,
        `copy ${i}`,
      );
      await sleep(10);
    }
    // Round robin sends every other copy to odbad until its third consecutive 503 ejects it.
    assert.equal(up.odbad!.received.length, 3);
    assert.equal(up.odgood!.received.length, 17);
  });

  test('a RING_HASH mirror cluster picks without the request hash, as Envoy’s shadows do', async () => {
    // 60 requests with one x-user: the primary (hashed) always lands on the one endpoint of rh;
    // the copies spread over rhmirror's three endpoints (a hashed pick would send all 60 to one).
    for (let i = 0; i < 60; i++) assert.equal(await get('rh', { 'x-user': 'alice' }), 200);
    await waitFor(
      () => up.rh1!.received.length + up.rh2!.received.length + up.rh3!.received.length === 60,
      3000,
      'all copies',
    );
    const counts = [up.rh1!, up.rh2!, up.rh3!].map((u) => u.received.length);
    assert.ok(
      counts.every((c) => c > 0),
      `copies per endpoint: ${counts.join(', ')}`,
    );
  });
});
