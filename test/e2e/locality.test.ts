/**
 * End to end: locality-aware load balancing for a client with a locality, over real endpoints in
 * three localities.
 *
 * Pins: Istio "Locality failover" and "Locality weighted distribution" (istio.io/latest/docs/tasks/
 * traffic-management/locality-load-balancing/), DestinationRule LocalityLoadBalancerSetting
 * (distribute, failover from/to, failoverPriority: istio.io/latest/docs/reference/config/networking/
 * destination-rule/#LocalityLoadBalancerSetting): priorities are applied only when outlierDetection is
 * set; and Envoy's priority levels / locality weighted LB (intro/arch_overview/upstream/
 * load_balancing/priority, locality_weight).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, type WorkloadSpec } from '../support/mesh-folder.ts';
import { assertProportion, seededRandom, tally } from '../support/stats.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

const OUTLIER = 'outlierDetection: { consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s }';

describe('locality load balancing', () => {
  let folder: MeshFolder;
  const upstreams: Record<string, Upstream> = {};
  const meshes: Mesh[] = [];

  async function meshAt(locality: string, labels: Record<string, string> = {}): Promise<Mesh> {
    const m = await createMesh({
      workload: { namespace: 'default', locality, labels: { app: 'client', ...labels } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(99),
    });
    meshes.push(m);
    return m;
  }

  async function spread(m: Mesh, service: string, n: number): Promise<Record<string, number>> {
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await request(`http://${service}:9080/`, { dispatcher: m });
      assert.equal(res.statusCode, 200);
      names.push(((await res.body.json()) as { upstream: string }).upstream);
    }
    return tally(names);
  }

  before(async () => {
    // same: us-east/zone-a/sub-1 (the client's), zoneb: us-east/zone-b/sub-1, west: us-west/zone-c/sub-1.
    for (const name of ['same', 'zoneb', 'west']) upstreams[name] = await startUpstream(name);
    const at: Record<string, string> = {
      same: 'us-east/zone-a/sub-1',
      zoneb: 'us-east/zone-b/sub-1',
      west: 'us-west/zone-c/sub-1',
    };
    const workloads = (svc: string, labels: Record<string, Record<string, string>> = {}): WorkloadSpec[] =>
      Object.keys(at).map((n) => ({
        name: `${svc}-${n}`,
        port: upstreams[n]!.port,
        labels: labels[n] ?? {},
        locality: at[n]!,
      }));
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      [
        serviceYaml('plain', 9080, workloads('plain')),
        serviceYaml('prio', 9080, workloads('prio')),
        serviceYaml('dist', 9080, workloads('dist')),
        serviceYaml(
          'fop',
          9080,
          workloads('fop', { same: { tier: 'bronze' }, zoneb: { tier: 'gold' }, west: { tier: 'gold' } }),
        ),
        serviceYaml('fail', 9080, workloads('fail')),
      ].join('---\n'),
    );
    await folder.write(
      'rules.yaml',
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: prio }
spec:
  host: prio
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    ${OUTLIER}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: plain }
spec:
  host: plain
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: dist }
spec:
  host: dist
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
      localityLbSetting:
        enabled: true
        distribute:
          - from: us-east/zone-a/*
            to: { "us-east/zone-a/*": 80, "us-east/zone-b/*": 20 }
    ${OUTLIER}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: fop }
spec:
  host: fop
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
      localityLbSetting:
        enabled: true
        failoverPriority: [tier]
    ${OUTLIER}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: fail }
spec:
  host: fail
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
      localityLbSetting:
        enabled: true
        failover:
          - { from: eu-west, to: us-west }
    ${OUTLIER}
`,
    );
  });

  after(async () => {
    for (const m of meshes) await m.close();
    for (const u of Object.values(upstreams)) await u.close();
    await folder?.remove();
  });

  test('with outlierDetection, all 300 requests go to the endpoint in the client’s region/zone/subzone', async () => {
    const m = await meshAt('us-east/zone-a/sub-1');
    assert.deepEqual(await spread(m, 'prio', 300), { same: 300 });
  });

  test('control: without outlierDetection Istio sets no priorities, so round robin uses all three', async () => {
    const m = await meshAt('us-east/zone-a/sub-1');
    assert.deepEqual(await spread(m, 'plain', 300), { same: 100, zoneb: 100, west: 100 });
  });

  // 4,000 requests, p = 0.8: tolerance 5·sqrt(0.8·0.2/4000) = ±3.16 pp, P(false failure) < 5.7e-7.
  test('distribute 80/20 across zones: 80% ± 3.16 pp of 4,000 requests stay in zone-a, none leave the region', async () => {
    const m = await meshAt('us-east/zone-a/sub-1');
    const counts = await spread(m, 'dist', 4000);
    assert.equal(counts.west, undefined, JSON.stringify(counts));
    assertProportion(counts.same ?? 0, 4000, 0.8, 'zone-a share');
  });

  test('failoverPriority [tier]: endpoints with the client’s label value win over the same zone', async () => {
    const m = await meshAt('us-east/zone-a/sub-1', { tier: 'gold' });
    const counts = await spread(m, 'fop', 300);
    // Both gold endpoints are priority 0, the bronze same-zone one priority 1. With failoverPriority
    // and no `failover`, istiod does not add locality priorities on top (loadbalancer.go
    // ApplyLocalityLoadBalancer), so round robin alternates between the two gold endpoints.
    assert.deepEqual(counts, { zoneb: 150, west: 150 });
  });

  test('failover from eu-west to us-west: a client in eu-west sends everything to us-west', async () => {
    const m = await meshAt('eu-west/zone-x/sub-1');
    assert.deepEqual(await spread(m, 'fail', 300), { west: 300 });
    // control: the same client, no failover rule, outlier detection on: all remote, same priority.
    const counts = await spread(m, 'prio', 300);
    assert.deepEqual(Object.keys(counts).sort(), ['same', 'west', 'zoneb']);
  });
});
