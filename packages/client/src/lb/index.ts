import { EdfScheduler } from './edf-scheduler.ts';
import { hashWords, randomHash64, splitHash64 } from './hash.ts';
import { normalizeHostWeights, normalizeWeights } from './hash-weights.ts';
import type { Host } from './host.ts';
import { createLeastRequestPicker } from './least-request.ts';
import { createMaglevPickerFromWeights } from './maglev.ts';
import { mod32, mod64With, modulus64 } from './modulo.ts';
import {
  type HashPicker,
  type HostPicker,
  maxAttempts,
  type PickContext,
  pickWithRetries,
  type SourcePicker,
} from './picker.ts';
import type { LbPlan, PriorityPlan } from './priority-load.ts';
import { createRandomPicker } from './random.ts';
import { type RandomSource, randomUint32 } from './random-source.ts';
import { createRingHashPickerFromWeights } from './ring-hash.ts';
import { createRoundRobinPicker } from './round-robin.ts';

export { initHash, isHashReady, xxHash64 } from './hash.ts';
export type { Host, HostHealth, Locality } from './host.ts';
export type { LeastRequestOptions } from './least-request.ts';
export { createLeastRequestPicker } from './least-request.ts';
export type { MaglevOptions } from './maglev.ts';
export { createMaglevPicker } from './maglev.ts';
export type { HashPicker, HostPicker, PickContext, SourcePicker } from './picker.ts';
export type {
  LbPlan,
  LbPlanOptions,
  LocalityHostsInput,
  LocalityPlan,
  PriorityInput,
  PriorityPlan,
} from './priority-load.ts';
export { buildLbPlan, choosePriority } from './priority-load.ts';
export type { RandomOptions } from './random.ts';
export { createRandomPicker } from './random.ts';
export type { RandomSource } from './random-source.ts';
export type { RingHashOptions } from './ring-hash.ts';
export { createRingHashPicker } from './ring-hash.ts';
export type { RoundRobinOptions } from './round-robin.ts';
export { createRoundRobinPicker } from './round-robin.ts';

/** A cluster's LB policy and its policy-specific settings (Cluster `lb_policy` + config). */
export type LbPolicy =
  | { readonly type: 'ROUND_ROBIN' }
  | { readonly type: 'LEAST_REQUEST'; readonly choiceCount?: number; readonly activeRequestBias?: number }
  | { readonly type: 'RANDOM' }
  | {
      readonly type: 'RING_HASH';
      readonly minimumRingSize?: number;
      readonly maximumRingSize?: number;
      readonly hashKey?: (host: Host) => string;
    }
  | { readonly type: 'MAGLEV'; readonly tableSize?: number; readonly hashKey?: (host: Host) => string };

/** Options of {@link createLoadBalancer}. */
export interface LoadBalancerOptions {
  /** Random source for picks whose context carries none. Default `Math.random`. */
  readonly random?: RandomSource;
  /** Seed for round-robin offsets and EDF pre-picks. Default: drawn from `random`. */
  readonly seed?: number;
}

/** A load balancer for one plan: rebuild it (cheaply) whenever the plan is rebuilt. */
export interface LoadBalancer extends HostPicker {
  readonly plan: LbPlan;
}

/**
 * Combines a plan with a policy the way Envoy does. ROUND_ROBIN, LEAST_REQUEST and RANDOM
 * (EdfLoadBalancerBase / ZoneAwareLoadBalancerBase): pick the priority from the loads, then
 * all hosts if that level is in panic, else a locality by EDF over effective locality weights
 * when locality-weighted LB is on, then a host by the policy within that host list. RING_HASH
 * and MAGLEV (ThreadAwareLoadBalancerBase): one table per priority over its healthy hosts (all
 * hosts in panic), locality weights folded into host weights; the priority comes from the
 * request hash. Requires {@link initHash} for the hashing policies.
 */
