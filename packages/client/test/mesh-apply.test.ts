/**
 * Snapshots apply in order: a snapshot still compiling when a newer one arrives is abandoned, so
 * a stale configuration can never replace a newer one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ConfigSource,
  createSnapshot,
  parseIstioYaml,
  resolveWorkload,
  type Snapshot,
  type SnapshotListener,
  type SnapshotOutcome,
  translateIstio,
} from '@dabba/discovery';
import { Mesh } from '../src/mesh.ts';

function snapshotOf(version: string, services: number): Snapshot {
  const docs: string[] = [];
  for (let i = 0; i < services; i++) {
    docs.push(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc-${i} }
spec:
  hosts: [svc-${i}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, labels: { version: v1 } }, { address: 127.0.0.2, labels: { version: v2 } }]`);
  }
  const parsed = parseIstioYaml('test.yaml', docs.join('\n---\n'));
  const set = {
    virtualServices: [],
    destinationRules: [],
    serviceEntries: parsed.resources.filter((r) => r.kind === 'ServiceEntry'),
    workloadEntries: [],
  };
  const result = translateIstio(set as Parameters<typeof translateIstio>[0], resolveWorkload({}));
  return createSnapshot(version, 'test', result.resources);
}

test('a newer snapshot arriving while an older one compiles wins, and the older is never applied', async () => {
  const big = snapshotOf('1-big', 400);
  const small = snapshotOf('2-small', 2);
  let listener: SnapshotListener | undefined;
  const source: ConfigSource = {
    name: 'test',
    subscribe: (_w, l) => {
      listener = l;
      return { close: async () => {} };
    },
  };
  const mesh = new Mesh({ config: source, logger: null });
  const applied: string[] = [];
  mesh.on('snapshot', (s) => applied.push(s.version));
  listener!.onSnapshot(big);
  listener!.onSnapshot(small);
  await mesh.ready;
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(applied, ['2-small']);
  assert.equal(mesh.snapshot?.version, '2-small');
  await mesh.close();
});

test('the first snapshot still applies when nothing newer arrives', async () => {
  let listener: SnapshotListener | undefined;
  const source: ConfigSource = {
    name: 'test',
    subscribe: (_w, l) => {
      listener = l;
      return { close: async () => {} };
    },
  };
  const mesh = new Mesh({ config: source, logger: null });
  listener!.onSnapshot(snapshotOf('1-only', 50));
  assert.equal((await mesh.ready).version, '1-only');
  assert.equal(mesh.snapshot?.clusters.has('outbound|8080||svc-49.default.svc.cluster.local'), true);
  await mesh.close();
});

test('the source hears what became of each snapshot: superseded, applied, and superseded by close()', async () => {
  let listener: SnapshotListener | undefined;
  const source: ConfigSource = {
    name: 'test',
    subscribe: (_w, l) => {
      listener = l;
      return { close: async () => {} };
    },
  };
  const mesh = new Mesh({ config: source, logger: null });
  const applied: string[] = [];
  mesh.on('snapshot', (s) => applied.push(s.version));
  const outcomes: string[] = [];
  const settle = (version: string) => (o: SnapshotOutcome) => outcomes.push(`${version} ${o.status}`);
  listener!.onSnapshot(snapshotOf('1-big', 400), settle('1-big'));
  listener!.onSnapshot(snapshotOf('2-small', 2), settle('2-small'));
  await mesh.ready;
  assert.deepEqual(outcomes.sort(), ['1-big superseded', '2-small applied']);
  listener!.onSnapshot(snapshotOf('3-late', 400), settle('3-late'));
  await mesh.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(outcomes.at(-1), '3-late superseded');
  assert.deepEqual(applied, ['2-small']);
});
