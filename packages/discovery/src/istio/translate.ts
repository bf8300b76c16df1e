/**
 * Istio resources -> the xDS resources istiod would send this workload's sidecar. A pure
 * function of (resources, workload, mesh config): no I/O, no clock, so it can be tested against
 * what istiod generates.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type Cluster,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
} from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import type { RouteActionSchema } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { ConfigIssue } from '../errors.ts';
import type { XdsResourceLists } from '../snapshot.ts';
import { runSteps, type Steps } from '../steps.ts';
import type { Workload } from '../workload.ts';
import { hostMatches, outboundClusterName, resolveShortName } from './host-names.ts';
import {
  formatPath,
  type IstioResourceSet,
  type ServiceEntry,
  type VirtualService,
} from './istio-resource.ts';
import {
  BLACKHOLE_CLUSTER,
  MESH_CONFIG_DEFAULTS,
  type MeshConfig,
  PASSTHROUGH_CLUSTER,
} from './mesh-config.ts';
import { durationFromMs } from './proto-values.ts';
import { buildServiceRegistrySteps, HTTP_PROTOCOLS, type Service } from './service-registry.ts';
import {
  type EffectivePolicy,
  indexDestinationRules,
  selectIndexedDestinationRule,
} from './traffic-policy.ts';
import { createEndpointCache, type TranslatedCluster, translateCluster } from './translate-clusters.ts';
import { translateListener } from './translate-listeners.ts';
import { type ClusterResolver, translateRoutesSteps } from './translate-routes.ts';
import { TRANSPORT_SOCKET_MATCH_KEY } from './translate-tls.ts';
import { unappliedDestinationRuleFields, unappliedVirtualServiceFields } from './unapplied-fields.ts';
import { validateRegexes } from './validate-regexes.ts';

type HashPolicyInit = NonNullable<MessageInitShape<typeof RouteActionSchema>['hashPolicy']>;

export interface TranslateResult {
  readonly resources: XdsResourceLists;
  /** Problems that make the configuration unacceptable. */
  readonly issues: readonly ConfigIssue[];
  /** Things accepted but ignored or overridden, worth telling the user. */
  readonly notices: readonly ConfigIssue[];
}

function appliesToSidecars(vs: VirtualService): boolean {
  const gateways = vs.spec.gateways;
  return !gateways || gateways.length === 0 || gateways.includes('mesh');
}

function hashPolicyOf(policy: EffectivePolicy): HashPolicyInit {
  const h = policy.loadBalancer?.consistentHash;
  if (!h) return [];
  if (h.httpHeaderName)
    return [{ policySpecifier: { case: 'header', value: { headerName: h.httpHeaderName } } }];
  if (h.httpCookie) {
    const c = h.httpCookie;
    return [
      {
        policySpecifier: {
          case: 'cookie',
          value: {
            name: c.name,
            path: c.path ?? '',
            ...(c.ttl !== undefined ? { ttl: durationFromMs(c.ttl) } : {}),
          },
        },
      },
    ];
  }
  if (h.useSourceIp)
    return [{ policySpecifier: { case: 'connectionProperties', value: { sourceIp: true } } }];
  if (h.httpQueryParameterName)
    return [{ policySpecifier: { case: 'queryParameter', value: { name: h.httpQueryParameterName } } }];
  return [];
}

/** The clusters every sidecar has that are not services. */
function builtinClusters(mesh: MeshConfig): Cluster[] {
  return [
    create(ClusterSchema, {
      name: PASSTHROUGH_CLUSTER,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
      lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
      connectTimeout: durationFromMs(mesh.connectTimeoutMs),
    }),
    create(ClusterSchema, {
      name: BLACKHOLE_CLUSTER,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
      connectTimeout: durationFromMs(mesh.connectTimeoutMs),
    }),
  ];
}

/** Translates a resource set for one workload. */
export function translateIstio(
  set: IstioResourceSet,
  workload: Workload,
  mesh: MeshConfig = MESH_CONFIG_DEFAULTS,
): TranslateResult {
  return runSteps(translateIstioSteps(set, workload, mesh));
}

