/**
 * The services and endpoints Istio would know from ServiceEntry and WorkloadEntry resources.
 * Pure: resources in, services out, with issues for what cannot be used.
 */
import { isIP } from 'node:net';
import type { ConfigIssue } from '../errors.ts';
import { runSteps, type Steps } from '../steps.ts';
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
  /**
   * Whether the workload speaks Istio mTLS (`istio`) or not (`disabled`): its
   * `security.istio.io/tlsMode` label, else `istio` when it names a service account, as istiod
   * reads a WorkloadEntry (serviceentry/conversion.go getTLSModeFromWorkloadEntry).
   */
  readonly tlsMode: string;
  /** Its SPIFFE identity when it names a service account (istiod's endpoint service account). */
  readonly identity: string | undefined;
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

/** The label that says whether a workload has a sidecar speaking Istio mTLS. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

function instanceFromWorkload(
  spec: WorkloadEntry['spec'],
  namespace: string,
  origin: string,
  trustDomain: string,
): Omit<ServiceInstance, 'address'> & { address: string | undefined } {
  const named = spec.serviceAccount !== undefined && spec.serviceAccount !== '';
  return {
    tlsMode: spec.labels?.[TLS_MODE_LABEL] ?? (named ? 'istio' : 'disabled'),
    identity: named ? `spiffe://${trustDomain}/ns/${namespace}/sa/${spec.serviceAccount}` : undefined,
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
  // for...in, not Object.entries: this runs for every candidate workload, and allocates nothing.
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

/**
 * WorkloadEntries indexed for selectors: by namespace, and by namespace plus one label pair, so
 * a ServiceEntry's workloadSelector checks only the entries that carry one of its labels
 * instead of every entry in the mesh. Lists keep the order the entries were read in.
 */
interface WorkloadIndex {
  readonly byNamespace: Map<string, WorkloadEntry[]>;
  readonly byLabel: Map<string, WorkloadEntry[]>;
}

const labelKey = (namespace: string, key: string, value: string) => `${namespace}\0${key}\0${value}`;

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function* indexWorkloads(entries: readonly WorkloadEntry[]): Steps<WorkloadIndex> {
  const byNamespace = new Map<string, WorkloadEntry[]>();
  const byLabel = new Map<string, WorkloadEntry[]>();
  for (let i = 0; i < entries.length; i++) {
    const we = entries[i]!;
    if (i % 256 === 255) yield;
    pushTo(byNamespace, we.namespace, we);
    const labels = we.spec.labels;
    if (labels) for (const k in labels) pushTo(byLabel, labelKey(we.namespace, k, labels[k]!), we);
  }
  return { byNamespace, byLabel };
}

/** Entries in `namespace` whose labels include `selector`, in the order they were read. */
function selectWorkloads(
  index: WorkloadIndex,
  namespace: string,
  selector: Readonly<Record<string, string>>,
): WorkloadEntry[] {
  // The smallest bucket among the selector's pairs bounds the work; an empty selector takes all.
  let candidates = index.byNamespace.get(namespace) ?? [];
  for (const k in selector) {
    const bucket = index.byLabel.get(labelKey(namespace, k, selector[k]!)) ?? [];
    if (bucket.length < candidates.length) candidates = bucket;
  }
  return candidates.filter((we) => selects(selector, we.spec.labels ?? {}));
}

/** Builds the service registry; services are keyed by host name. */
export function buildServiceRegistry(set: IstioResourceSet, trustDomain = 'cluster.local'): ServiceRegistry {
  return runSteps(buildServiceRegistrySteps(set, trustDomain));
}

export interface ServiceRegistry {
  services: Map<string, Service>;
  issues: ConfigIssue[];
}

/** {@link buildServiceRegistry} as steps: it pauses after each ServiceEntry. */
export function* buildServiceRegistrySteps(
  set: IstioResourceSet,
  trustDomain = 'cluster.local',
): Steps<ServiceRegistry> {
  const services = new Map<string, Service>();
  const issues: ConfigIssue[] = [];
  const workloads = yield* indexWorkloads(set.workloadEntries);
  // One instance per WorkloadEntry, shared by every ServiceEntry that selects it (and by every
  // cluster its endpoints appear in), so its labels are held once.
  const workloadInstances = new Map<WorkloadEntry, ServiceInstance | null>();
  for (const se of set.serviceEntries) {
    yield;
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
      const inst = instanceFromWorkload(ep, se.namespace, `ServiceEntry/${se.name}`, trustDomain);
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
      for (const we of selectWorkloads(workloads, se.namespace, selector)) {
        let shared = workloadInstances.get(we);
        if (shared === undefined) {
          const inst = instanceFromWorkload(we.spec, we.namespace, `WorkloadEntry/${we.name}`, trustDomain);
          shared = inst.address ? { ...inst, address: inst.address } : null;
          workloadInstances.set(we, shared);
        }
        if (shared) instances.push(shared);
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
