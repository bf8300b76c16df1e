import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createSnapshot,
  type IstioResourceSet,
  parseIstioYaml,
  resolveWorkload,
  type Snapshot,
  translateIstio,
} from '@dabba/discovery';
import {
  type CompiledMesh,
  compileSnapshot,
  compileSnapshotAsync,
} from '../../src/compile/compile-snapshot.ts';
import { mulberry32 } from '../lb/mulberry32.ts';

const ZONES = ['us-east/us-east-1a', 'us-east/us-east-1b', 'us-east/us-east-1c'];

/** `services` services with 6 endpoints each, two subsets, a policy per service. */
function meshYaml(services: number): string {
  const policies = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'];
  const docs: string[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    docs.push(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${name}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: ${name} } }`);
    for (let j = 0; j < 6; j++) {
      docs.push(`apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ${name}-${j} }
spec:
  address: 10.0.${i}.${j + 1}
  ports: { http: 8080 }
  weight: ${1 + ((i + j) % 3)}
  labels: { app: ${name}, version: v${(j % 2) + 1} }
  locality: ${ZONES[j % 3]}`);
    }
    docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${name}
  trafficPolicy: { loadBalancer: { simple: ${policies[i % 3]} } }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }`);
  }
  return `${docs.join('\n---\n')}\n`;
}

function snapshotOf(services: number): Snapshot {
  const parsed = parseIstioYaml('mesh.yaml', meshYaml(services));
  assert.deepEqual(parsed.issues, []);
  const set: IstioResourceSet = {
    virtualServices: parsed.resources.filter((r) => r.kind === 'VirtualService'),
    destinationRules: parsed.resources.filter((r) => r.kind === 'DestinationRule'),
    serviceEntries: parsed.resources.filter((r) => r.kind === 'ServiceEntry'),
    workloadEntries: parsed.resources.filter((r) => r.kind === 'WorkloadEntry'),
  } as IstioResourceSet;
  const result = translateIstio(set, resolveWorkload({ namespace: 'default', locality: ZONES[0]! }));
  assert.deepEqual(result.issues, []);
  return createSnapshot('v1', 'test', result.resources);
}

/** What a mesh does: its ports, clusters, hosts and the first picks of every balancer. */
function behaviour(mesh: CompiledMesh): unknown {
  return {
    ports: [...mesh.routeTables.keys()],
    routeNames: [...mesh.routeConfigNames],
    passthrough: mesh.passthroughUnknownPorts,
    clusters: [...mesh.clusters].map(([name, c]) => ({
      name,
      kind: c.kind,
      lbPolicy: c.lbPolicy,
      hosts: c.hosts.map((h) => `${h.key} w${h.weight} ${h.health} ${h.locality.zone}`),
      picks: Array.from({ length: 40 }, () => c.balancer?.pick({ random: mulberry32(7) })?.key),
    })),
  };
}

describe('compileSnapshotAsync', () => {
  const snapshot = snapshotOf(40);

  test('compiles to the same mesh as compileSnapshot for the same random source', async () => {
    const sync = compileSnapshot(snapshot, undefined, mulberry32(1));
    const sliced = await compileSnapshotAsync(snapshot, undefined, mulberry32(1), { sliceMs: 0 });
    assert.ok(sync.clusters.size > 100);
    assert.deepEqual(behaviour(sliced), behaviour(sync));
  });

  test('reuses the previous mesh hosts as compileSnapshot does', async () => {
    // Two meshes in force, one per compile: an unchanged cluster is the previous one itself, so
    // the two compiles must not share one previous (their balancers would share a position).
    const first = compileSnapshot(snapshot, undefined, mulberry32(1));
    const twin = compileSnapshot(snapshot, undefined, mulberry32(1));
    const sync = compileSnapshot(snapshot, twin, mulberry32(2));
    const sliced = await compileSnapshotAsync(snapshot, first, mulberry32(2), { sliceMs: 0 });
    for (const [name, c] of first.clusters) {
      assert.deepEqual(sliced.clusters.get(name)!.hosts, c.hosts);
      const hosts = sliced.clusters.get(name)!.hosts;
      for (let i = 0; i < hosts.length; i++) assert.equal(hosts[i], c.hosts[i]);
    }
    assert.deepEqual(behaviour(sliced), behaviour(sync));
  });

  test('yields to the event loop between slices', async () => {
    let ticks = 0;
    let running = true;
    const tick = (): void => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    await compileSnapshotAsync(snapshot, undefined, Math.random, { sliceMs: 0 });
    running = false;
    assert.ok(ticks > 10, `only ${ticks} event-loop turns during the compile`);
  });

  test('a stale compile can be aborted and never resolves', async () => {
    const controller = new AbortController();
    const stale = compileSnapshotAsync(snapshot, undefined, Math.random, {
      sliceMs: 0,
      signal: controller.signal,
    });
    setImmediate(() => controller.abort());
    await assert.rejects(stale, { name: 'AbortError' });
    const aborted = AbortSignal.abort();
    await assert.rejects(compileSnapshotAsync(snapshot, undefined, Math.random, { signal: aborted }), {
      name: 'AbortError',
    });
  });

  test('rejects a negative sliceMs', async () => {
    await assert.rejects(compileSnapshotAsync(snapshot, undefined, Math.random, { sliceMs: -1 }), RangeError);
  });
});

describe('compiled hosts', () => {
  const mesh = compileSnapshot(snapshotOf(3), undefined, mulberry32(3));

  test('each cluster has its own Host objects, sharing key strings and localities', () => {
    const all = [...mesh.clusters.values()].filter((c) => c.name.includes('svc-0'));
    const byKey = new Map<string, unknown[]>();
    for (const c of all) for (const h of c.hosts) byKey.set(h.key, [...(byKey.get(h.key) ?? []), h]);
    const shared = [...byKey.values()].filter((hosts) => hosts.length > 1);
    assert.ok(shared.length > 0);
    for (const hosts of shared) assert.equal(new Set(hosts).size, hosts.length);
    const localities = new Set(all.flatMap((c) => c.hosts.map((h) => h.locality)));
    assert.equal(localities.size, 3);
  });

  test('a request in flight counts only in the cluster it went through', () => {
    const clusters = [...mesh.clusters.values()].filter((c) => c.name.includes('svc-1'));
    const [a, b] = clusters.filter((c) => c.hosts.length > 0);
    const host = a!.hosts[0]!;
    host.activeRequests++;
    const twin = b!.hosts.find((h) => h.key === host.key);
    if (twin) assert.equal(twin.activeRequests, 0);
    host.activeRequests--;
  });
});
