/**
 * Istio YAML for the throughput run. The routed service makes every request walk a realistic
 * route list: header and prefix routes that do not match, one that matches the path but not a
 * header, then the catch-all with a 50/50 split between two subsets, each subset two endpoints
 * under LEAST_REQUEST. The floor service has a ServiceEntry and one endpoint only: the default
 * route to the default cluster, the least work the mesh can do.
 */
import { serviceYaml } from '../support/mesh-folder.ts';

export const ROUTED_HOST = 'bench-routed';
export const FLOOR_HOST = 'bench-floor';
export const SERVICE_PORT = 8080;
/** The path every request uses; it reaches the catch-all route. */
export const REQUEST_PATH = '/api/items';

/** `ports`: four upstream ports; v1 gets the first two, v2 the last two. */
export function routedServiceYaml(ports: readonly number[]): string {
  const [a, b, c, d] = ports;
  const services = serviceYaml(ROUTED_HOST, SERVICE_PORT, [
    { name: 'routed-v1-a', port: a!, labels: { version: 'v1' } },
    { name: 'routed-v1-b', port: b!, labels: { version: 'v1' } },
    { name: 'routed-v2-a', port: c!, labels: { version: 'v2' } },
    { name: 'routed-v2-b', port: d!, labels: { version: 'v2' } },
  ]);
  const rule = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${ROUTED_HOST}
spec:
  host: ${ROUTED_HOST}
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;
  const to = (subset: string) => `[{ destination: { host: ${ROUTED_HOST}, subset: ${subset} } }]`;
  const routes = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${ROUTED_HOST}
spec:
  hosts: [${ROUTED_HOST}]
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: ${to('v2')}
    - match: [{ uri: { prefix: /admin } }]
      route: ${to('v1')}
    - match: [{ uri: { exact: /healthz } }, { uri: { prefix: /static/ } }]
      route: ${to('v1')}
    - match: [{ uri: { prefix: /api }, headers: { x-canary: { exact: "true" } } }]
      route: ${to('v2')}
    - route:
        - { destination: { host: ${ROUTED_HOST}, subset: v1 }, weight: 50 }
        - { destination: { host: ${ROUTED_HOST}, subset: v2 }, weight: 50 }
`;
  return `${services}---\n${rule}---\n${routes}`;
}

export function floorServiceYaml(port: number): string {
  return serviceYaml(FLOOR_HOST, SERVICE_PORT, [{ name: 'floor-1', port, labels: {} }]);
}
