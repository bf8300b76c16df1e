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
