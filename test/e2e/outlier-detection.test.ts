/**
 * End to end, on real sockets: outlier detection ejecting endpoints from the load balancer, and
 * the locality failover it drives.
 *
 * Pins: Envoy's outlier detection (intro/arch_overview/upstream/outlier: consecutive 5xx, ejection
 * for base_ejection_time x number of ejections, hosts return at the interval sweep after their
 * time, max_ejection_percent counted over the cluster's hosts; cluster/v3/outlier_detection.proto
 * defaults), Envoy's router reporting every attempt and mapping a connect failure to 503 when
 * local-origin errors are not split (router.cc updateOutlierDetection, outlier_detection_impl.cc
 * resultToHttpCode), Istio's DestinationRule OutlierDetection (istio.io/latest/docs/reference/
 * config/networking/destination-rule/#OutlierDetection: maxEjectionPercent default 10,
 * minHealthPercent -> healthy_panic_threshold, default 0) and Istio's locality failover, which
 * needs outlierDetection (istio.io/latest/docs/tasks/traffic-management/locality-load-balancing/
 * failover/), with Envoy's priority levels (intro/arch_overview/upstream/load_balancing/priority).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type ExplainedEndpoint, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';
import { send, sendMany } from '../support/send.ts';
import { runMany, seededRandom, tally } from '../support/stats.ts';
import { type Handler, startUpstream, switchableHandler, type Upstream } from '../support/upstream.ts';

const PORT = 9080;
const url = (host: string): string => `http://${host}:${PORT}/`;

function destinationRule(host: string, outlier: string, extra = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN${extra} }
    outlierDetection: ${outlier}
`;
}

/** A VirtualService that turns retries off, so every pick is one request the test sees. */
function noRetries(host: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  http:
    - retries: { attempts: 0 }
      route: [{ destination: { host: ${host} } }]
`;
}

function endpointOf(mesh: Mesh, host: string, port: number): ExplainedEndpoint {
  const e = mesh.explain({ url: `http://${host}:${PORT}/` });
  const all = e.clusters[0]?.priorities.flatMap((p) => p.localities.flatMap((l) => l.endpoints)) ?? [];
  const found = all.find((x) => x.port === port);
  assert.ok(found, `endpoint ${port} in explain()`);
  return found;
}

