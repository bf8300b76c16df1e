/**
 * End to end: DestinationRule consistentHash (ring hash, the default, and maglev) keyed by header,
 * cookie and query parameter, over three real endpoints.
 *
 * Pins: Istio LoadBalancerSettings.ConsistentHashLB (httpHeaderName, httpCookie,
 * httpQueryParameterName, ringHash/maglev: istio.io/latest/docs/reference/config/networking/
 * destination-rule/#LoadBalancerSettings-ConsistentHashLB), Envoy RouteAction.HashPolicy
 * (route/v3/route_components.proto) and the ring hash / Maglev load balancers
 * (intro/arch_overview/upstream/load_balancing/load_balancers). A request that yields no hash is
 * balanced on a random value (Envoy thread_aware_lb_impl.cc: `hash ? *hash : random_.random()`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml } from '../support/mesh-folder.ts';
import { seededRandom, tally } from '../support/stats.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

interface Case {
  readonly service: string;
  readonly hash: string;
  readonly lbPolicy: string;
  /** Request options carrying `key`. */
  readonly keyed: (key: string) => { path: string; headers: Record<string, string> };
}

const CASES: Case[] = [
  {
    service: 'hdr',
    hash: '{ httpHeaderName: x-user }',
    lbPolicy: 'RING_HASH',
    keyed: (k) => ({ path: '/', headers: { 'x-user': k } }),
  },
  {
    service: 'cookie',
    hash: '{ httpCookie: { name: user, ttl: 0s } }',
    lbPolicy: 'RING_HASH',
    keyed: (k) => ({ path: '/', headers: { cookie: `theme=dark; user=${k}` } }),
  },
  {
    service: 'query',
    hash: '{ httpQueryParameterName: user }',
    lbPolicy: 'RING_HASH',
    keyed: (k) => ({ path: `/?a=1&user=${k}`, headers: {} }),
  },
  {
    service: 'maglev',
    hash: '{ httpHeaderName: x-user, maglev: {} }',
    lbPolicy: 'MAGLEV',
    keyed: (k) => ({ path: '/', headers: { 'x-user': k } }),
  },
];

describe('consistent hashing', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const upstreams: Upstream[] = [];

  const send = async (service: string, path: string, headers: Record<string, string>): Promise<string> => {
    const res = await request(`http://${service}:9080${path}`, { dispatcher: mesh, headers });
    assert.equal(res.statusCode, 200);
    return ((await res.body.json()) as { upstream: string }).upstream;
  };

  before(async () => {
    for (const name of ['a', 'b', 'c']) upstreams.push(await startUpstream(name));
    folder = await createMeshFolder();
    const services = CASES.map((c) =>
      serviceYaml(
        c.service,
        9080,
        upstreams.map((u) => ({ name: `${c.service}-${u.name}`, port: u.port, labels: {} })),
      ),
    );
    const rules = CASES.map(
      (c) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${c.service} }
spec:
  host: ${c.service}
  trafficPolicy:
    loadBalancer:
      consistentHash: ${c.hash}
`,
    );
    await folder.write('services.yaml', services.join('---\n'));
    await folder.write('rules.yaml', rules.join('---\n'));
    mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(7),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  for (const c of CASES) {
    describe(`${c.service}: ${c.hash}`, () => {
      test(`the cluster uses ${c.lbPolicy}`, () => {
        assert.equal(mesh.explain({ url: `http://${c.service}:9080/` }).clusters[0]?.lbPolicy, c.lbPolicy);
      });

      test('the same key lands on the same endpoint across 200 requests; 20 keys use more than one endpoint', async () => {
        // 20 keys x 10 requests each, interleaved so that any rotation would show.
        const byKey = new Map<string, Set<string>>();
        for (let round = 0; round < 10; round++) {
          for (let k = 0; k < 20; k++) {
            const key = `user-${k}`;
            const { path, headers } = c.keyed(key);
            const name = await send(c.service, path, headers);
            const set = byKey.get(key) ?? new Set<string>();
            byKey.set(key, set);
            set.add(name);
          }
        }
        for (const [key, set] of byKey) assert.equal(set.size, 1, `${key} went to ${[...set].join(', ')}`);
        // With a fair hash, 20 keys all on one of 3 endpoints has P = 3·(1/3)^20 ≈ 8.6e-10.
        const used = new Set([...byKey.values()].map((s) => [...s][0]));
        assert.ok(used.size >= 2, `all 20 keys went to ${[...used].join(', ')}`);
      });

      test('without the key, requests spread (random hash): 300 requests reach all three endpoints', async () => {
        const names: string[] = [];
        for (let i = 0; i < 300; i++) names.push(await send(c.service, '/', {}));
        const counts = tally(names);
        // P(an endpoint with ring share >= 1/10 gets none of 300) < 0.9^300 ≈ 1.9e-14.
        assert.deepEqual(Object.keys(counts).sort(), ['a', 'b', 'c'], JSON.stringify(counts));
      });
    });
  }
});
