/**
 * End to end: DestinationRule load-balancer policies over three real endpoints.
 *
 * Pins: Istio DestinationRule LoadBalancerSettings.SimpleLB (ROUND_ROBIN, RANDOM, LEAST_REQUEST is
 * the default: istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings-SimpleLB),
 * WorkloadEntry.weight ("the load balancing weight associated with the endpoint",
 * istio.io/latest/docs/reference/config/networking/workload-entry/), and Envoy's load balancer
 * definitions (intro/arch_overview/upstream/load_balancing/load_balancers: weighted round robin,
 * weighted least request with P2C, random).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, type WorkloadSpec } from '../support/mesh-folder.ts';
import { assertProportion, runMany, seededRandom, tally } from '../support/stats.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

function rule(host: string, simple: string | undefined): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
${simple ? `  trafficPolicy:\n    loadBalancer: { simple: ${simple} }\n` : ''}`;
}

describe('load-balancer policies', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const upstreams: Upstream[] = [];
  /** `slow` answers after SLOW_MS; the others at once. */
  const SLOW_MS = 100;

  const send = async (url: string): Promise<string> => {
    const res = await request(url, { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    return ((await res.body.json()) as { upstream: string }).upstream;
  };

  before(async () => {
    for (const name of ['a', 'b', 'c']) upstreams.push(await startUpstream(name));
    upstreams.push(
      await startUpstream('slow', (req, res, self) => {
        setTimeout(() => res.end(JSON.stringify({ upstream: self.name, url: req.url })), SLOW_MS);
      }),
    );
    const three = (svc: string, weights?: number[]): WorkloadSpec[] =>
      upstreams.slice(0, 3).map((u, i) => ({
        name: `${svc}-${u.name}`,
        port: u.port,
        labels: {},
        ...(weights ? { weight: weights[i]! } : {}),
      }));
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      [
        serviceYaml('rr', 9080, three('rr')),
        serviceYaml('rnd', 9080, three('rnd')),
        serviceYaml('wrr', 9080, three('wrr', [1, 2, 3])),
        serviceYaml('lr', 9080, [
          { name: 'lr-a', port: upstreams[0]!.port, labels: {} },
          { name: 'lr-b', port: upstreams[1]!.port, labels: {} },
          { name: 'lr-slow', port: upstreams[3]!.port, labels: {} },
        ]),
      ].join('---\n'),
    );
    await folder.write(
      'rules.yaml',
      [
        rule('rr', 'ROUND_ROBIN'),
        rule('rnd', 'RANDOM'),
        rule('wrr', 'ROUND_ROBIN'),
        rule('lr', undefined),
      ].join('---\n'),
    );
    mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(42),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  test('ROUND_ROBIN with equal weights visits each endpoint in turn: 300 sequential requests -> exactly 100 each', async () => {
    assert.equal(mesh.explain({ url: 'http://rr:9080/' }).clusters[0]?.lbPolicy, 'ROUND_ROBIN');
    const names: string[] = [];
    for (let i = 0; i < 300; i++) names.push(await send('http://rr:9080/'));
    assert.deepEqual(tally(names), { a: 100, b: 100, c: 100 });
    // Strict rotation: no endpoint twice in a row.
    for (let i = 1; i < names.length; i++) assert.notEqual(names[i], names[i - 1], `request ${i}`);
  });

  // 3,000 requests, p = 1/3: tolerance 5·sqrt((1/3)(2/3)/3000) = ±4.30 pp; each of the three
  // checks fails falsely with P < 5.7e-7, so the test with P < 1.8e-6 (seeded, so in practice never).
  test('RANDOM spreads 3,000 requests evenly: each endpoint 33.3% ± 4.30 pp, and not in rotation', async () => {
    assert.equal(mesh.explain({ url: 'http://rnd:9080/' }).clusters[0]?.lbPolicy, 'RANDOM');
    const names: string[] = [];
    for (let i = 0; i < 3000; i++) names.push(await send('http://rnd:9080/'));
    const counts = tally(names);
    for (const name of ['a', 'b', 'c']) assertProportion(counts[name] ?? 0, 3000, 1 / 3, `endpoint ${name}`);
    // Round robin would never repeat; uniform random repeats ~1/3 of the time.
    let repeats = 0;
    for (let i = 1; i < names.length; i++) if (names[i] === names[i - 1]) repeats++;
    assert.ok(repeats > 500, `only ${repeats} repeats: looks like rotation, not random`);
  });

  test('ROUND_ROBIN follows WorkloadEntry weights 1:2:3: 600 requests -> 100/200/300 (±2, EDF start offset)', async () => {
    const names: string[] = [];
    for (let i = 0; i < 600; i++) names.push(await send('http://wrr:9080/'));
    const counts = tally(names);
    assert.ok(Math.abs((counts.a ?? 0) - 100) <= 2, JSON.stringify(counts));
    assert.ok(Math.abs((counts.b ?? 0) - 200) <= 2, JSON.stringify(counts));
    assert.ok(Math.abs((counts.c ?? 0) - 300) <= 2, JSON.stringify(counts));
  });

  test('LEAST_REQUEST (the Istio default) sends fewer of 300 requests, 12 in flight, to an endpoint that answers slowly', async () => {
    assert.equal(mesh.explain({ url: 'http://lr:9080/' }).clusters[0]?.lbPolicy, 'LEAST_REQUEST');
    const names = await runMany(300, 12, () => send('http://lr:9080/'));
    const counts = tally(names);
    // Without least-request (e.g. random or round robin) `slow` would get ~1/3 (100). With P2C it
    // is chosen only when both choices are `slow` or it ties, so it gets far fewer; the fast ones
    // share the rest. Bound: below a half of either fast endpoint's share.
    const slow = counts.slow ?? 0;
    assert.ok(slow < 50, `slow endpoint got ${slow} of 300: ${JSON.stringify(counts)}`);
    assert.ok(slow * 2 < (counts.a ?? 0) && slow * 2 < (counts.b ?? 0), JSON.stringify(counts));
  });
});
