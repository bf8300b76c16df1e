/**
 * Each cluster's runtime state across snapshots (runtime/cluster-runtime.ts): outlier detection
 * that survives a snapshot with the same outlier config (ejections, counters), as Envoy keeps a
 * cluster's detector across EDS updates, and starts afresh with a new one; an update that
 * changes one cluster leaves every other as it was (balancer position, ejections, admission
 * counters), as Envoy's cluster manager leaves a cluster whose resource did not change; and an
 * endpoint that survives an EDS update keeps its ejection and its in-flight count, as Envoy's
 * hosts do. The compiled clusters are never written.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createSnapshot,
  type IstioResourceSet,
  parseIstioYaml,
  resolveWorkload,
  type Snapshot,
  translateIstio,
} from '@dabba/discovery';
import type { CompiledCluster } from '../../src/compile/compile-cluster.ts';
import { type CompiledMesh, compileSnapshot } from '../../src/compile/compile-snapshot.ts';
import type { ClusterRuntime } from '../../src/runtime/cluster-runtime.ts';
import { MeshRuntime } from '../../src/runtime/mesh-runtime.ts';
import { mulberry32 } from '../lb/mulberry32.ts';

const name = (svc: string) => `outbound|8080||${svc}.default.svc.cluster.local`;
const CLUSTER = name('svc');
const OD = '{ consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100 }';

/** Services `svc`, `a` and `b`, each with outlier detection `outlier`; `a` lists `aEndpoints`. */
function snapshotOf(
  version: string,
  outlier: string,
  aEndpoints = '[{ address: 10.1.0.1 }, { address: 10.1.0.2 }]',
): Snapshot {
  const service = (svc: string, endpoints: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${svc} }
spec:
  hosts: [${svc}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: ${endpoints}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${svc} }
spec:
  host: ${svc}
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN }, outlierDetection: ${outlier} }
`;
  const parsed = parseIstioYaml(
    'mesh.yaml',
    [
      service('svc', '[{ address: 10.0.0.1 }, { address: 10.0.0.2 }, { address: 10.0.0.3 }]'),
      service('a', aEndpoints),
      service('b', '[{ address: 10.2.0.1 }, { address: 10.2.0.2 }, { address: 10.2.0.3 }]'),
    ].join('---\n'),
  );
  assert.deepEqual(parsed.issues, []);
  const set = {
    virtualServices: [],
    destinationRules: parsed.resources.filter((r) => r.kind === 'DestinationRule'),
    serviceEntries: parsed.resources.filter((r) => r.kind === 'ServiceEntry'),
    workloadEntries: [],
  } as unknown as IstioResourceSet;
  const result = translateIstio(set, resolveWorkload({ namespace: 'default' }));
  return createSnapshot(version, 'test', result.resources);
}

function stateOf(runtime: MeshRuntime, cluster = CLUSTER): ClusterRuntime {
  const s = runtime.get(cluster);
  assert.ok(s);
  return s;
}

function clusterOf(mesh: CompiledMesh, cluster = CLUSTER): CompiledCluster {
  const c = mesh.clusters.get(cluster);
  assert.ok(c);
  return c;
}

function picks(s: ClusterRuntime, n: number): string[] {
  return Array.from({ length: n }, () => s.balancer?.pick()?.key ?? 'none');
}

/** The compiled cluster as plain data, to show that nothing wrote into it. */
const frozenView = (c: CompiledCluster) =>
  JSON.stringify(c.hosts.map((h) => [h.key, h.health, h.weight])) + String(c.balancer !== undefined);

test('ejection swaps the balancer, survives a snapshot with the same config, and resets with a new one', () => {
  const random = mulberry32(3);
  const runtime = new MeshRuntime();
  const m1 = compileSnapshot(snapshotOf('1', OD), undefined, random);
  runtime.apply(m1);
  const s = stateOf(runtime);
  const outlier = s.outlier;
  assert.ok(outlier);
  const c1 = clusterOf(m1);
  const view = frozenView(c1);
  const bad = c1.hosts.find((h) => h.key === '10.0.0.2:8080')!;
  const before = s.balancer;
  for (let i = 0; i < 3; i++) outlier.record(bad, 503);
  assert.notEqual(s.balancer, before, 'a new balancer replaces the old one');
  assert.equal(s.healthOf(bad), 'unhealthy');
  assert.equal(bad.health, 'healthy', 'the configured health is untouched');
  assert.equal(c1.balancer, before, "the compiled cluster's balancer is untouched");
  assert.equal(frozenView(c1), view);
  assert.ok(!picks(s, 30).includes(bad.key));

  // Same config: the detector carries over, with the host still out.
  const m2 = compileSnapshot(snapshotOf('2', OD), m1, random);
  runtime.apply(m2);
  assert.equal(stateOf(runtime), s, 'the state of a cluster is kept by name');
  assert.equal(s.outlier, outlier);
  assert.equal(outlier.disposed, false);
  assert.equal(outlier.detector.isEjected(bad), true);
  assert.ok(!picks(s, 30).includes(bad.key));

  // A changed config: Envoy builds a new detector, so every host starts in service.
  const m3 = compileSnapshot(snapshotOf('3', OD.replace('3,', '4,')), m2, random);
  runtime.apply(m3);
  assert.ok(s.outlier);
  assert.notEqual(s.outlier, outlier);
  assert.equal(outlier.disposed, true, 'the replaced detector stopped its timer');
  assert.equal(s.healthOf(clusterOf(m3).hosts.find((h) => h.key === bad.key)!), 'healthy');
  assert.ok(picks(s, 30).includes(bad.key));

  const last = s.outlier;
  runtime.dispose();
  assert.equal(last.disposed, true);
});

test('a cluster without outlier detection has no detector and no kept LB inputs', () => {
  const m = compileSnapshot(snapshotOf('1', OD), undefined, mulberry32(1));
  const runtime = new MeshRuntime();
  runtime.apply(m);
  for (const [cluster, c] of m.clusters) {
    if (c.outlierConfig !== undefined) continue;
    assert.equal(stateOf(runtime, cluster).outlier, undefined);
    assert.equal(c.lbInputs, undefined);
  }
  runtime.dispose();
});

test("an update that changes cluster a leaves cluster b's balancer position, ejections and admission counters", () => {
  const random = mulberry32(7);
  const runtime = new MeshRuntime();
  const m1 = compileSnapshot(snapshotOf('1', OD), undefined, random);
  runtime.apply(m1);
  const b = stateOf(runtime, name('b'));
  const ejected = b.hosts.find((h) => h.key === '10.2.0.3:8080')!;
  for (let i = 0; i < 3; i++) b.outlier!.record(ejected, 503);
  const balancer = b.balancer;
  const ticket = b.requestAdmission().admit();
  const admission = b.admission;
  // Round robin over the two hosts left: where it stands now decides the next picks.
  const first = picks(b, 3);

  const m2 = compileSnapshot(
    snapshotOf('2', OD, '[{ address: 10.1.0.1 }, { address: 10.1.0.9 }]'),
    m1,
    random,
  );
  assert.notEqual(clusterOf(m2, name('a')), clusterOf(m1, name('a')), 'cluster a was compiled again');
  assert.equal(clusterOf(m2, name('b')), clusterOf(m1, name('b')), 'cluster b was not');
  runtime.apply(m2);
  assert.equal(b.balancer, balancer, "b's balancer, with its position, is kept");
  assert.deepEqual(
    picks(b, 3),
    [first[1], first[2], first[0]].map((_, i) => first[(i + 3) % 2]!),
  );
  assert.equal(b.outlier!.detector.isEjected(ejected), true);
  assert.equal(b.admission, admission, "b's admission counters are kept");
  assert.equal(admission!.counters.activeRequests + admission!.counters.pendingRequests, 1);
  assert.notEqual(typeof ticket, 'string');
  assert.deepEqual(
    stateOf(runtime, name('a')).hosts.map((h) => h.key),
    ['10.1.0.1:8080', '10.1.0.9:8080'],
  );
  runtime.dispose();
});

test('an endpoint that survives an EDS update keeps its ejection and its in-flight count', () => {
  const random = mulberry32(11);
  const runtime = new MeshRuntime();
  const m1 = compileSnapshot(snapshotOf('1', OD), undefined, random);
  runtime.apply(m1);
  const a = stateOf(runtime, name('a'));
  const survivor = a.hosts.find((h) => h.key === '10.1.0.2:8080')!;
  const kept = a.hosts.find((h) => h.key === '10.1.0.1:8080')!;
  for (let i = 0; i < 3; i++) a.outlier!.record(survivor, 503);
  // Two requests in flight to each, started on the hosts of the first snapshot.
  survivor.activeRequests += 2;
  kept.activeRequests += 2;

  // The endpoint set changes (one added, a weight changed): a is compiled again, new Host objects.
  const m2 = compileSnapshot(
    snapshotOf('2', OD, '[{ address: 10.1.0.1, weight: 3 }, { address: 10.1.0.2 }, { address: 10.1.0.3 }]'),
    m1,
    random,
  );
  runtime.apply(m2);
  const after = (key: string) => a.hosts.find((h) => h.key === key)!;
  assert.notEqual(after('10.1.0.1:8080'), kept, 'a new Host object for the reweighted endpoint');
  assert.equal(after('10.1.0.1:8080').activeRequests, 2);
  assert.equal(after('10.1.0.2:8080').activeRequests, 2);
  assert.equal(after('10.1.0.3:8080').activeRequests, 0);
  assert.equal(a.outlier!.detector.isEjected(after('10.1.0.2:8080')), true);
  assert.ok(!picks(a, 40).includes('10.1.0.2:8080'), 'the ejected survivor stays out');
  // A request that started on the old Host ends there, and the count is the endpoint's.
  survivor.activeRequests--;
  assert.equal(after('10.1.0.2:8080').activeRequests, 1);
  runtime.dispose();
});
