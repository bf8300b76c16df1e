/**
 * End to end: Dabba publishes on `node:diagnostics_channel`, as undici does, so APM tools can
 * observe it without a hook in its API. Configuration: `dabba:config:applied` when a snapshot
 * serves, `dabba:config:rejected` (with the typed ConfigError) when an edit will not serve.
 * Requests: `dabba:request:start` when a request enters the mesh and `dabba:request:end` once
 * when it ends, both with its record (Envoy's StreamInfo): route, cluster, status, flags.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ConfigAppliedMessage,
  type ConfigRejectedMessage,
  createMesh,
  DabbaChannel,
  type Mesh,
  type RequestRecord,
} from '@dabba/client';
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

describe('diagnostics_channel: configuration', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const applied: ConfigAppliedMessage[] = [];
  const rejected: ConfigRejectedMessage[] = [];
  const onApplied = (m: unknown) => applied.push(m as ConfigAppliedMessage);
  const onRejected = (m: unknown) => rejected.push(m as ConfigRejectedMessage);

  before(async () => {
    subscribe(DabbaChannel.CONFIG_APPLIED, onApplied);
    subscribe(DabbaChannel.CONFIG_REJECTED, onRejected);
    folder = await createMeshFolder();
    await folder.write('app.yaml', serviceYaml('app', 9080, [{ name: 'app', port: 1, labels: {} }]));
    mesh = await createMesh({
      workload: { namespace: 'default' },
      config: istioFiles(folder.dir, { debounceMs: 20 }),
      logger: null,
    });
  });

  after(async () => {
    unsubscribe(DabbaChannel.CONFIG_APPLIED, onApplied);
    unsubscribe(DabbaChannel.CONFIG_REJECTED, onRejected);
    await mesh?.close();
    await folder?.remove();
  });

  test('the first snapshot, a rejected edit with its typed error, then the fixed edit', async () => {
    const mine = () => applied.filter((m) => m.mesh === mesh);
    assert.equal(mine().length, 1);
    assert.equal(mine()[0]!.snapshot, mesh.snapshot);

    await folder.write('vs.yaml', routeYaml('app', 'timeout: 0s'));
    await waitFor(() => rejected.some((m) => m.mesh === mesh), 5000, 'a rejected message');
    const error = rejected.find((m) => m.mesh === mesh)!.error;
    assert.equal(error.code, 'DABBA_CONFIG_INVALID');
    assert.match(error.issues[0]!.path, /timeout/);
    assert.equal(mine().length, 1, 'nothing applied');

    await folder.write('vs.yaml', routeYaml('app', 'timeout: 2s'));
    await waitFor(() => mine().length === 2, 5000, 'the fixed edit applied');
    assert.equal(mine()[1]!.snapshot, mesh.snapshot);
  });
});

const APP = 'outbound|9080||app.default.svc.cluster.local';

describe('diagnostics_channel: requests', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  let upstream: Upstream;
  const started: RequestRecord[] = [];
  const ended: RequestRecord[] = [];
  const onStart = (m: unknown) => started.push(m as RequestRecord);
  const onEnd = (m: unknown) => ended.push(m as RequestRecord);

  before(async () => {
    upstream = await startUpstream('app');
    folder = await createMeshFolder();
    await folder.write(
      'app.yaml',
      `${serviceYaml('app', 9080, [{ name: 'app', port: upstream.port, labels: {} }])}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: app }
spec:
  hosts: [app]
  http:
    - name: slow
      match: [{ uri: { prefix: /slow } }]
      fault: { delay: { fixedDelay: 5s, percentage: { value: 100 } } }
      route: [{ destination: { host: app } }]
    - name: all
      route: [{ destination: { host: app } }]
`,
    );
    mesh = await createMesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
    subscribe(DabbaChannel.REQUEST_START, onStart);
    subscribe(DabbaChannel.REQUEST_END, onEnd);
  });

  after(async () => {
    unsubscribe(DabbaChannel.REQUEST_START, onStart);
    unsubscribe(DabbaChannel.REQUEST_END, onEnd);
    await mesh?.close();
    await folder?.remove();
    await upstream?.close();
  });

  test('a routed request, one passed through, and one cancelled during a fault delay: each starts and ends once', async () => {
    const res = await request('http://app:9080/items', { dispatcher: mesh });
    await res.body.dump();
    await assert.rejects(request('http://app:9999/', { dispatcher: mesh }));
    const abort = new AbortController();
    const slow = request('http://app:9080/slow', { dispatcher: mesh, signal: abort.signal });
    await sleep(50);
    abort.abort();
    await assert.rejects(slow);
    await waitFor(() => ended.length === 3, 2000, 'three ends');
    assert.equal(started.length, 3);
    assert.deepEqual(
      ended.map((r) => [r.request.path, r.routeName, r.cluster, r.status, r.responseFlags]),
      [
        ['/items', 'all', APP, 200, '-'],
        // No listener on 9999: its original destination (Istio's ALLOW_ANY), which does not resolve.
        ['/', undefined, undefined, 503, 'UF'],
        ['/slow', 'slow', APP, 0, 'DI,DC'],
      ],
    );
    assert.ok(ended.every((r, i) => r === started[i] && r.ended));
  });
});
