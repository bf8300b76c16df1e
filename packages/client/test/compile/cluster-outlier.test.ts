/**
 * Outlier detection across snapshots: a cluster that survives with the same outlier config keeps
 * its detector (ejections, counters), as Envoy keeps a cluster's detector across EDS updates; a
 * changed config starts afresh; replaced and closed meshes stop their detectors' timers.
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
import { activateOutlierDetection, disposeOutlierDetection } from '../../src/compile/cluster-outlier.ts';
import type { CompiledCluster } from '../../src/compile/compile-cluster.ts';
import { type CompiledMesh, compileSnapshot } from '../../src/compile/compile-snapshot.ts';
import { mulberry32 } from '../lb/mulberry32.ts';

const CLUSTER = 'outbound|8080||svc.default.svc.cluster.local';

function snapshotOf(version: string, outlier: string): Snapshot {
  const parsed = parseIstioYaml(
    'mesh.yaml',
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc }
spec:
  hosts: [svc.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.0.1 }, { address: 10.0.0.2 }, { address: 10.0.0.3 }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec:
  host: svc
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN }, outlierDetection: ${outlier} }
`,
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

function clusterOf(mesh: CompiledMesh): CompiledCluster {
  const c = mesh.clusters.get(CLUSTER);
  assert.ok(c);
  return c;
}

function picks(c: CompiledCluster, n: number): string[] {
  return Array.from({ length: n }, () => c.balancer?.pick()?.key ?? 'none');
}

const OD = '{ consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100 }';

test('ejection swaps the balancer, survives a snapshot with the same config, and resets with a new one', () => {
  const random = mulberry32(3);
  const m1 = compileSnapshot(snapshotOf('1', OD), undefined, random);
  activateOutlierDetection(m1, undefined);
  const c1 = clusterOf(m1);
  const outlier = c1.outlier;
  assert.ok(outlier);
  const bad = c1.hosts.find((h) => h.key === '10.0.0.2:8080')!;
  const before = c1.balancer;
  for (let i = 0; i < 3; i++) outlier.record(bad, 503);
  assert.notEqual(c1.balancer, before, 'a new balancer replaces the old one');
  assert.equal(bad.health, 'unhealthy');
  assert.equal(bad.edsHealth, 'healthy');
  assert.ok(!picks(c1, 30).includes(bad.key));

  // Same config: the detector carries over, and the compiled plan already leaves the host out.
  const m2 = compileSnapshot(snapshotOf('2', OD), m1, random);
  const c2 = clusterOf(m2);
  assert.ok(!picks(c2, 30).includes(bad.key), 'the new plan was built with the ejection');
  activateOutlierDetection(m2, m1);
  assert.equal(c2.outlier, outlier);
  assert.equal(outlier.disposed, false);
  assert.equal(outlier.detector.isEjected(bad), true);
  assert.ok(!picks(c2, 30).includes(bad.key));

  // A changed config: Envoy builds a new detector, so every host starts in service.
  const m3 = compileSnapshot(snapshotOf('3', OD.replace('3,', '4,')), m2, random);
  activateOutlierDetection(m3, m2);
  const c3 = clusterOf(m3);
  assert.ok(c3.outlier);
  assert.notEqual(c3.outlier, outlier);
  assert.equal(outlier.disposed, true, 'the replaced detector stopped its timer');
  assert.equal(bad.health, 'healthy');
  assert.ok(picks(c3, 30).includes(bad.key));

  disposeOutlierDetection(m3);
  assert.equal(c3.outlier.disposed, true);
});

test('a cluster without outlier detection has no detector and no kept LB inputs', () => {
  const snapshot = snapshotOf('1', OD);
  const m = compileSnapshot(snapshot, undefined, mulberry32(1));
  activateOutlierDetection(m, undefined);
  for (const [name, c] of m.clusters) {
    if (name === CLUSTER) continue;
    assert.equal(c.outlier, undefined);
    assert.equal(c.lbInputs, undefined);
  }
  disposeOutlierDetection(m);
});
