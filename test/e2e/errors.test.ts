/**
 * End to end: what the mesh does when it cannot forward, as typed errors (stable `code`, Envoy
 * response flag) or as Istio's own local replies.
 *
 * Pins: Istio MeshConfig.OutboundTrafficPolicy (ALLOW_ANY -> PassthroughCluster, REGISTRY_ONLY ->
 * the `block_all` virtual host, a direct_response 502: istio.io/latest/docs/reference/config/
 * istio.mesh.v1alpha1/#MeshConfig-OutboundTrafficPolicy-Mode and istio pilot/pkg/networking/core/
 * httproute.go buildCatchAllVirtualHost), and Envoy response flags NR / UH (access-log docs,
 * "Command operators", RESPONSE_FLAGS).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  serviceYaml,
  versionSubsetsYaml,
} from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

async function rejection(
  p: Promise<unknown>,
): Promise<Error & { code?: string; responseFlag?: string; cluster?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string; responseFlag?: string };
  }
  assert.fail('the request did not fail');
}

describe('errors and outbound traffic policy', () => {
  let folder: MeshFolder;
  let known: Upstream;
  let outside: Upstream;
  let allowAny: Mesh;
  let registryOnly: Mesh;

  before(async () => {
    known = await startUpstream('known');
    outside = await startUpstream('outside');
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      `${serviceYaml('reviews', 9080, [{ name: 'reviews-1', port: known.port, labels: { version: 'v1' } }])}---
${versionSubsetsYaml('reviews', { v1: 'v1', v9: 'v9' })}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - match: [{ uri: { prefix: /empty } }]
      route: [{ destination: { host: reviews, subset: v9 } }]
    - route: [{ destination: { host: reviews, subset: v1 } }]
`,
    );
    allowAny = await createMesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
    registryOnly = await createMesh({
      config: istioFiles(folder.dir, { watch: false, mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' } }),
      logger: null,
    });
  });

  after(async () => {
    await allowAny?.close();
    await registryOnly?.close();
    await known?.close();
    await outside?.close();
    await folder?.remove();
  });

  test('ALLOW_ANY: an unknown host:port that no ServiceEntry names is called directly (PassthroughCluster)', async () => {
    const res = await request(`http://127.0.0.1:${outside.port}/direct`, { dispatcher: allowAny });
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { upstream: string }).upstream, 'outside');
    assert.equal(outside.received.at(-1)?.url, '/direct');
  });

  test('REGISTRY_ONLY, unknown host on a port the mesh listens on: Istio’s block_all replies 502 locally', async () => {
    const before = outside.received.length;
    const res = await request('http://unknown.example:9080/', { dispatcher: registryOnly });
    assert.equal(res.statusCode, 502);
    await res.body.dump();
    assert.equal(outside.received.length, before);
    const e = registryOnly.explain({ url: 'http://unknown.example:9080/' });
    assert.equal(e.virtualHost, 'block_all');
  });

  test('REGISTRY_ONLY, unknown host:port with no listener: rejected with DABBA_NO_ROUTE / NR, nothing sent', async () => {
    const before = outside.received.length;
    const err = await rejection(request(`http://127.0.0.1:${outside.port}/`, { dispatcher: registryOnly }));
    assert.equal(err.code, 'DABBA_NO_ROUTE');
    assert.equal(err.responseFlag, 'NR');
    assert.equal(outside.received.length, before);
  });

  test('a subset that selects no endpoints: DABBA_NO_HEALTHY_UPSTREAM / UH naming the subset cluster', async () => {
    const err = await rejection(request('http://reviews:9080/empty', { dispatcher: allowAny }));
    assert.equal(err.code, 'DABBA_NO_HEALTHY_UPSTREAM');
    assert.equal(err.responseFlag, 'UH');
    assert.equal(err.cluster, 'outbound|9080|v9|reviews.default.svc.cluster.local');
    // control: the other subset answers.
    const ok = await request('http://reviews:9080/', { dispatcher: allowAny });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });

  test('dispatch before the first snapshot: DABBA_NOT_READY; after close(): DABBA_MESH_CLOSED', async () => {
    const mesh = new Mesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
    const early = await rejection(request('http://reviews:9080/', { dispatcher: mesh }));
    assert.equal(early.code, 'DABBA_NOT_READY');
    await mesh.ready;
    const res = await request('http://reviews:9080/', { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    await mesh.close();
    const late = await rejection(request('http://reviews:9080/', { dispatcher: mesh }));
    assert.equal(late.code, 'DABBA_MESH_CLOSED');
  });
});
