/**
 * Chooses the DestinationRule for a service and merges its traffic policy for one port and
 * subset, as istiod does: subset settings override the rule's top-level settings, and port-level
 * settings override the level they sit in, field by field (loadBalancer, connectionPool,
 * outlierDetection, tls).
 */
import type { IstioTrafficPolicy } from './destination-rule-schema.ts';
import { hostMatches, resolveShortName } from './host-names.ts';
import type { DestinationRule } from './istio-resource.ts';

/** The effective policy of one cluster; each part absent when no rule sets it. */
export type EffectivePolicy = Pick<
  IstioTrafficPolicy,
  'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'tls' | 'retryBudget'
>;

function overlay(base: EffectivePolicy, top: IstioTrafficPolicy | undefined, port: number): EffectivePolicy {
  if (!top) return base;
  const merged: EffectivePolicy = { ...base };
  for (const key of ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls', 'retryBudget'] as const) {
    if (top[key] !== undefined) Object.assign(merged, { [key]: top[key] });
  }
  const portLevel = top.portLevelSettings?.find((p) => p.port.number === port);
  if (portLevel) {
    for (const key of ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const) {
      if (portLevel[key] !== undefined) Object.assign(merged, { [key]: portLevel[key] });
    }
  }
  return merged;
}

/** The policy for `outbound|port|subset|host` given the rule that applies (if any). */
export function effectivePolicy(
  rule: DestinationRule | undefined,
  port: number,
  subset: string,
): EffectivePolicy {
  if (!rule) return {};
  const base = overlay({}, rule.spec.trafficPolicy, port);
  if (!subset) return base;
  const s = rule.spec.subsets?.find((x) => x.name === subset);
  return overlay(base, s?.trafficPolicy, port);
}

/** Istio's default root namespace (MeshConfig rootNamespace): its rules apply mesh-wide. */
export const ROOT_NAMESPACE = 'istio-system';

/**
 * Picks the DestinationRule for `hostname` seen from a workload in `proxyNamespace`, as istiod's
 * PushContext.destinationRule does: the rules of the proxy's namespace first, then those of the
 * service's namespace, then those of the root namespace (`istio-system`); rules in any other
 * namespace do not apply. Within a namespace the most specific host wins (exact before the
 * longest wildcard), then the first read.
 */
export function selectDestinationRule(
  rules: readonly DestinationRule[],
  hostname: string,
  proxyNamespace: string,
  serviceNamespace: string,
  clusterDomain: string,
): DestinationRule | undefined {
  for (const namespace of [proxyNamespace, serviceNamespace, ROOT_NAMESPACE]) {
    let best: DestinationRule | undefined;
    let bestScore = -1;
    for (const rule of rules) {
      if (rule.namespace !== namespace) continue;
      if (rule.spec.workloadSelector) continue; // rules with a selector apply to inbound/sidecar-local config
      const host = resolveShortName(rule.spec.host, rule.namespace, clusterDomain);
      if (!hostMatches(host, hostname)) continue;
      const score = host === hostname ? Number.MAX_SAFE_INTEGER : host.length;
      if (score > bestScore) {
        best = rule;
        bestScore = score;
      }
    }
    if (best) return best;
  }
  return undefined;
}

/** DestinationRules with their hosts resolved once, for {@link selectIndexedDestinationRule}. */
export interface DestinationRuleIndex {
  /** Per namespace: the first rule for each exact host, and the wildcard rules in read order. */
  readonly byNamespace: ReadonlyMap<
    string,
    {
      readonly exact: ReadonlyMap<string, DestinationRule>;
      readonly wildcards: readonly { readonly host: string; readonly rule: DestinationRule }[];
    }
  >;
  /** Every rule's resolved host, in read order. */
  readonly hosts: readonly { readonly host: string; readonly rule: DestinationRule }[];
}

/** Resolves every rule's host once, so choosing a service's rule does not scan all rules. */
export function indexDestinationRules(
  rules: readonly DestinationRule[],
  clusterDomain: string,
): DestinationRuleIndex {
  const byNamespace = new Map<
    string,
    { exact: Map<string, DestinationRule>; wildcards: { host: string; rule: DestinationRule }[] }
  >();
  const hosts: { host: string; rule: DestinationRule }[] = [];
  for (const rule of rules) {
    const host = resolveShortName(rule.spec.host, rule.namespace, clusterDomain);
    hosts.push({ host, rule });
    if (rule.spec.workloadSelector) continue; // as in selectDestinationRule
    let ns = byNamespace.get(rule.namespace);
    if (!ns) {
      ns = { exact: new Map(), wildcards: [] };
      byNamespace.set(rule.namespace, ns);
    }
    if (host.includes('*')) ns.wildcards.push({ host, rule });
    else if (!ns.exact.has(host)) ns.exact.set(host, rule);
  }
  return { byNamespace, hosts };
}

/** {@link selectDestinationRule} over an index: the same choice, without scanning every rule. */
export function selectIndexedDestinationRule(
  index: DestinationRuleIndex,
  hostname: string,
  proxyNamespace: string,
  serviceNamespace: string,
): DestinationRule | undefined {
  for (const namespace of [proxyNamespace, serviceNamespace, ROOT_NAMESPACE]) {
    const ns = index.byNamespace.get(namespace);
    if (!ns) continue;
    // An exact host always outranks a wildcard; among wildcards the longest, then the first read.
    const exact = ns.exact.get(hostname);
    if (exact) return exact;
    let best: DestinationRule | undefined;
    let bestLength = -1;
    for (const w of ns.wildcards) {
      if (w.host.length > bestLength && hostMatches(w.host, hostname)) {
        best = w.rule;
        bestLength = w.host.length;
      }
    }
    if (best) return best;
  }
  return undefined;
}