/**
 * {@link translateIstio} as steps: it pauses after each service and each route configuration,
 * so a caller can run it in slices (istioFiles does) without changing the result.
 */
export function* translateIstioSteps(
  set: IstioResourceSet,
  workload: Workload,
  mesh: MeshConfig = MESH_CONFIG_DEFAULTS,
): Steps<TranslateResult> {
  const { services, issues } = yield* buildServiceRegistrySteps(set, workload.trustDomain);
  const notices: ConfigIssue[] = [];
  const domain = workload.clusterDomain;

  for (const vs of set.virtualServices) {
    issues.push(...validateRegexes(vs));
    notices.push(...unappliedVirtualServiceFields(vs));
    yield;
  }
  for (const rule of set.destinationRules) notices.push(...unappliedDestinationRuleFields(rule));

  // Bind VirtualServices to services: an exact host wins over a wildcard; the first read wins ties.
  const boundVs = new Map<string, VirtualService>();
  const wildcardVs: { pattern: string; vs: VirtualService }[] = [];
  for (const vs of set.virtualServices) {
    yield;
    if (!appliesToSidecars(vs)) continue;
    vs.spec.hosts.forEach((raw, i) => {
      const host = resolveShortName(raw, vs.namespace, domain);
      const ref = { kind: vs.kind, namespace: vs.namespace, name: vs.name };
      const path = ['spec', 'hosts', i];
      if (host.includes('*')) {
        wildcardVs.push({ pattern: host, vs });
        return;
      }
      if (!services.has(host)) {
        notices.push({
          source: vs.origin.source,
          line: vs.origin.locate(path),
          resource: ref,
          path: formatPath(path),
          message: `no ServiceEntry declares host "${host}"; this host is not routed`,
        });
        return;
      }
      const prior = boundVs.get(host);
      if (prior) {
        notices.push({
          source: vs.origin.source,
          line: vs.origin.locate(path),
          resource: ref,
          path: formatPath(path),
          message: `host "${host}" is already bound to VirtualService ${prior.namespace}/${prior.name}; this one is ignored for it, as istiod ignores all but the first`,
        });
        return;
      }
      boundVs.set(host, vs);
    });
  }
  const virtualServiceFor = (hostname: string): VirtualService | undefined =>
    boundVs.get(hostname) ?? wildcardVs.find((w) => hostMatches(w.pattern, hostname))?.vs;

  // Clusters for every service port and subset.
  const clusters: Cluster[] = builtinClusters(mesh);
  const endpoints: ClusterLoadAssignment[] = [];
  const hashPolicies = new Map<string, HashPolicyInit>();
  const subsetsByHost = new Map<string, { rule: string; names: string[] }>();
  // Each rule's host is resolved once here, not once per service.
  const ruleIndex = indexDestinationRules(set.destinationRules, domain);
  // A workload instance's endpoint is the same message in every cluster it appears in.
  const endpointCache = createEndpointCache();
  const autoMtlsWarned = new Set<ServiceEntry>();
  for (const service of services.values()) {
    yield;
    const rule = selectIndexedDestinationRule(
      ruleIndex,
      service.hostname,
      workload.namespace,
      service.namespace,
    );
    const subsets = rule?.spec.subsets ?? [];
    if (rule)
      subsetsByHost.set(service.hostname, {
        rule: `${rule.namespace}/${rule.name}`,
        names: subsets.map((s) => s.name),
      });
    for (const port of service.ports) {
      for (const subset of [undefined, ...subsets]) {
        const translated = translateCluster({
          service,
          port,
          subset: subset?.name ?? '',
          subsetLabels: subset ? (subset.labels ?? {}) : undefined,
          rule,
          workload,
          mesh,
          endpointCache,
        });
        clusters.push(translated.cluster);
        if (translated.assignment) endpoints.push(translated.assignment);
        hashPolicies.set(translated.cluster.name, hashPolicyOf(translated.policy));
        if (!autoMtlsWarned.has(service.entry) && reachesIstioMtlsEndpoints(translated)) {
          autoMtlsWarned.add(service.entry);
          notices.push(autoMtlsWarning(service));
        }
      }
    }
  }
  for (const { host, rule } of ruleIndex.hosts) {
    if (!host.includes('*') && !services.has(host)) {
      notices.push({
        source: rule.origin.source,
        line: rule.origin.locate(['spec', 'host']),
        resource: { kind: rule.kind, namespace: rule.namespace, name: rule.name },
        path: 'spec.host',
        message: `no ServiceEntry declares host "${host}"; this rule applies to nothing`,
      });
    }
  }

  const resolveCluster: ClusterResolver = (host, port, subset, listenerPort) => {
    const service = services.get(host);
    if (!service) return { error: `unknown host "${host}": no ServiceEntry declares it` };
    let number = port;
    if (number === undefined) {
      if (service.ports.length === 1) number = service.ports[0]!.number;
      else if (service.ports.some((p) => p.number === listenerPort)) number = listenerPort;
      else return { error: `service "${host}" has several ports; destination.port is required` };
    }
    if (!service.ports.some((p) => p.number === number)) {
      return {
        error: `service "${host}" has no port ${number} (ports: ${service.ports.map((p) => p.number).join(', ')})`,
      };
    }
    if (subset !== undefined) {
      const known = subsetsByHost.get(host);
      if (!known)
        return { error: `unknown subset "${subset}": no DestinationRule defines subsets for "${host}"` };
      if (!known.names.includes(subset)) {
        return {
          error: `unknown subset "${subset}": DestinationRule ${known.rule} defines ${known.names.map((n) => `"${n}"`).join(', ') || 'none'}`,
        };
      }
    }
    return { cluster: outboundClusterName(number, subset ?? '', host) };
  };

  // One route configuration and listener per port number.
  const portsInUse = new Map<number, Service[]>();
  for (const service of services.values()) {
    for (const port of service.ports) {
      const list = portsInUse.get(port.number);
      if (list) list.push(service);
      else portsInUse.set(port.number, [service]);
    }
  }
  const routes = [];
  const listeners = [];
  for (const [port, portServices] of [...portsInUse].sort((a, b) => a[0] - b[0])) {
    routes.push(
      yield* translateRoutesSteps({
        port,
        services: portServices,
        // VirtualService http routes apply to HTTP ports only, as in Istio.
        virtualServiceFor: (hostname) => {
          const svc = services.get(hostname);
          const proto = svc?.ports.find((p) => p.number === port)?.protocol ?? 'TCP';
          return HTTP_PROTOCOLS.has(proto) ? virtualServiceFor(hostname) : undefined;
        },
        resolveCluster,
        hashPolicyFor: (cluster) => hashPolicies.get(cluster),
        workload,
        mesh,
        issues,
      }),
    );
    listeners.push(translateListener(port, mesh.pathNormalization));
  }

  return { resources: { listeners, routes, clusters, endpoints }, issues, notices };
}

/** Auto mTLS chose Istio mTLS for some endpoint of the cluster (transport socket matches). */
function reachesIstioMtlsEndpoints(translated: TranslatedCluster): boolean {
  if (translated.cluster.transportSocketMatches.length === 0) return false;
  const assignment = translated.assignment ?? translated.cluster.loadAssignment;
  return (assignment?.endpoints ?? []).some((group) =>
    group.lbEndpoints.some((e) => e.metadata?.filterMetadata[TRANSPORT_SOCKET_MATCH_KEY] !== undefined),
  );
}

function autoMtlsWarning(service: Service): ConfigIssue {
  const se = service.entry;
  return {
    source: se.origin.source,
    line: se.origin.line,
    resource: { kind: se.kind, namespace: se.namespace, name: se.name },
    path: 'spec',
    message:
      'auto mTLS: workloads of this service with a sidecar (label security.istio.io/tlsMode: istio, or a serviceAccount) are reached over Istio mTLS, which needs a mesh identity this version of Dabba does not have yet: requests to them are refused (DABBA_MTLS_UNAVAILABLE), never sent in clear. A DestinationRule with tls mode DISABLE opts out, as in Istio',
    severity: 'warning',
  };
}
