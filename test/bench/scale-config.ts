/**
 * A large mesh as Istio YAML: `services` services, one file each, every service with a
 * ServiceEntry, 10 WorkloadEntries over 3 zones (versions v1/v2 alternating), a DestinationRule
 * with two subsets and a VirtualService with a header route and a 90/10 weighted split.
 */

export const ENDPOINTS_PER_SERVICE = 10;
export const ZONES = ['us-east/us-east-1a', 'us-east/us-east-1b', 'us-east/us-east-1c'];

function serviceName(i: number): string {
  return `svc-${String(i).padStart(4, '0')}`;
}

function serviceFile(i: number): string {
  const name = serviceName(i);
  const docs = [
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${name}
spec:
  hosts: [${name}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
    - { number: 8080, name: http, protocol: HTTP }
  workloadSelector:
    labels: { app: ${name} }`,
  ];
  for (let j = 0; j < ENDPOINTS_PER_SERVICE; j++) {
    docs.push(`apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: ${name}-${j}
spec:
  address: 10.${i >> 8}.${i & 255}.${j + 1}
  ports: { http: 8080 }
  labels: { app: ${name}, version: v${(j % 2) + 1} }
  locality: ${ZONES[j % ZONES.length]}`);
  }
  docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${name}
spec:
  host: ${name}
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }`);
  docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
spec:
  hosts: [${name}]
  http:
    - match: [{ headers: { end-user: { exact: tester } } }]
      route: [{ destination: { host: ${name}, subset: v2 } }]
    - route:
        - { destination: { host: ${name}, subset: v1 }, weight: 90 }
        - { destination: { host: ${name}, subset: v2 }, weight: 10 }`);
  return `${docs.join('\n---\n')}\n`;
}

export function scaleConfigFiles(services: number): { name: string; text: string }[] {
  return Array.from({ length: services }, (_, i) => ({
    name: `${serviceName(i)}.yaml`,
    text: serviceFile(i),
  }));
}
