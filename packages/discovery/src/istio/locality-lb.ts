/**
 * Istio's locality load balancing, applied to a cluster's endpoint groups before they become a
 * ClusterLoadAssignment (istiod: networking/core/loadbalancer). Only one of `distribute` and
 * failover applies; failover needs outlier detection, otherwise Envoy would never leave
 * priority 0, so istiod does not apply it without.
 */
import type { Locality } from '../workload.ts';
import type { IstioLocalityLbSetting } from './destination-rule-schema.ts';
import type { ServiceInstance } from './service-registry.ts';

export interface GroupEndpoint {
  readonly instance: ServiceInstance;
  readonly port: number;
  readonly weight: number;
}

/** A LocalityLbEndpoints in the making. */
export interface EndpointGroup {
  locality: Locality;
  priority: number;
  /** Locality weight; Istio sends the sum of the endpoint weights. */
  weight: number;
  endpoints: GroupEndpoint[];
}

/** Kubernetes/Istio topology labels every endpoint and proxy carries (Istio AugmentLabels). */
export const TOPOLOGY_LABELS = Object.freeze({
  network: 'topology.istio.io/network',
  region: 'topology.kubernetes.io/region',
  zone: 'topology.kubernetes.io/zone',
  subZone: 'topology.istio.io/subzone',
});

/** Labels plus the topology labels derived from locality and network. */
export function withTopologyLabels(
  labels: Readonly<Record<string, string>>,
  locality: Locality,
  network: string,
): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  if (network) out[TOPOLOGY_LABELS.network] ??= network;
  if (locality.region) out[TOPOLOGY_LABELS.region] ??= locality.region;
  if (locality.zone) out[TOPOLOGY_LABELS.zone] ??= locality.zone;
  if (locality.subZone) out[TOPOLOGY_LABELS.subZone] ??= locality.subZone;
  return out;
}

/** Istio LocalityMatch: `region/zone/subzone` with `*` and omitted parts as wildcards. */
export function localityMatches(locality: Locality, rule: string): boolean {
  const [region = '', zone = '', subZone = ''] = rule.split('/');
  return (
    (region === '*' || locality.region === region) &&
    (zone === '*' || zone === '' || locality.zone === zone) &&
    (subZone === '*' || subZone === '' || locality.subZone === subZone)
  );
}

/** Istio LbPriority: 0 same region/zone/subzone, 1 same region/zone, 2 same region, 3 none. */
export function localityPriority(proxy: Locality, endpoint: Locality): number {
  if (proxy.region !== endpoint.region) return 3;
  if (proxy.zone !== endpoint.zone) return 2;
  return proxy.subZone === endpoint.subZone ? 0 : 1;
}

/** Renumbers priorities to 0..N without gaps, keeping their order. */
function compactPriorities(groups: EndpointGroup[]): void {
  const used = [...new Set(groups.map((g) => g.priority))].sort((a, b) => a - b);
  for (const g of groups) g.priority = used.indexOf(g.priority);
}

function applyLocalityWeights(
  proxy: Locality,
  groups: EndpointGroup[],
  distribute: NonNullable<IstioLocalityLbSetting['distribute']>,
): EndpointGroup[] {
  const rule = distribute.find((d) => localityMatches(proxy, d.from));
  if (!rule) return groups;
  const unmatched = new Set(groups.map((_, i) => i));
  for (const [to, weight] of Object.entries(rule.to)) {
    const matched = new Map<number, number>();
    let total = 0;
    groups.forEach((g, i) => {
      if (unmatched.has(i) && localityMatches(g.locality, to)) {
        unmatched.delete(i);
        matched.set(i, g.weight || 1);
        total += g.weight || 1;
      }
    });
    // A wildcard `to` covering several localities splits its weight by their own weights.
    for (const [i, original] of matched) {
      const w = (original * weight) / total;
      if (w > 0) groups[i]!.weight = Math.ceil(w);
    }
  }
  // Localities the rule does not send traffic to lose their endpoints.
  return groups.filter((_, i) => !unmatched.has(i));
}

function applyLocalityFailover(
  proxy: Locality,
  groups: EndpointGroup[],
  failover: NonNullable<IstioLocalityLbSetting['failover']>,
): void {
  for (const g of groups) {
    let priority = localityPriority(proxy, g.locality);
    if (priority === 3) {
      const rule = failover.find((f) => f.from === proxy.region);
      if (rule && g.locality.region !== rule.to) priority = 4;
    }
    // Up to five locality priorities (0-4) nest inside each failoverPriority level.
    g.priority = g.priority * 5 + priority;
  }
  compactPriorities(groups);
}

function applyFailoverPriorities(
  groups: EndpointGroup[],
  proxyLabels: Readonly<Record<string, string>>,
  failoverPriority: readonly string[],
): EndpointGroup[] {
  const names: string[] = [];
  const overrides = new Map<string, string>();
  for (const entry of failoverPriority) {
    const [name = '', value] = entry.split('=');
    names.push(name);
    if (value !== undefined) overrides.set(name, value);
  }
  const lowest = names.length;
  const out: EndpointGroup[] = [];
  for (const g of groups) {
    const byPriority = new Map<number, GroupEndpoint[]>();
    for (const ep of g.endpoints) {
      const labels = withTopologyLabels(ep.instance.labels, ep.instance.locality, ep.instance.network);
      let priority = 0;
      for (let j = 0; j < names.length; j++) {
        const name = names[j]!;
        const want = overrides.get(name) ?? proxyLabels[name];
        if (want !== labels[name]) {
          // The first label that differs decides: a mismatch on an earlier label ranks lower.
          priority = lowest - j;
          break;
        }
      }
      const list = byPriority.get(priority);
      if (list) list.push(ep);
      else byPriority.set(priority, [ep]);
    }
    for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
      const endpoints = byPriority.get(priority)!;
      out.push({
        locality: g.locality,
        priority,
        weight: endpoints.reduce((s, e) => s + e.weight, 0),
        endpoints,
      });
    }
  }
  compactPriorities(out);
  return out;
}

/**
 * Applies a locality LB setting (already resolved against the mesh default and `enabled`) to
 * endpoint groups. Returns the groups to publish.
 */
export function applyLocalityLoadBalancer(
  groups: EndpointGroup[],
  proxy: { locality: Locality; labels: Readonly<Record<string, string>> },
  setting: IstioLocalityLbSetting | undefined,
  enableFailover: boolean,
): EndpointGroup[] {
  if (!setting) return groups;
  if (setting.distribute) return applyLocalityWeights(proxy.locality, groups, setting.distribute);
  if (!enableFailover) return groups;
  if (setting.failoverPriority && setting.failoverPriority.length > 0) {
    let out = groups;
    if (Object.keys(proxy.labels).length > 0)
      out = applyFailoverPriorities(groups, proxy.labels, setting.failoverPriority);
    if (setting.failover && setting.failover.length > 0)
      applyLocalityFailover(proxy.locality, out, setting.failover);
    return out;
  }
  applyLocalityFailover(proxy.locality, groups, setting.failover ?? []);
  return groups;
}

/** Istio GetLocalityLbSetting: a rule's setting wins unless it disables; else the mesh's. */
export function resolveLocalitySetting(
  mesh: IstioLocalityLbSetting | undefined,
  rule: IstioLocalityLbSetting | undefined,
): IstioLocalityLbSetting | undefined {
  if (rule) return rule.enabled === false ? undefined : rule;
  if (mesh?.enabled === false) return undefined;
  return mesh;
}