describe('outlier detection', () => {
  let folder: MeshFolder;
  const upstreams: Upstream[] = [];
  const meshes: Mesh[] = [];

  const start = async (name: string, handler?: Handler) => {
    const u = await startUpstream(name, handler);
    upstreams.push(u);
    return u;
  };

  async function meshAt(locality = 'us-east/zone-a/sub-1'): Promise<Mesh> {
    const m = await createMesh({
      workload: { namespace: 'default', locality, labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(7),
    });
    meshes.push(m);
    return m;
  }

  // (a) ejection and return
  const ejectState = { status: 503 };
  let ejectBad: Upstream;
  // (b) locality failover
  const zoneAState = { status: 200 };
  let zoneA: Upstream;
  // (c) a killed endpoint under load
  let victim: Upstream;
  // (d) maxEjectionPercent 10
  let capBad: Upstream;

  before(async () => {
    const ejectGood = [await start('eject-good-1'), await start('eject-good-2')];
    ejectBad = await start('eject-bad', switchableHandler(ejectState));
    zoneA = await start('zone-a', switchableHandler(zoneAState));
    const zoneB = await start('zone-b');
    const killGood = [await start('kill-good-1'), await start('kill-good-2')];
    victim = await start('kill-victim');
    const capGood = [await start('cap-good-1'), await start('cap-good-2')];
    capBad = await start('cap-bad', switchableHandler({ status: 503 }));

    const at = (u: Upstream, locality = 'us-east/zone-a/sub-1') => ({
      name: u.name,
      port: u.port,
      labels: {},
      locality,
    });
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      [
        serviceYaml(
          'eject',
          PORT,
          [...ejectGood, ejectBad].map((u) => at(u)),
        ),
        serviceYaml('failover', PORT, [at(zoneA), at(zoneB, 'us-east/zone-b/sub-1')]),
        serviceYaml(
          'kill',
          PORT,
          [...killGood, victim].map((u) => at(u)),
        ),
        serviceYaml(
          'cap',
          PORT,
          [...capGood, capBad].map((u) => at(u)),
        ),
      ].join('---\n'),
    );
    await folder.write(
      'rules.yaml',
      [
        destinationRule(
          'eject',
          '{ consecutive5xxErrors: 3, interval: 200ms, baseEjectionTime: 2s, maxEjectionPercent: 100 }',
        ),
        noRetries('eject'),
        destinationRule(
          'failover',
          '{ consecutive5xxErrors: 2, interval: 200ms, baseEjectionTime: 1s, maxEjectionPercent: 100 }',
        ),
        noRetries('failover'),
        // No VirtualService: Istio's default retry policy (2 retries on connect-failure, ...).
        `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: kill }
spec:
  host: kill
  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 3, interval: 200ms, baseEjectionTime: 10s, maxEjectionPercent: 100 }
`,
        // maxEjectionPercent left at Istio's default, 10.
        destinationRule('cap', '{ consecutive5xxErrors: 2, interval: 200ms, baseEjectionTime: 10s }'),
        noRetries('cap'),
      ].join('---\n'),
    );
  });

  after(async () => {
    for (const m of meshes) await m.close();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  test('an endpoint answering 503 is ejected after consecutive5xxErrors (3), shows unhealthy, and returns after baseEjectionTime', async () => {
    const mesh = await meshAt();
    // Sequential: the third 503 (the 9th request) ejects, so the ejection clock starts there, not
    // after all 60 (a loaded machine would otherwise shorten the measured ejection).
    const first = await sendMany(mesh, url('eject'), 9);
    const ejectedSeenAt = performance.now();
    first.push(...(await sendMany(mesh, url('eject'), 51)));
    // Bound: round robin picks the bad endpoint every third request until its third 503
    // ejects it (synchronously, before that response reaches us), so exactly 3 of 60 fail.
    const failed = first.filter((s) => s.status !== 200);
    assert.equal(
      failed.length,
      3,
      `503s over 60 requests: ${JSON.stringify(tally(first.map((s) => s.upstream)))}`,
    );
    assert.equal(ejectBad.received.length, 3);
    assert.ok(first.slice(9).every((s) => s.status === 200 && s.upstream !== 'eject-bad'));

    const ejected = endpointOf(mesh, 'eject', ejectBad.port);
    assert.equal(ejected.health, 'unhealthy');
    assert.equal(ejected.outlier?.ejected, true);
    assert.equal(ejected.outlier?.ejections, 1);
    assert.equal(mesh.explain({ url: `http://eject:${PORT}/` }).clusters[0]?.ejectedHosts, 1);

    // Still out well inside baseEjectionTime (2s x 1 ejection).
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await sendMany(mesh, url('eject'), 6)).filter((s) => s.upstream === 'eject-bad').length, 0);

    // Back at the first 200 ms sweep after 2 s.
    await waitFor(() => endpointOf(mesh, 'eject', ejectBad.port).health === 'healthy', 4000, 'un-ejection');
    const outFor = performance.now() - ejectedSeenAt;
    assert.ok(outFor >= 1900 && outFor < 3500, `ejected for ${Math.round(outFor)} ms`);
    ejectState.status = 200;
    const back = await sendMany(mesh, url('eject'), 9);
    assert.equal(
      back.filter((s) => s.upstream === 'eject-bad').length,
      3,
      'the returned endpoint gets its share',
    );
    assert.ok(back.every((s) => s.status === 200));
    assert.equal(endpointOf(mesh, 'eject', ejectBad.port).outlier?.ejected, false);
  });

  test('locality failover: traffic stays in zone A, moves to zone B while A is ejected, and returns to A', async () => {
    const mesh = await meshAt('us-east/zone-a/sub-1');
    const healthy = await sendMany(mesh, url('failover'), 20);
    assert.deepEqual(tally(healthy.map((s) => s.upstream)), { 'zone-a': 20 });

    zoneAState.status = 503;
    const failing = await sendMany(mesh, url('failover'), 20);
    // Two 503s from A (consecutive5xxErrors: 2) eject it; priority 0 then has no healthy host
    // and priority 1 (zone B) takes all the load (overprovisioning: 0% x 1.4 spills 100%).
    assert.deepEqual(tally(failing.map((s) => `${s.upstream}:${s.status}`)), {
      'zone-a:503': 2,
      'zone-b:200': 18,
    });
    assert.deepEqual(
      failing.slice(0, 2).map((s) => s.upstream),
      ['zone-a', 'zone-a'],
    );

    zoneAState.status = 200;
    await waitFor(() => endpointOf(mesh, 'failover', zoneA.port).health === 'healthy', 3000, 'zone A back');
    const after = await sendMany(mesh, url('failover'), 20);
    assert.deepEqual(tally(after.map((s) => `${s.upstream}:${s.status}`)), { 'zone-a:200': 20 });
  });

  test('killing one of three endpoints under load: retries hide connection failures, failed requests are bounded, the dead endpoint is ejected', async () => {
    const mesh = await meshAt();
    const concurrency = 4;
    const n = 300;
    const killAt = 100;
    let killed: Promise<void> | undefined;
    const results = await runMany(n, concurrency, async (i) => {
      if (i === killAt) killed = victim.close();
      try {
        const s = await send(mesh, url('kill'));
        return s.status === 200 ? 'ok' : `status ${s.status}`;
      } catch (err) {
        return (err as { code?: string }).code ?? 'error';
      }
    });
    await killed;
    const failures = results.filter((r) => r !== 'ok');
    // Bound: a refused connection is retried on another endpoint (Istio's default policy retries
    // connect-failure), so only requests already written to the victim can fail: at most one per
    // request in flight when it died plus one per keep-alive socket it left behind, each at most
    // `concurrency`. After 3 consecutive failures it is ejected and picked no more.
    assert.ok(failures.length <= 2 * concurrency, `failed: ${JSON.stringify(tally(failures))}`);
    assert.ok(results.slice(0, killAt - concurrency).every((r) => r === 'ok'));
    assert.ok(
      results.slice(n - 150).every((r) => r === 'ok'),
      'every request well after the kill succeeds',
    );
    const dead = endpointOf(mesh, 'kill', victim.port);
    assert.equal(dead.health, 'unhealthy');
    assert.equal(dead.outlier?.ejected, true);
  });

  test('maxEjectionPercent 10 (Istio default) with 3 endpoints ejects nothing, as in Envoy', async () => {
    const mesh = await meshAt();
    const sent = await sendMany(mesh, url('cap'), 30);
    // One ejection would be 33% of the cluster's hosts > 10%: refused (ejections_overflow).
    assert.equal(capBad.received.length, 10);
    assert.equal(sent.filter((s) => s.status === 503).length, 10);
    const bad = endpointOf(mesh, 'cap', capBad.port);
    assert.equal(bad.health, 'healthy');
    assert.equal(bad.outlier?.ejected, false);
    assert.equal(mesh.explain({ url: `http://cap:${PORT}/` }).clusters[0]?.ejectedHosts, 0);
  });
});
