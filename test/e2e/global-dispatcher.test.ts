/**
 * End to end: `setGlobalDispatcher(mesh)` makes plain `fetch()` (undici's, and Node's built-in,
 * which reads the same global dispatcher slot) go through the mesh.
 *
 * Pins: undici's global dispatcher contract (docs/api/GlobalInstallation.md, setGlobalDispatcher),
 * and DESIGN.md "any undici API, or setGlobalDispatcher(mesh)".
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { type Dispatcher, getGlobalDispatcher, setGlobalDispatcher, fetch as undiciFetch } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml } from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

describe('setGlobalDispatcher(mesh)', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  let reviews: Upstream;
  let previous: Dispatcher;

  before(async () => {
    reviews = await startUpstream('reviews-v1');
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      serviceYaml('reviews', 9080, [{ name: 'r1', port: reviews.port, labels: {} }]),
    );
    mesh = await createMesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
    previous = getGlobalDispatcher();
    setGlobalDispatcher(mesh);
  });

  after(async () => {
    setGlobalDispatcher(previous);
    await mesh?.close();
    await reviews?.close();
    await folder?.remove();
  });

  test("undici's fetch('http://reviews:9080/') resolves the mesh name without a dispatcher option", async () => {
    const res = await undiciFetch('http://reviews:9080/a');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { upstream: 'reviews-v1', url: '/a', host: 'reviews:9080' });
  });

  test("Node's global fetch goes through the mesh too", async () => {
    const res = await globalThis.fetch('http://reviews:9080/b');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { upstream: 'reviews-v1', url: '/b', host: 'reviews:9080' });
  });

  test('restoring the previous dispatcher takes the mesh out of the path (the name no longer resolves)', async () => {
    setGlobalDispatcher(previous);
    try {
      await assert.rejects(globalThis.fetch('http://reviews:9080/c'));
    } finally {
      setGlobalDispatcher(mesh);
    }
  });
});
