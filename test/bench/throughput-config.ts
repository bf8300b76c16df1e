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

/** Lines added to the routed service's config: the resilience modes use this (see resilience-config.ts). */
export interface ServicePolicy {
  /** YAML entries added to the DestinationRule's `trafficPolicy`, one per line. */
  readonly trafficPolicy: readonly string[];
  /** YAML entries added to every HTTP route (timeout, retries), one per line. */
  readonly route: readonly string[];
}

const NO_POLICY: ServicePolicy = { trafficPolicy: [], route: [] };

/**
 * `ports`: four upstream ports; v1 gets the first two, v2 the last two. `host` lets one mesh hold
 * several copies of this service, each with its own `policy`.
 */
export function routedServiceYaml(
  ports: readonly number[],
  host: string = ROUTED_HOST,
  policy: ServicePolicy = NO_POLICY,
): string {
  const [a, b, c, d] = ports;
  const services = serviceYaml(host, SERVICE_PORT, [
    { name: `${host}-v1-a`, port: a!, labels: { version: 'v1' } },
    { name: `${host}-v1-b`, port: b!, labels: { version: 'v1' } },
    { name: `${host}-v2-a`, port: c!, labels: { version: 'v2' } },
    { name: `${host}-v2-b`, port: d!, labels: { version: 'v2' } },
  ]);
  const indent = (lines: readonly string[], spaces: number) =>
    lines.map((l) => `${' '.repeat(spaces)}${l}\n`).join('');
  const rule = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${host}
spec:
  host: ${host}
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
${indent(policy.trafficPolicy, 4)}  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;
  const to = (subset: string) => `[{ destination: { host: ${host}, subset: ${subset} } }]`;
  const extra = indent(policy.route, 6);
  const routes = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${host}
spec:
  hosts: [${host}]
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: ${to('v2')}
${extra}    - match: [{ uri: { prefix: /admin } }]
      route: ${to('v1')}
${extra}    - match: [{ uri: { exact: /healthz } }, { uri: { prefix: /static/ } }]
      route: ${to('v1')}
${extra}    - match: [{ uri: { prefix: /api }, headers: { x-canary: { exact: "true" } } }]
      route: ${to('v2')}
${extra}    - route:
        - { destination: { host: ${host}, subset: v1 }, weight: 50 }
        - { destination: { host: ${host}, subset: v2 }, weight: 50 }
${extra}`;
  return `${services}---\n${rule}---\n${routes}`;
}

export function floorServiceYaml(port: number): string {
  return serviceYaml(FLOOR_HOST, SERVICE_PORT, [{ name: 'floor-1', port, labels: {} }]);
}