export function createLoadBalancer(
  policy: LbPolicy | LbPolicy['type'],
  plan: LbPlan,
  options: LoadBalancerOptions = {},
): LoadBalancer {
  const config: LbPolicy = typeof policy === 'string' ? ({ type: policy } as LbPolicy) : policy;
  const random = options.random ?? Math.random;
  const seed = options.seed ?? randomUint32(random);
  switch (config.type) {
    case 'ROUND_ROBIN':
      return new SchedulingBalancer(plan, random, seed, (hosts) =>
        createRoundRobinPicker(hosts, { seed, random }),
      );
    case 'LEAST_REQUEST':
      return new SchedulingBalancer(plan, random, seed, (hosts) =>
        createLeastRequestPicker(hosts, { ...leastRequestSettings(config), seed, random }),
      );
    case 'RANDOM':
      return new SchedulingBalancer(plan, random, seed, (hosts) => createRandomPicker(hosts, { random }));
    case 'RING_HASH':
      return new HashingBalancer(plan, random, (weights) =>
        createRingHashPickerFromWeights(weights, { ...config, random }),
      );
    case 'MAGLEV':
      return new HashingBalancer(plan, random, (weights) =>
        createMaglevPickerFromWeights(weights, { ...config, random }),
      );
  }
}

function leastRequestSettings(config: {
  readonly choiceCount?: number;
  readonly activeRequestBias?: number;
}): { choiceCount?: number; activeRequestBias?: number } {
  const out: { choiceCount?: number; activeRequestBias?: number } = {};
  if (config.choiceCount !== undefined) out.choiceCount = config.choiceCount;
  if (config.activeRequestBias !== undefined) out.activeRequestBias = config.activeRequestBias;
  return out;
}

/** Locality EDF of one priority and availability: which locality indices it schedules. */
interface LocalityWrr {
  readonly scheduler: EdfScheduler;
  readonly localityIndex: Int32Array;
  readonly weightOf: (entry: number) => number;
}

/** Per-priority pickers for every host source Envoy defines (HostsSource::SourceType). */
interface PrioritySources {
  readonly all: SourcePicker;
  readonly healthy: SourcePicker;
  readonly degraded: SourcePicker;
  readonly localityHealthy: readonly SourcePicker[];
  readonly localityDegraded: readonly SourcePicker[];
  readonly healthyLocalities: LocalityWrr | undefined;
  readonly degradedLocalities: LocalityWrr | undefined;
  readonly panic: boolean;
}

/**
 * The bucket code every draw maps to when all 100 buckets agree (one priority, nothing
 * degraded: the usual case), else -1. Lets a pick skip the `% 100` and the table read.
 */
function uniformCode(buckets: readonly number[]): number {
  const first = buckets[0] ?? 0;
  return buckets.every((c) => c === first) ? first : -1;
}

/** Priority buckets are chosen by `hash % 100` (Envoy's `choosePriority(hash % 100, ...)`). */
const PRIORITY_MODULUS = modulus64(100);

class SchedulingBalancer implements LoadBalancer, SourcePicker {
  readonly plan: LbPlan;
  private readonly random: RandomSource;
  private readonly sources: readonly PrioritySources[];
  private readonly buckets: readonly number[];
  private readonly uniform: number;

  constructor(
    plan: LbPlan,
    random: RandomSource,
    seed: number,
    make: (hosts: readonly Host[]) => SourcePicker,
  ) {
    this.plan = plan;
    this.random = random;
    this.buckets = plan.buckets;
    this.uniform = uniformCode(plan.buckets);
    this.sources = plan.priorities.map((p) => buildSources(p, plan.localityWeighted, seed, make));
  }

  pick(ctx?: PickContext): Host | undefined {
    return pickWithRetries(this, ctx, this.random);
  }

