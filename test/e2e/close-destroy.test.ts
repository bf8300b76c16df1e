/**
 * End to end, real sockets: `close()` lets every request in flight finish, those waiting in a
 * retry backoff or a fault delay included, and refuses new ones with DABBA_MESH_CLOSED;
 * `destroy()` ends every request in flight at once with DABBA_MESH_DESTROYED (its cause the
 * error given to destroy), never undici's UND_ERR_DESTROYED. undici's own contract for a
 * Dispatcher: close() waits for pending requests, destroy() fails them.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, routeYaml, serviceYaml } from '../support/mesh-folder.ts';
import { seededRandom } from '../support/stats.ts';
import { slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

type MeshError = Error & { code?: string; cause?: unknown };

describe('close() and destroy() with requests in flight', () => {
  let folder: MeshFolder;
  const up: Record<string, Upstream> = {};
  let flaky = 0;
  const meshes: Mesh[] = [];

  before(async () => {
    // Answers 503 to every other request: the first try fails, the retry succeeds.
    up.flaky = await startUpstream('flaky', (_req, res) => {
      res.statusCode = flaky++ % 2 === 0 ? 503 : 200;
      res.end(String(res.statusCode));
    });
    up.failing = await startUpstream('failing', (_req, res) => {
      res.statusCode = 503;
      res.end('503');
    });
    up.slow = await startUpstream('slow', slowHandler(400));
    up.delayed = await startUpstream('delayed');
    folder = await createMeshFolder();
    await folder.write(
      'all.yaml',
      [
        serviceYaml('flaky', 9080, [{ name: 'flaky', port: up.flaky.port, labels: {} }]),
        routeYaml('flaky', 'retries: { attempts: 2, retryOn: 5xx, backoff: 1s }'),
        serviceYaml('failing', 9080, [{ name: 'failing', port: up.failing.port, labels: {} }]),
        routeYaml('failing', 'retries: { attempts: 5, retryOn: 5xx, backoff: 2s }'),
        serviceYaml('slow', 9080, [{ name: 'slow', port: up.slow.port, labels: {} }]),
        serviceYaml('delayed', 9080, [{ name: 'delayed', port: up.delayed.port, labels: {} }]),
        routeYaml('delayed', 'fault: { delay: { fixedDelay: 300ms, percentage: { value: 100 } } }'),
      ].join('---\n'),
    );
  });

  async function newMesh(): Promise<Mesh> {
    const mesh = await createMesh({
      workload: { namespace: 'default', labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(3),
    });
    meshes.push(mesh);
    return mesh;
  }

  afterEach(async () => {
    for (const m of meshes.splice(0)) await m.destroy();
  });

  after(async () => {
    await folder?.remove();
    for (const u of Object.values(up)) await u.close();
  });

  test('regression: close() waits for a request in retry backoff, which succeeds (it failed ~300 ms later with DABBA_MESH_CLOSED)', async () => {
    const mesh = await newMesh();
    flaky = 0;
    const pending = request('http://flaky:9080/', { dispatcher: mesh }).then(async (r) => {
      await r.body.text();
      return r.statusCode;
    });
    await sleep(30);
    assert.equal(up.flaky!.received.length, 1, 'the first try got its 503; the retry waits out its backoff');
    let closed = false;
    const closing = mesh.close().then(() => {
      closed = true;
    });
    // New requests are refused at once while the old one finishes.
    await assert.rejects(request('http://flaky:9080/', { dispatcher: mesh }), { code: 'DABBA_MESH_CLOSED' });
    assert.equal(closed, false, 'close() has not resolved while a request is in flight');
    assert.equal(await pending, 200);
    await closing;
    assert.equal(up.flaky!.received.length, 2);
  });

  test('close() waits for a request held by a fault delay, which then goes upstream', async () => {
    const mesh = await newMesh();
    const before = up.delayed!.received.length;
    const pending = request('http://delayed:9080/', { dispatcher: mesh });
    await sleep(20);
    const closing = mesh.close();
    const res = await pending;
    assert.equal(res.statusCode, 200);
    await res.body.text();
    await closing;
    assert.equal(up.delayed!.received.length, before + 1);
  });

  test('regression: destroy() ends a request in backoff at once with DABBA_MESH_DESTROYED and its cause', async () => {
    const mesh = await newMesh();
    const pending = request('http://failing:9080/', { dispatcher: mesh });
    await sleep(30);
    assert.ok(up.failing!.received.length >= 1, 'a first try was answered 503');
    const outcome = pending.then(
      () => assert.fail('must fail'),
      (e: MeshError) => e,
    );
    const started = performance.now();
    const reason = new Error('shutting down');
    await mesh.destroy(reason);
    const err = (await outcome) as MeshError;
    assert.equal(err.code, 'DABBA_MESH_DESTROYED');
    assert.equal(err.cause, reason);
    assert.ok(performance.now() - started < 250, 'not after the backoff');
  });

  test('regression: destroy() ends a request waiting on its upstream with DABBA_MESH_DESTROYED, not UND_ERR_DESTROYED', async () => {
    const mesh = await newMesh();
    const pending = request('http://slow:9080/', { dispatcher: mesh });
    const outcome = assert.rejects(pending, (e: MeshError) => e.code === 'DABBA_MESH_DESTROYED');
    await sleep(50);
    await mesh.destroy();
    await outcome;
  });

  test('destroy() ends a request in a fault delay; nothing reaches the upstream', async () => {
    const mesh = await newMesh();
    const before = up.delayed!.received.length;
    const pending = request('http://delayed:9080/', { dispatcher: mesh });
    const outcome = assert.rejects(pending, (e: MeshError) => e.code === 'DABBA_MESH_DESTROYED');
    await sleep(20);
    await mesh.destroy();
    await outcome;
    await sleep(400);
    assert.equal(up.delayed!.received.length, before);
  });
});
