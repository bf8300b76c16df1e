/**
 * Route selection with 200 routes in one virtual host (Istio-translated: prefix and exact
 * matches, the way a large VirtualService compiles), timing a hit on the first, the middle and
 * the last route. `select()` is what the request path calls once per request.
 */
import { decodeRouteConfiguration, resolveWorkload, translateIstio } from '@dabba/discovery';
import { serviceYaml } from '../support/mesh-folder.ts';
import { loadRouteTable, type RequestView } from './client-internals.ts';
import { parseIstioTexts } from './istio-set.ts';
import { type LoopOptions, nsPerOp } from './time-loop.ts';

export const ROUTE_COUNT = 200;
const HOST = 'bench-routes';

/** Route i: even -> prefix `/r<i>/`, odd -> exact `/r<i>`, each to the one service. */
function routesYaml(): string {
  const lines = [
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${HOST}
spec:
  hosts: [${HOST}]
  http:`,
  ];
  for (let i = 0; i < ROUTE_COUNT; i++) {
    const uri = i % 2 === 0 ? `{ prefix: /r${i}/ }` : `{ exact: /r${i} }`;
    lines.push(`    - match: [{ uri: ${uri} }]
      route: [{ destination: { host: ${HOST} } }]`);
  }
  return `${lines.join('\n')}\n`;
}

function pathHitting(i: number): string {
  return i % 2 === 0 ? `/r${i}/item` : `/r${i}`;
}

export interface RouteHit {
  /** Which route the request matches (0-based, in configuration order). */
  readonly index: number;
  readonly where: 'first' | 'middle' | 'last';
  readonly kind: 'prefix' | 'exact';
  readonly ns: number;
}

export interface RouteBenchResult {
  readonly routes: number;
  readonly hits: readonly RouteHit[];
}

export async function runRouteBench(loop: LoopOptions): Promise<RouteBenchResult> {
  const { compileRouteTable } = await loadRouteTable();
  const set = parseIstioTexts([
    { name: 'service.yaml', text: serviceYaml(HOST, 8080, [{ name: 'r-1', port: 9000, labels: {} }]) },
    { name: 'routes.yaml', text: routesYaml() },
  ]);
  const result = translateIstio(set, resolveWorkload({}));
  if (result.issues.length > 0) throw new Error(result.issues[0]!.message);
  const config = result.resources.routes.find((r) => r.name === '8080');
  if (!config) throw new Error('no route configuration for port 8080');
  const vhost = config.virtualHosts.find((v) => v.domains.includes(HOST));
  if (vhost?.routes.length !== ROUTE_COUNT) throw new Error(`expected ${ROUTE_COUNT} routes`);
  const decoded = decodeRouteConfiguration(config, 'routes.yaml');
  if (!decoded.ok) throw new Error(decoded.issues[0]!.message);
  const table = compileRouteTable(decoded.value);

  const time = (index: number): number => {
    const view: RequestView = {
      method: 'GET',
      scheme: 'http',
      authority: `${HOST}:8080`,
      path: pathHitting(index),
      query: '',
      headers: {},
    };
    const got = table.select(view)?.route.index;
    if (got !== index) throw new Error(`route ${index}: selected ${got}`);
    return nsPerOp(() => table.select(view)!.route.index, loop);
  };
  // Routes alternate prefix/exact, and the two are indexed differently: time each kind.
  const at = [
    ['first', 0],
    ['first', 1],
    ['middle', ROUTE_COUNT / 2],
    ['middle', ROUTE_COUNT / 2 + 1],
    ['last', ROUTE_COUNT - 2],
    ['last', ROUTE_COUNT - 1],
  ] as const;
  return {
    routes: ROUTE_COUNT,
    hits: at.map(([where, index]) => ({
      index,
      where,
      kind: index % 2 === 0 ? 'prefix' : 'exact',
      ns: time(index),
    })),
  };
}
