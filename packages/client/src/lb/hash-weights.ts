import type { Host } from './host.ts';

/** Hosts with weights normalized so that they sum to at most 1, as Envoy's thread-aware LBs. */
export interface NormalizedWeights {
  readonly hosts: readonly Host[];
  readonly weights: readonly number[];
  /** Smallest normalized weight (1 when empty, Envoy's starting value). */
  readonly min: number;
  /** Largest normalized weight (0 when empty). */
  readonly max: number;
}

/** A group of hosts sharing one share of the table (a locality, or the whole priority). */
export interface WeightedGroup {
  readonly hosts: readonly Host[];
  /** The group's share before normalization; groups with weight 0 are skipped. */
  readonly weight: number;
}

/**
 * Envoy's `normalizeWeights` (thread_aware_lb_impl.cc): each host gets
 * `host.weight / sum(weights in its group) * group.weight / sum(group weights)`. Without
 * locality weighting there is one group of weight 1. Envoy uses the raw locality weights here,
 * not the availability-adjusted ones (a TODO in that file), and so do we.
 */
export function normalizeWeights(groups: readonly WeightedGroup[]): NormalizedWeights {
  let groupSum = 0;
  for (const g of groups) groupSum += g.weight;
  const hosts: Host[] = [];
  const weights: number[] = [];
  let min = 1;
  let max = 0;
  if (groupSum > 0) {
    for (const g of groups) {
      if (g.weight === 0) continue;
      const share = g.weight / groupSum;
      let hostSum = 0;
      for (const h of g.hosts) hostSum += h.weight;
      for (const h of g.hosts) {
        const w = (h.weight * share) / hostSum;
        hosts.push(h);
        weights.push(w);
        if (w < min) min = w;
        if (w > max) max = w;
      }
    }
  }
  return { hosts, weights, min, max };
}

/** {@link normalizeWeights} for a flat host list. */
export function normalizeHostWeights(hosts: readonly Host[]): NormalizedWeights {
  return normalizeWeights([{ hosts, weight: 1 }]);
}
