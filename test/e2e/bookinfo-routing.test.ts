/**
 * End to end: Istio's own Bookinfo VirtualServices and DestinationRules, unchanged, next to
 * ServiceEntries/WorkloadEntries for real local servers; requests go through fetch() and
 * undici.request() with the mesh as dispatcher, over real sockets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { fetch, request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

describe('Bookinfo routing through the mesh', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const upstreams: Record<string, Upstream> = {};

  before(async () => {
    for (const name of ['reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1'])
      upstreams[name] = await startUpstream(name);
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      serviceYaml('reviews', 9080, [
        { name: 'reviews-v1', port: upstreams['reviews-v1']!.port, labels: { version: 'v1' } },
        { name: 'reviews-v2', port: upstreams['reviews-v2']!.port, labels: { version: 'v2' } },
        { name: 'reviews-v3', port: upstreams['reviews-v3']!.port, labels: { version: 'v3' } },
      ]) +
        '---\n' +
        serviceYaml('ratings', 9080, [
          { name: 'ratings-v1', port: upstreams['ratings-v1']!.port, labels: { version: 'v1' } },
        ]),
    );
    await folder.copyFixture('bookinfo/destination-rule-all.yaml');
    await folder.copyFixture('bookinfo/virtual-service-reviews-jason-v2-v3.yaml', 'reviews-vs.yaml');
    mesh = await createMesh({
      workload: {
        namespace: 'default',
        serviceAccount: 'bookinfo-productpage',
        labels: { app: 'productpage', version: 'v1' },
      },
      config: istioFiles(folder.dir, { debounceMs: 20 }),
      logger: null,
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of Object.values(upstreams)) await u.close();
    await folder?.remove();
  });

  test('a header match routes jason to reviews v2 (Bookinfo virtual-service-reviews-jason-v2-v3)', async () => {
    const res = await fetch('http://reviews:9080/reviews/0', {
      dispatcher: mesh,
      headers: { 'end-user': 'jason' },
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { upstream: string }).upstream, 'reviews-v2');
  });

  test('everyone else goes to reviews v3', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch('http://reviews:9080/reviews/0', { dispatcher: mesh });
      assert.equal(((await res.json()) as { upstream: string }).upstream, 'reviews-v3');
    }
  });

  test("Node's built-in fetch (its own bundled undici, v1 handler API) works with the mesh as dispatcher", async () => {
    const init = { dispatcher: mesh, headers: { 'end-user': 'jason' } } as unknown as RequestInit;
    const res = await globalThis.fetch('http://reviews:9080/reviews/0', init);
    assert.equal(((await res.json()) as { upstream: string }).upstream, 'reviews-v2');
  });

  test('the upstream sees the original authority as Host, as Envoy forwards it', async () => {
    const res = await request('http://reviews:9080/reviews/1', { dispatcher: mesh });
    const body = (await res.body.json()) as { host: string; url: string };
    assert.equal(body.host, 'reviews:9080');
    assert.equal(body.url, '/reviews/1');
  });

  test('short names resolve like Kubernetes DNS: reviews.default.svc.cluster.local and reviews.default', async () => {
    for (const host of ['reviews.default.svc.cluster.local:9080', 'reviews:9080']) {
      const res = await request(`http://${host}/x`, { dispatcher: mesh });
      assert.equal(res.statusCode, 200, host);
      await res.body.dump();
    }
  });

  test('a service without a VirtualService gets the default route', async () => {
    const res = await request('http://ratings:9080/ratings/0', { dispatcher: mesh });
    assert.equal(((await res.body.json()) as { upstream: string }).upstream, 'ratings-v1');
  });

  test('streaming request bodies are forwarded', async () => {
    const echo = await startUpstream('echo', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(Buffer.concat(chunks)));
    });
    try {
      await folder.write(
        'echo.yaml',
        serviceYaml('echo', 8080, [{ name: 'echo-1', port: echo.port, labels: {} }]),
      );
      await waitFor(
        () => mesh.snapshot?.clusters.has('outbound|8080||echo.default.svc.cluster.local') ?? false,
        5000,
        'echo cluster',
      );
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('hello '));
          controller.enqueue(new TextEncoder().encode('mesh'));
          controller.close();
        },
      });
      const res = await fetch('http://echo:8080/', {
        dispatcher: mesh,
        method: 'POST',
        body,
        duplex: 'half',
      });
      assert.equal(await res.text(), 'hello mesh');
    } finally {
      await echo.close();
    }
  });

  test('explain() shows the matched route, the subset cluster and its endpoints', () => {
    const e = mesh.explain({ url: 'http://reviews:9080/reviews/0', headers: { 'end-user': 'jason' } });
    assert.equal(e.outcome, 'upstream');
    assert.equal(e.listener?.routeConfiguration, '9080');
    assert.equal(e.virtualHost, 'reviews.default.svc.cluster.local:9080');
    assert.equal(e.route?.index, 0);
    assert.deepEqual(
      e.clusters.map((c) => c.name),
      ['outbound|9080|v2|reviews.default.svc.cluster.local'],
    );
    assert.equal(e.clusters[0]?.lbPolicy, 'LEAST_REQUEST');
    const endpoints =
      e.clusters[0]?.priorities.flatMap((p) => p.localities.flatMap((l) => l.endpoints)) ?? [];
    assert.deepEqual(
      endpoints.map((x) => x.port),
      [upstreams['reviews-v2']!.port],
    );
  });

  test('configDump() has the shape of Envoy /config_dump, versioned with the serving snapshot', () => {
    const dump = mesh.configDump() as {
      configs: {
        '@type': string;
        dynamic_active_clusters?: { version_info: string; cluster: { name: string } }[];
      }[];
    };
    const clusters = dump.configs.find(
      (c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
    );
    assert.ok(
      clusters?.dynamic_active_clusters?.some(
        (c) => c.cluster.name === 'outbound|9080|v3|reviews.default.svc.cluster.local',
      ),
    );
    assert.ok(clusters?.dynamic_active_clusters?.every((c) => c.version_info === mesh.snapshot?.version));
  });

  test('editing the watched VirtualService moves traffic', async () => {
    await folder.write(
      'reviews-vs.yaml',
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: v1 }
`,
    );
    await waitFor(
      async () => {
        const res = await request('http://reviews:9080/', { dispatcher: mesh });
        return ((await res.body.json()) as { upstream: string }).upstream === 'reviews-v1';
      },
      5000,
      'traffic to move to reviews-v1',
    );
  });

  test('an edit naming an unknown subset is rejected with file, line and field; traffic keeps flowing', async () => {
    const before = mesh.snapshot?.version;
    const errors: Error[] = [];
    mesh.on('configError', (e) => errors.push(e));
    await folder.write(
      'reviews-vs.yaml',
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: v9 }
`,
    );
    await waitFor(() => errors.length > 0, 5000, 'a configError');
    const err = errors[0] as Error & {
      code: string;
      issues: { source: string; line: number; path: string; resource: { name: string } }[];
    };
    assert.equal(err.code, 'DABBA_CONFIG_INVALID');
    assert.equal(err.issues[0]?.path, 'spec.http[0].route[0].destination');
    assert.equal(err.issues[0]?.line, 9);
    assert.match(err.issues[0]?.source ?? '', /reviews-vs\.yaml$/);
    assert.equal(err.issues[0]?.resource.name, 'reviews');
    assert.match(err.message, /unknown subset "v9"/);
    assert.equal(mesh.snapshot?.version, before);
    const res = await request('http://reviews:9080/', { dispatcher: mesh });
    assert.equal(((await res.body.json()) as { upstream: string }).upstream, 'reviews-v1');
  });
});
