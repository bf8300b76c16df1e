/**
 * End to end: Dabba publishes on `node:diagnostics_channel`, as undici does, so APM tools can
 * observe it without a hook in its API. Configuration: `dabba:config:applied` when a snapshot
 * serves, `dabba:config:rejected` (with the typed ConfigError) when an edit will not serve.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';
import {
  type ConfigAppliedMessage,
  type ConfigRejectedMessage,
  createMesh,
  DabbaChannel,
  type Mesh,
} from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import {
  createMeshFolder,
  type MeshFolder,
  routeYaml,
  serviceYaml,
  waitFor,
} from '../support/mesh-folder.ts';

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