  pickOnce(draw: number, random: RandomSource): Host | undefined {
    const code = this.uniform >= 0 ? this.uniform : this.buckets[mod32(draw, 100)]!;
    const s = this.sources[code >> 1]!;
    if (s.panic) return s.all.pickOnce(draw, random);
    const degraded = (code & 1) === 1;
    const wrr = degraded ? s.degradedLocalities : s.healthyLocalities;
    if (wrr !== undefined) {
      const locality = wrr.localityIndex[wrr.scheduler.pickAndAdd(wrr.weightOf)]!;
      return (degraded ? s.localityDegraded : s.localityHealthy)[locality]!.pickOnce(draw, random);
    }
    return (degraded ? s.degraded : s.healthy).pickOnce(draw, random);
  }
}

function buildSources(
  p: PriorityPlan,
  localityWeighted: boolean,
  seed: number,
  make: (hosts: readonly Host[]) => SourcePicker,
): PrioritySources {
  return {
    all: make(p.hosts),
    healthy: make(p.healthyHosts),
    degraded: make(p.degradedHosts),
    localityHealthy: p.localities.map((l) => make(l.healthyHosts)),
    localityDegraded: p.localities.map((l) => make(l.degradedHosts)),
    healthyLocalities:
      localityWeighted && p.healthyHosts.length > 0
        ? localityWrr(
            p.localities.map((l) => l.healthyEffectiveWeight),
            seed,
          )
        : undefined,
    degradedLocalities:
      localityWeighted && p.degradedHosts.length > 0
        ? localityWrr(
            p.localities.map((l) => l.degradedEffectiveWeight),
            seed,
          )
        : undefined,
    panic: p.panic,
  };
}

/** Envoy builds no locality scheduler when every effective weight is 0. */
function localityWrr(effective: readonly number[], seed: number): LocalityWrr | undefined {
  const index: number[] = [];
  const weights: number[] = [];
  effective.forEach((w, i) => {
    if (w > 0) {
      index.push(i);
      weights.push(w);
    }
  });
  if (index.length === 0) return undefined;
  const weightOf = (entry: number): number => weights[entry]!;
  return {
    scheduler: new EdfScheduler(weights, seed, weightOf),
    localityIndex: Int32Array.from(index),
    weightOf,
  };
}

class HashingBalancer implements LoadBalancer {
  readonly plan: LbPlan;
  private readonly random: RandomSource;
  private readonly tables: readonly HashPicker[];
  private readonly buckets: readonly number[];
  private readonly uniform: number;

  constructor(
    plan: LbPlan,
    random: RandomSource,
    make: (weights: ReturnType<typeof normalizeWeights>) => HashPicker,
  ) {
    this.plan = plan;
    this.random = random;
    this.buckets = plan.buckets;
    this.uniform = uniformCode(plan.buckets);
    this.tables = plan.priorities.map((p) => {
      if (!plan.localityWeighted) return make(normalizeHostWeights(p.panic ? p.hosts : p.healthyHosts));
      return make(
        normalizeWeights(
          p.localities.map((l) => ({ hosts: p.panic ? l.hosts : l.healthyHosts, weight: l.weight })),
        ),
      );
    });
  }

  pick(ctx?: PickContext): Host | undefined {
    // Without a hash Envoy "just choose[s] a random value" (effectively RANDOM).
    if (ctx?.hash !== undefined) splitHash64(ctx.hash);
    else randomHash64(ctx?.random ?? this.random);
    const hi = hashWords[0]!;
    const lo = hashWords[1]!;
    // The same hash picks the priority, so one key sticks to one level while loads hold.
    const code = this.uniform >= 0 ? this.uniform : this.buckets[mod64With(hi, lo, PRIORITY_MODULUS)]!;
    const table = this.tables[code >> 1]!;
    const attempts = maxAttempts(ctx);
    let host: Host | undefined;
    for (let i = 0; i < attempts; i++) {
      host = table.pickHashed(hi, lo, i);
      if (host === undefined || ctx?.exclude === undefined || !ctx.exclude(host)) return host;
    }
    return host;
  }
}
