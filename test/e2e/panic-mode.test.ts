/**
 * End to end, on real sockets: Envoy's panic threshold, driven by outlier ejection and set by
 * Istio's DestinationRule `outlierDetection.minHealthPercent`.
 *
 * Pins:
 * - Envoy, "Panic threshold" (intro/arch_overview/upstream/load_balancing/panic_threshold):
 *   "if the percentage of available hosts in the cluster becomes too low, Envoy will disregard
 *   health status and balance ... amongst all hosts"; default threshold 50%; panic is considered
 *   only while normalized total availability is below 100% (with one priority: healthy share x
 *   1.4 < 100%). Envoy's test is strict: LoadBalancerBase::isHostSetInPanic is
 *   `healthy% + degraded% < threshold`, so exactly 50% healthy is not panic.
 * - Istio's translation (pilot/pkg/networking/core/cluster_traffic_policy.go,
 *   applyOutlierDetection): whenever a DestinationRule has outlierDetection, the cluster's
 *   common_lb_config.healthy_panic_threshold is set to `minHealthPercent`, whose default 0
 *   disables panic mode (istio.io reference, DestinationRule OutlierDetection.minHealthPercent).
 *
 * Each cluster has 4 endpoints in the client's own locality (one priority), Istio's default LB
 * (LEAST_REQUEST; requests go one at a time, so its picks are uniform), no retries (every pick
 * is one request the test sees), consecutive5xxErrors 1 and maxEjectionPercent 100 so every 503
 * ejects at once, and a baseEjectionTime far longer than the test so no host returns meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Explanation, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { createMeshFolder, type MeshFolder, serviceYaml } from '../support/mesh-folder.ts';
import { type Sent, sendMany } from '../support/send.ts';
import { assertProportion, seededRandom, tally } from '../support/stats.ts';
import { startUpstream, switchableHandler, type Upstream } from '../support/upstream.ts';

const PORT = 9080;
const url = (host: string): string => `http://${host}:${PORT}/`;
const LOCALITY = 'us-east/zone-a/sub-1';
/** Requests sent once the cluster is in its final state; shares are measured over these. */
const N = 800;
/** Bound on the requests it takes to eject the bad endpoints (each needs one 503). */
const EJECT_WITHIN = 200;

function rules(host: string, minHealthPercent: number): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 100ms
      baseEjectionTime: 300s
      maxEjectionPercent: 100
      minHealthPercent: ${minHealthPercent}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  http:
    - retries: { attempts: 0 }
      route: [{ destination: { host: ${host} } }]
`;
}

function explain(mesh: Mesh, host: string): Explanation {
  return mesh.explain({ url: `http://${host}:${PORT}/` });
}

function ejectedCount(mesh: Mesh, host: string): number {
  return explain(mesh, host).clusters[0]?.ejectedHosts ?? 0;
}

/** Sends one request at a time until `count` endpoints are ejected; bounded. */
async function untilEjected(mesh: Mesh, host: string, count: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  while (ejectedCount(mesh, host) < count) {
    assert.ok(
      sent.length < EJECT_WITHIN,
      `${host}: ${ejectedCount(mesh, host)} of ${count} ejected after ${sent.length} requests ${JSON.stringify(tally(sent.map((s) => `${s.upstream}:${s.status}`)))}`,
    );
    sent.push(...(await sendMany(mesh, url(host), 1)));
  }
  return sent;
}

/** A cluster of four endpoints whose statuses the test switches. */
interface Fleet {
  readonly host: string;
  readonly upstreams: readonly Upstream[];
  readonly states: readonly { status: number }[];
}

