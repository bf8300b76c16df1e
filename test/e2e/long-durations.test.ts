/**
 * End to end, real sockets and real timers: durations longer than one Node timer holds (2^31-1
 * ms, about 24.8 days) are honoured as Envoy honours them. Node replaces such a delay with 1 ms,
 * so before this a route timeout of 600h failed every request at once with UT, a 600h fault
 * delay was skipped, and a 600h outlier interval swept every millisecond. istiod accepts all
 * three (agent.ValidateDuration has no upper bound).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, routeYaml, serviceYaml } from '../support/mesh-folder.ts';
import { seededRandom } from '../support/stats.ts';
import { slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

describe('durations past the Node timer limit', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const up: Record<string, Upstream> = {};

  before(async () => {
    up.slow = await startUpstream('slow', slowHandler(150));
    up.delayed = await startUpstream('delayed');
    up.good = await startUpstream('good');
    up.bad = await startUpstream('bad', (_req, res) => {
      res.statusCode = 503;
      res.end('bad');
    });
    folder = await createMeshFolder();
    await folder.write(
      'all.yaml',
      [
        serviceYaml('slow', 9080, [{ name: 'slow', port: up.slow.port, labels: {} }]),
        routeYaml('slow', 'timeout: 600h', 'retries: { attempts: 1, perTryTimeout: 700h, retryOn: 5xx }'),
        serviceYaml('delayed', 9080, [{ name: 'delayed', port: up.delayed.port, labels: {} }]),
        routeYaml('delayed', 'fault: { delay: { fixedDelay: 600h, percentage: { value: 100 } } }'),
        serviceYaml('ejecting', 9080, [
          { name: 'good', port: up.good.port, labels: {} },
          { name: 'bad', port: up.bad.port, labels: {} },
        ]),
        `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ejecting }
spec:
  host: ejecting
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection: { consecutive5xxErrors: 1, interval: 600h, baseEjectionTime: 10ms, maxEjectionPercent: 100 }
`,
      ].join('---\n'),
    );
    mesh = await createMesh({
      workload: { namespace: 'default', labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(5),
    });
  });

  after(async () => {
    await mesh?.destroy();
    await folder?.remove();
    for (const u of Object.values(up)) await u.close();
  });

  test('regression: a 600h route timeout and 700h per-try timeout wait for a 150 ms answer (it failed in ~1 ms with UT)', async () => {
    const started = performance.now();
    const res = await request('http://slow:9080/', { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    await res.body.text();
    assert.ok(performance.now() - started >= 140);
  });

  test('regression: a 600h fault delay holds the request (it was skipped), and an abort during it settles', async () => {
    const controller = new AbortController();
    const pending = request('http://delayed:9080/', { dispatcher: mesh, signal: controller.signal });
    const outcome = await Promise.race([
      pending.then(
        () => 'answered',
        () => 'failed',
      ),
      sleep(300, 'waiting'),
    ]);
    assert.equal(outcome, 'waiting');
    assert.equal(up.delayed!.received.length, 0, 'nothing reached the upstream during the delay');
    controller.abort();
    await assert.rejects(pending);
  });

  test('regression: a 600h outlier interval does not sweep every millisecond: an ejected host stays out past baseEjectionTime', async () => {
    // Round robin over good and bad: one 503 ejects bad (consecutive5xxErrors: 1). Un-ejection
    // waits for a sweep, which a 600h interval does not run within this test; a 1 ms sweep would
    // bring bad back 10 ms later.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await request('http://ejecting:9080/', { dispatcher: mesh });
      statuses.push(res.statusCode);
      await res.body.text();
    }
    assert.ok(statuses.includes(503), 'bad answered once before it was ejected');
    await sleep(200);
    const after: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await request('http://ejecting:9080/', { dispatcher: mesh });
      after.push(res.statusCode);
      await res.body.text();
    }
    assert.deepEqual(after, Array(10).fill(200), 'bad stayed ejected');
  });
});
