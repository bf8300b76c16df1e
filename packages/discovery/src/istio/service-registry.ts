/**
 * The services and endpoints Istio would know from ServiceEntry and WorkloadEntry resources.
 * Pure: resources in, services out, with issues for what cannot be used.
 */
import { isIP } from 'node:net';
import type { ConfigIssue } from '../errors.ts';
import { type Locality, parseLocality } from '../workload.ts';
import type { IstioResourceSet, ServiceEntry, WorkloadEntry } from './istio-resource.ts';
import { formatPath } from './istio-resource.ts';

export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';

export interface ServicePort {
  readonly number: number;
  readonly name: string;
  /** Upper-cased protocol (`HTTP`, `HTTP2`, `GRPC`, `TCP`, ...); Istio's default is TCP. */
  readonly protocol: string;
  readonly targetPort: number | undefined;
}

/** One workload instance behind a service (an inline ServiceEntry endpoint or a WorkloadEntry). */
export interface ServiceInstance {
  readonly address: string;
  /** Ports by service port name, from the WorkloadEntry `ports` map. */
  readonly ports: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly locality: Locality;
  readonly network: string;
  readonly weight: number;
  readonly serviceAccount: string;
  /** `kind/namespace/name` of the resource that declared it, for explain and errors. */
  readonly origin: string;
}

export interface Service {
  readonly hostname: string;
  readonly namespace: string;
  readonly ports: readonly ServicePort[];
  readonly resolution: Resolution;
  readonly location: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  readonly instances: readonly ServiceInstance[];
  /** The ServiceEntry that declared the service. */
  readonly entry: ServiceEntry;
}

/** HTTP-speaking protocols: a port with one of these gets an HTTP route configuration. */
export const HTTP_PROTOCOLS: ReadonlySet<string> = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);

function instanceFromWorkload(
  spec: WorkloadEntry['spec'],
  namespace: string,
  origin: string,
): Omit<ServiceInstance, 'address'> & { address: string | undefined } {
  return {
    address: spec.address,
    ports: spec.ports ?? {},
    labels: spec.labels ?? {},
    locality: parseLocality(spec.locality),
    network: spec.network ?? '',
    // Envoy requires endpoint weights >= 1; Istio sends 1 when the weight is unset or zero.
    weight: spec.weight && spec.weight > 0 ? spec.weight : 1,
    serviceAccount: spec.serviceAccount ?? 'default',
    origin: `${origin}/${namespace}`,
  };
}

function selects(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** Builds the service registry; services are keyed by host name. */
export function buildServiceRegistry(set: IstioResourceSet): {
  services: Map<string, Service>;
  issues: ConfigIssue[];
} {
  const services = new Map<string, Service>();
  const issues: ConfigIssue[] = [];
  for (const se of set.serviceEntries) {
    const { spec } = se;
    const resource = { kind: se.kind, namespace: se.namespace, name: se.name };
    const issue = (path: (string | number)[], message: string) =>
      issues.push({
        source: se.origin.source,
        line: se.origin.locate(path),
        resource,
        path: formatPath(path),
        message,
      });
    const resolution: Resolution = spec.resolution ?? 'NONE';
    const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
      number: p.number,
      name: p.name,
      protocol: (p.protocol ?? 'TCP').toUpperCase(),
      targetPort: p.targetPort,
    }));
    const instances: ServiceInstance[] = [];
    (spec.endpoints ?? []).forEach((ep, i) => {
      const inst = instanceFromWorkload(ep, se.namespace, `ServiceEntry/${se.name}`);
      if (!inst.address) {
        issue(['spec', 'endpoints', i, 'address'], 'an endpoint needs an address');
        return;
      }
      if (resolution === 'STATIC' && isIP(inst.address) === 0) {
        issue(
          ['spec', 'endpoints', i, 'address'],
          `"${inst.address}" must be an IP address with resolution STATIC`,
        );
        return;
      }
      instances.push({ ...inst, address: inst.address });
    });
    const selector = spec.workloadSelector?.labels;
    if (selector) {
      if (spec.endpoints?.length)
        issue(['spec', 'workloadSelector'], 'workloadSelector and endpoints are mutually exclusive');
      for (const we of set.workloadEntries) {
        if (we.namespace !== se.namespace || !selects(selector, we.spec.labels ?? {})) continue;
        const inst = instanceFromWorkload(we.spec, we.namespace, `WorkloadEntry/${we.name}`);
        if (!inst.address) continue;
        instances.push({ ...inst, address: inst.address });
      }
    }
    if (
      resolution === 'STATIC' &&
      !selector &&
      instances.length === 0 &&
      (spec.endpoints ?? []).length === 0
    ) {
      issue(['spec', 'endpoints'], 'resolution STATIC needs endpoints or a workloadSelector');
    }
    spec.hosts.forEach((rawHost, i) => {
      const hostname = rawHost.toLowerCase();
      if (hostname.includes('*')) {
        if (resolution !== 'NONE') issue(['spec', 'hosts', i], 'wildcard hosts need resolution NONE');
        return;
      }
      const existing = services.get(hostname);
      if (existing) {
        issue(
          ['spec', 'hosts', i],
          `host "${hostname}" is already declared by ServiceEntry ${existing.entry.namespace}/${existing.entry.name}`,
        );
        return;
      }
      services.set(hostname, {
        hostname,
        namespace: se.namespace,
        ports,
        resolution,
        location: spec.location ?? 'MESH_EXTERNAL',
        instances,
        entry: se,
      });
    });
  }
  return { services, issues };
}

/**
 * The port an instance serves a service port on: the WorkloadEntry's port of the same name,
 * else the service port's targetPort, else the service port number (Istio's rule).
 */
export function instancePort(instance: ServiceInstance, port: ServicePort): number {
  return instance.ports[port.name] ?? port.targetPort ?? port.number;
}

export { selects as labelsMatch };