describe('panic mode (Envoy panic threshold; Istio minHealthPercent)', () => {
  let folder: MeshFolder;
  const upstreams: Upstream[] = [];
  const meshes: Mesh[] = [];
  const fleets = new Map<string, Fleet>();

  async function startFleet(host: string): Promise<Fleet> {
    const states = [0, 1, 2, 3].map(() => ({ status: 200 }));
    const members: Upstream[] = [];
    for (const [i, state] of states.entries()) {
      const u = await startUpstream(`${host}-${i + 1}`, switchableHandler(state));
      upstreams.push(u);
      members.push(u);
    }
    const fleet = { host, upstreams: members, states };
    fleets.set(host, fleet);
    return fleet;
  }

  async function meshFor(): Promise<Mesh> {
    const m = await createMesh({
      workload: { namespace: 'default', locality: LOCALITY, labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(11),
    });
    meshes.push(m);
    return m;
  }

  before(async () => {
    const on = await startFleet('panic-on');
    const off = await startFleet('panic-off');
    folder = await createMeshFolder();
    const workloads = (f: Fleet) =>
      f.upstreams.map((u) => ({ name: u.name, port: u.port, labels: {}, locality: LOCALITY }));
    await folder.write(
      'services.yaml',
      [serviceYaml(on.host, PORT, workloads(on)), serviceYaml(off.host, PORT, workloads(off))].join('---\n'),
    );
    await folder.write('rules.yaml', [rules(on.host, 50), rules(off.host, 0)].join('---\n'));
  });

  after(async () => {
    for (const m of meshes) await m.close();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  test('minHealthPercent 50 (Istio -> healthy_panic_threshold 50): at 2 of 4 healthy (50%, not < 50) no panic; at 1 of 4 (25% < 50%) the LB ignores health and spreads over all 4 endpoints', async (t) => {
    const { host, upstreams: members, states } = fleets.get('panic-on')!;
    const mesh = await meshFor();
    const cluster = () => explain(mesh, host).clusters[0]!;
    assert.equal(cluster().panicThresholdPercent, 50, 'Istio writes minHealthPercent to the panic threshold');
    assert.equal(cluster().priorities.length, 1, 'all four endpoints in the one priority');
    assert.equal(cluster().priorities[0]!.panic, false);

    // Two of four go bad: each is ejected by its first 503 (consecutive5xxErrors 1).
    states[1]!.status = 503;
    states[2]!.status = 503;
    await untilEjected(mesh, host, 2);
    const half = cluster().priorities[0]!;
    // Health 2/4 x 1.4 = 70% < 100%, so panic is considered, but 50% is not below 50%.
    assert.equal(half.healthPercent, 70);
    assert.equal(half.panic, false, 'exactly the threshold is not panic (Envoy: healthy% < threshold)');
    const notPanicking = await sendMany(mesh, url(host), 100);
    assert.ok(
      notPanicking.every(
        (s) => s.status === 200 && (s.upstream === members[0]!.name || s.upstream === members[3]!.name),
      ),
      `without panic only the healthy endpoints are picked: ${JSON.stringify(tally(notPanicking.map((s) => s.upstream)))}`,
    );

    // A third goes bad: 1 of 4 healthy = 25% < 50%.
    states[3]!.status = 503;
    await untilEjected(mesh, host, 3);
    const e = cluster();
    assert.equal(e.ejectedHosts, 3);
    const p0 = e.priorities[0]!;
    assert.equal(p0.panic, true, 'explain() reports panic for the priority');
    assert.equal(p0.healthPercent, 35, 'health 1/4 x 1.4');
    assert.equal(p0.loadPercent, 100, 'the one priority still takes all the load');
    const endpoints = p0.localities.flatMap((l) => l.endpoints);
    assert.deepEqual(
      endpoints.map((x) => x.health).sort(),
      ['healthy', 'unhealthy', 'unhealthy', 'unhealthy'],
      'the ejected hosts stay unhealthy while the LB uses them',
    );

    const before = members.map((u) => u.received.length);
    const sent = await sendMany(mesh, url(host), N);
    const counts = tally(sent.map((s) => s.upstream));
    t.diagnostic(`in panic, ${N} requests: ${JSON.stringify(counts)}`);
    // Envoy: in panic "traffic will go to all hosts in that priority level regardless of their
    // health": each of the 4 gets 1/4 of N, within 5 standard deviations (±7.7 points at N=800).
    for (const [i, u] of members.entries()) {
      assertProportion(counts[u.name] ?? 0, N, 0.25, `${u.name} share in panic`);
      assert.equal(u.received.length - before[i]!, counts[u.name] ?? 0, `${u.name} saw what the caller saw`);
    }
    // The ejected endpoints still answer 503, so about 3/4 of requests fail: panic trades errors
    // for not overloading the last healthy host.
    assertProportion(sent.filter((s) => s.status === 503).length, N, 0.75, 'share of 503s in panic');
    assert.equal(ejectedCount(mesh, host), 3, 'panic does not un-eject anything');
  });

  test('minHealthPercent 0 (Istio default: panic disabled): with 1 of 4 healthy, all traffic goes to the healthy endpoint', async (t) => {
    const { host, upstreams: members, states } = fleets.get('panic-off')!;
    const mesh = await meshFor();
    assert.equal(explain(mesh, host).clusters[0]!.panicThresholdPercent, 0);
    for (const i of [1, 2, 3]) states[i]!.status = 503;
    const ejecting = await untilEjected(mesh, host, 3);
    assert.equal(
      ejecting.filter((s) => s.status === 503).length,
      3,
      'one 503 per bad endpoint, then it is ejected',
    );
    const p0 = explain(mesh, host).clusters[0]!.priorities[0]!;
    assert.equal(p0.panic, false);
    assert.equal(p0.healthPercent, 35);
    assert.equal(p0.loadPercent, 100);

    const sent = await sendMany(mesh, url(host), N);
    t.diagnostic(`panic disabled, ${N} requests: ${JSON.stringify(tally(sent.map((s) => s.upstream)))}`);
    assert.deepEqual(tally(sent.map((s) => `${s.upstream}:${s.status}`)), { [`${members[0]!.name}:200`]: N });
  });
});
