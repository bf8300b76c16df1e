/**
 * End to end, real sockets: a request an injected fault delay holds keeps the route it matched
 * (Envoy's router runs on the route cached before the fault filter), but its cluster is looked
 * up when the delay ends, as Envoy's router looks up the route's cluster when it starts: a
 * configuration applied during the delay serves it, and a cluster removed meanwhile fails it
 * with `NC`. The request is routed once: the delay does not run it through routing again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  routeYaml,
  serviceYaml,
  waitFor,
} from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

type MeshError = Error & { code?: string; responseFlag?: string };

describe('a fault delay and a configuration change during it', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  let first: Upstream;
  let second: Upstream;
  const snapshots: string[] = [];

  const delayed = (port: number) =>
    `${serviceYaml('slowed', 8080, [{ name: 'slowed', port, labels: {} }])}---\n${routeYaml(
      'slowed',
      'fault: { delay: { fixedDelay: 600ms, percentage: { value: 100 } } }',
    )}`;

  before(async () => {
    first = await startUpstream('first');
    second = await startUpstream('second');
    folder = await createMeshFolder();
    await folder.write('mesh.yaml', delayed(first.port));
    mesh = await createMesh({ config: istioFiles(folder.dir, { debounceMs: 20 }), logger: null });
    mesh.on('snapshot', (s) => snapshots.push(s.version));
  });

  after(async () => {
    await mesh?.close();
    await folder?.remove();
    await first?.close();
    await second?.close();
  });

  test('the endpoints applied during the delay serve the request', async () => {
    const pending = request('http://slowed:8080/x', { dispatcher: mesh });
    const seen = snapshots.length;
    await folder.write('mesh.yaml', delayed(second.port));
    await waitFor(() => snapshots.length > seen, 3000, 'the new endpoints applied');
    const res = await pending;
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(second.received.length, 1, 'sent to the endpoint of the configuration in force');
    assert.equal(first.received.length, 0);
  });

  test('a cluster removed during the delay fails the request with NC, nothing sent', async () => {
    await sleep(50);
    const before = second.received.length;
    const pending = request('http://slowed:8080/x', { dispatcher: mesh }).then(
      () => assert.fail('must fail'),
      (err: MeshError) => err,
    );
    const seen = snapshots.length;
    await folder.write(
      'mesh.yaml',
      serviceYaml('other', 8080, [{ name: 'other', port: first.port, labels: {} }]),
    );
    await waitFor(() => snapshots.length > seen, 3000, 'the service removed');
    const err = await pending;
    assert.equal(err.code, 'DABBA_CLUSTER_NOT_FOUND');
    assert.equal(err.responseFlag, 'NC');
    assert.equal(second.received.length, before);
  });
});
