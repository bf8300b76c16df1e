/**
 * A RouteConfiguration with hundreds of virtual hosts (Istio puts every service of a port in
 * one) must not be compiled in one synchronous piece: compileSnapshotAsync yields inside it,
 * and the table it builds selects exactly what the synchronous compile's table selects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConfigError,
  createSnapshot,
  type IstioResourceSet,
  parseIstioYaml,
  type RouteConfiguration,
  resolveWorkload,
  type Snapshot,
  translateIstio,
  type VirtualHost,
} from '@dabba/discovery';
import {
  type CompiledMesh,
  compileSnapshot,
  compileSnapshotAsync,
} from '../../src/compile/compile-snapshot.ts';
import { MatchContext, type RequestView } from '../../src/route/match/index.ts';
import { clusterFor } from '../../src/route/route-table.ts';
import { mulberry32 } from '../lb/mulberry32.ts';

const PORT = 8080;
const COPIES = 400;

/** Three services, each with a header route to subset v2 and a 90/10 split, as in the scale bench. */
function baseSnapshot(): Snapshot {
  const docs: string[] = [];
  for (let i = 0; i < 3; i++) {
    const name = `svc-${i}`;
    docs.push(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${name}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: ${PORT}, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.${i}.1, labels: { version: v1 } }, { address: 10.0.${i}.2, labels: { version: v2 } }]`);
    docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${name}
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]`);
    docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  http:
    - match: [{ headers: { end-user: { exact: tester } } }]
      route: [{ destination: { host: ${name}, subset: v2 } }]
    - route:
        - { destination: { host: ${name}, subset: v1 }, weight: 90 }
        - { destination: { host: ${name}, subset: v2 }, weight: 10 }`);
  }
  const parsed = parseIstioYaml('mesh.yaml', `${docs.join('\n---\n')}\n`);
  assert.deepEqual(parsed.issues, []);
  const set = {
    virtualServices: parsed.resources.filter((r) => r.kind === 'VirtualService'),
    destinationRules: parsed.resources.filter((r) => r.kind === 'DestinationRule'),
    serviceEntries: parsed.resources.filter((r) => r.kind === 'ServiceEntry'),
    workloadEntries: [],
  } as unknown as IstioResourceSet;
  const result = translateIstio(set, resolveWorkload({ namespace: 'default' }));
  assert.deepEqual(result.issues, []);
  return createSnapshot('v1', 'test', result.resources);
}

/**
 * The snapshot with its port's route configuration grown to COPIES copies of each service's
 * virtual host, each under its own domains; the clusters stay few, so the event-loop turns of
 * a compile come from the route configuration, not from the clusters.
 */
function bigRouteSnapshot(edit: (vhosts: VirtualHost[]) => void = () => {}): {
  snapshot: Snapshot;
  config: RouteConfiguration;
} {
  const base = baseSnapshot();
  const routeName = String(PORT);
  const original = base.routes.get(routeName);
  assert.ok(original, `route configuration "${routeName}"`);
  const services = original.virtualHosts.filter((vh) => !vh.domains.includes('*'));
  assert.equal(services.length, 3);
  const vhosts: VirtualHost[] = [];
  for (let c = 0; c < COPIES; c++) {
    for (const vh of services) {
      vhosts.push({ ...vh, name: `copy-${c}-${vh.name}`, domains: vh.domains.map((d) => `copy-${c}.${d}`) });
    }
  }
  vhosts.push(...original.virtualHosts.filter((vh) => vh.domains.includes('*')));
  edit(vhosts);
  const config: RouteConfiguration = { ...original, virtualHosts: vhosts };
  const routes = new Map([...base.routes, [routeName, config]]);
  // Through createSnapshot, as a source builds it: the route configuration is decoded there.
  const snapshot = createSnapshot('v1', 'test', {
    listeners: [...base.listeners.values()],
    routes: [...routes.values()],
    clusters: [...base.clusters.values()],
    endpoints: [...base.endpoints.values()],
  });
  return { snapshot, config };
}

function view(authority: string, path: string, headers: Record<string, string>): RequestView {
  return { method: 'GET', scheme: 'http', authority, path, query: '', headers };
}

/** What the port's table picks for a request to each domain, with and without the header route. */
function selections(mesh: CompiledMesh, config: RouteConfiguration): unknown[] {
  const table = mesh.routeTables.get(PORT);
  assert.ok(table);
  const out: unknown[] = [];
  for (const [v, vh] of config.virtualHosts.entries()) {
    // Every 7th host keeps the test fast while covering hosts from every slice.
    if (v % 7 !== 0 && v !== config.virtualHosts.length - 1) continue;
    for (const authority of [vh.domains[0] ?? '', 'unknown.example:80']) {
      for (const headers of [{}, { 'end-user': 'tester' }]) {
        const random = mulberry32(v + 1);
        const ctx = new MatchContext(view(authority, '/reviews/1', headers), () =>
          Math.floor(random() * 0x1_0000_0000),
        );
        const s = table.select(ctx.request, ctx);
        out.push(
          s && {
            virtualHost: s.virtualHost,
            route: s.route,
            kind: s.action.kind,
            cluster: clusterFor(s, ctx),
            request: s.requestHeaderMutations,
          },
        );
      }
    }
  }
  return out;
}

describe('compileSnapshotAsync and a large route configuration', () => {
  const { snapshot, config } = bigRouteSnapshot();

  test('compiles the route configuration across many event-loop turns', async () => {
    const sync = compileSnapshot(snapshot, undefined, mulberry32(1));
    assert.ok(sync.clusters.size < 20, `${sync.clusters.size} clusters`);
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    await compileSnapshotAsync(snapshot, undefined, mulberry32(1), { sliceMs: 0 });
    running = false;
    // Before route tables were sliced this was about one turn per cluster and listener.
    assert.ok(
      turns > config.virtualHosts.length,
      `${turns} event-loop turns for ${config.virtualHosts.length} virtual hosts`,
    );
  });

  test('the sliced table selects what the synchronous table selects', async () => {
    for (const sliceMs of [0, 1]) {
      const sync = compileSnapshot(snapshot, undefined, mulberry32(1));
      const sliced = await compileSnapshotAsync(snapshot, undefined, mulberry32(1), { sliceMs });
      const expected = selections(sync, config);
      assert.ok(expected.length > config.virtualHosts.length / 2, `${expected.length} requests`);
      // Some requests reach each kind of outcome: the header route, the weighted split, no route.
      assert.ok(expected.some((s) => s === undefined || (s as { kind: string }).kind !== 'weighted'));
      assert.ok(expected.some((s) => s !== undefined && (s as { kind: string }).kind === 'weighted'));
      assert.deepEqual(selections(sliced, config), expected);
    }
  });

  test('every problem of the route configuration is reported together, however far apart', () => {
    let error: unknown;
    try {
      bigRouteSnapshot((vhosts) => {
        // Problems far apart, so they fall in different slices of the decode.
        const first = vhosts[3] as VirtualHost;
        const last = vhosts[vhosts.length - 2] as VirtualHost;
        vhosts[3] = { ...first, matcher: {} } as unknown as VirtualHost;
        vhosts[vhosts.length - 2] = { ...last, matcher: {} } as unknown as VirtualHost;
        vhosts[700] = { ...(vhosts[700] as VirtualHost), domains: (vhosts[5] as VirtualHost).domains };
      });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ConfigError);
    const paths = error.issues.map((i) => i.path);
    assert.deepEqual(paths, [
      'virtualHosts[3].matcher',
      `virtualHosts[${3 * COPIES - 1}].matcher`,
      'virtualHosts[700].domains[0]',
    ]);
  });
});
