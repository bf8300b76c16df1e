import { EdfScheduler } from './edf-scheduler.ts';
import { hashWords, randomHash64, splitHash64 } from './hash.ts';
import { type NormalizedWeights, normalizeHostWeights, normalizeWeights } from './hash-weights.ts';
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
    case 'RANDOM':
      return new SchedulingBalancer(config, plan, random, seed, false);
    case 'LEAST_REQUEST':
      // Pickers are built on first use, but a bad choice count must still fail here, where
      // the compiler reports it as a config error.
      createPicker(config, NO_HOSTS, seed, random);
      return new SchedulingBalancer(config, plan, random, seed, anyInFlight(plan));
    case 'RING_HASH':
      return new HashingBalancer(
        plan,
        random,
        validated(
          (weights: NormalizedWeights) => createRingHashPickerFromWeights(weights, { ...config, random }),
          NO_WEIGHTS,
        ),
      );
    case 'MAGLEV':
      return new HashingBalancer(
        plan,
        random,
        validated(
          (weights: NormalizedWeights) => createMaglevPickerFromWeights(weights, { ...config, random }),
          NO_WEIGHTS,
        ),
      );
  }
}

const NO_WEIGHTS: NormalizedWeights = Object.freeze({ hosts: [], weights: [], min: 1, max: 0 });

/**
 * Tables are built on first use (see HashingBalancer), but a bad setting (ring sizes, Maglev
 * table size) must still fail when the balancer is created, where the compiler reports it as a
 * config error: build one table over no hosts now and drop it.
 */
function validated<T, P>(make: (input: T) => P, empty: T): (input: T) => P {
  make(empty);
  return make;
}

const NO_HOSTS: readonly Host[] = Object.freeze([]);

type SchedulingPolicy = Extract<LbPolicy, { type: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' }>;

function createPicker(
  policy: SchedulingPolicy,
  hosts: readonly Host[],
  seed: number,
  random: RandomSource,
): SourcePicker {
  switch (policy.type) {
    case 'ROUND_ROBIN':
      return createRoundRobinPicker(hosts, { seed, random });
    case 'LEAST_REQUEST':
      return createLeastRequestPicker(hosts, { ...leastRequestSettings(policy), seed, random });
    case 'RANDOM':
      return createRandomPicker(hosts, { random });
  }
}

function anyInFlight(plan: LbPlan): boolean {
  for (const p of plan.priorities) for (const h of p.hosts) if (h.activeRequests !== 0) return true;
  return false;
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

/**
 * Per-priority pickers for every host source Envoy defines (HostsSource::SourceType), each
 * built on the first pick that needs it. Most clusters of a big mesh are never called, and
 * most called ones use one source, so building them eagerly would cost memory and compile
 * time for nothing. Building later gives the same picks: a picker's state depends only on
 * its host list (fixed in the plan), the host weights (immutable) and the balancer's seed,
 * never on when it is built (weighted least request is the exception, handled by
 * SchedulingBalancer).
 */
class PrioritySources {
  readonly panic: boolean;
  private readonly plan: PriorityPlan;
  private readonly localityWeighted: boolean;
  private readonly seed: number;
  private readonly owner: SchedulingBalancer;
  private allPicker: SourcePicker | undefined;
  private healthyPicker: SourcePicker | undefined;
  private degradedPicker: SourcePicker | undefined;
  private localityHealthy: (SourcePicker | undefined)[] | undefined;
  private localityDegraded: (SourcePicker | undefined)[] | undefined;
  // undefined: not built yet; null: built, and Envoy has no scheduler for it.
  private healthyLocalities: LocalityWrr | null | undefined;
  private degradedLocalities: LocalityWrr | null | undefined;

  constructor(plan: PriorityPlan, localityWeighted: boolean, seed: number, owner: SchedulingBalancer) {
    this.plan = plan;
    this.panic = plan.panic;
    this.localityWeighted = localityWeighted;
    this.seed = seed;
    this.owner = owner;
  }

  pickOnce(degraded: boolean, draw: number, random: RandomSource): Host | undefined {
    if (this.panic) return (this.allPicker ?? this.buildAll()).pickOnce(draw, random);
    if (this.localityWeighted) {
      const wrr = degraded
        ? (this.degradedLocalities ?? this.buildLocalities(true))
        : (this.healthyLocalities ?? this.buildLocalities(false));
      if (wrr !== null) {
        const locality = wrr.localityIndex[wrr.scheduler.pickAndAdd(wrr.weightOf)]!;
        const list = degraded ? this.localityDegraded : this.localityHealthy;
        return (list![locality] ?? this.buildLocality(degraded, locality)).pickOnce(draw, random);
      }
    }
    return degraded
      ? (this.degradedPicker ?? this.buildSource(true)).pickOnce(draw, random)
      : (this.healthyPicker ?? this.buildSource(false)).pickOnce(draw, random);
  }

  /** Builds every source now (see SchedulingBalancer for when that matters). */
  buildEverything(): void {
    this.buildAll();
    this.buildSource(false);
    this.buildSource(true);
    if (!this.localityWeighted) return;
    for (const degraded of [false, true]) {
      this.buildLocalities(degraded);
      for (let i = 0; i < this.plan.localities.length; i++) this.buildLocality(degraded, i);
    }
  }

  private buildAll(): SourcePicker {
    this.allPicker ??= this.owner.makePicker(this.plan.hosts);
    return this.allPicker;
  }

  private buildSource(degraded: boolean): SourcePicker {
    if (degraded) {
      this.degradedPicker ??= this.owner.makePicker(this.plan.degradedHosts);
      return this.degradedPicker;
    }
    this.healthyPicker ??= this.owner.makePicker(this.plan.healthyHosts);
    return this.healthyPicker;
  }

  private buildLocalities(degraded: boolean): LocalityWrr | null {
    const p = this.plan;
    if (degraded) {
      this.degradedLocalities ??=
        p.degradedHosts.length > 0
          ? (localityWrr(
              p.localities.map((l) => l.degradedEffectiveWeight),
              this.seed,
            ) ?? null)
          : null;
      this.localityDegraded ??= new Array<SourcePicker | undefined>(p.localities.length).fill(undefined);
      return this.degradedLocalities;
    }
    this.healthyLocalities ??=
      p.healthyHosts.length > 0
        ? (localityWrr(
            p.localities.map((l) => l.healthyEffectiveWeight),
            this.seed,
          ) ?? null)
        : null;
    this.localityHealthy ??= new Array<SourcePicker | undefined>(p.localities.length).fill(undefined);
    return this.healthyLocalities;
  }

  private buildLocality(degraded: boolean, index: number): SourcePicker {
    const list = (degraded ? this.localityDegraded : this.localityHealthy)!;
    const l = this.plan.localities[index]!;
    const picker = list[index] ?? this.owner.makePicker(degraded ? l.degradedHosts : l.healthyHosts);
    list[index] = picker;
    return picker;
  }
}

class SchedulingBalancer implements LoadBalancer, SourcePicker {
  readonly plan: LbPlan;
  private readonly policy: SchedulingPolicy;
  private readonly random: RandomSource;
  private readonly seed: number;
  private readonly buckets: readonly number[];
  private readonly uniform: number;
  private sources: (PrioritySources | undefined)[] | undefined;

  /**
   * @param eager build every picker now. Weighted least request reads the hosts' in-flight
   *   counts when its EDF is built (Envoy: when the host set is refreshed), so when some count
   *   is not 0 the schedule must be built now to match; with every count at 0 a later build is
   *   identical, since a request through this balancer always picks (and builds) first.
   */
  constructor(policy: SchedulingPolicy, plan: LbPlan, random: RandomSource, seed: number, eager: boolean) {
    this.plan = plan;
    this.policy = policy;
    this.random = random;
    this.seed = seed;
    this.buckets = plan.buckets;
    this.uniform = uniformCode(plan.buckets);
    if (eager) {
      for (let p = 0; p < plan.priorities.length; p++) this.sourcesOf(p).buildEverything();
    }
  }

  /** The policy's picker over one host list, with the balancer's seed and random source. */
  makePicker(hosts: readonly Host[]): SourcePicker {
    return createPicker(this.policy, hosts, this.seed, this.random);
  }

  pick(ctx?: PickContext): Host | undefined {
    const buckets = ctx?.priorityBuckets;
    if (buckets === undefined) return pickWithRetries(this, ctx, this.random);
    // A retry priority replaced the loads (retry path only): the same pick over its buckets.
    return pickWithRetries(
      { pick: () => undefined, pickOnce: (draw, random) => this.pickIn(buckets, draw, random) },
      ctx,
      this.random,
    );
  }

  pickOnce(draw: number, random: RandomSource): Host | undefined {
    const code = this.uniform >= 0 ? this.uniform : this.buckets[mod32(draw, 100)]!;
    const s = this.sources?.[code >> 1] ?? this.sourcesOf(code >> 1);
    return s.pickOnce((code & 1) === 1, draw, random);
  }

  private pickIn(buckets: readonly number[], draw: number, random: RandomSource): Host | undefined {
    const code = buckets[mod32(draw, 100)]!;
    return this.sourcesOf(code >> 1).pickOnce((code & 1) === 1, draw, random);
  }

  private sourcesOf(priority: number): PrioritySources {
    const plan = this.plan;
    this.sources ??= new Array<PrioritySources | undefined>(plan.priorities.length).fill(undefined);
    const s =
      this.sources[priority] ??
      new PrioritySources(plan.priorities[priority]!, plan.localityWeighted, this.seed, this);
    this.sources[priority] = s;
    return s;
  }
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
  private readonly make: (weights: NormalizedWeights) => HashPicker;
  // Built on the first pick of each priority: a ring or Maglev table is the largest structure
  // a balancer has, and depends only on the plan, so a later build gives the same table.
  private readonly tables: (HashPicker | undefined)[];
  private readonly buckets: readonly number[];
  private readonly uniform: number;

  constructor(plan: LbPlan, random: RandomSource, make: (weights: NormalizedWeights) => HashPicker) {
    this.plan = plan;
    this.random = random;
    this.make = make;
    this.buckets = plan.buckets;
    this.uniform = uniformCode(plan.buckets);
    this.tables = new Array<HashPicker | undefined>(plan.priorities.length).fill(undefined);
  }

  private buildTable(priority: number): HashPicker {
    const plan = this.plan;
    const p = plan.priorities[priority]!;
    const table = plan.localityWeighted
      ? this.make(
          normalizeWeights(
            p.localities.map((l) => ({ hosts: p.panic ? l.hosts : l.healthyHosts, weight: l.weight })),
          ),
        )
      : this.make(normalizeHostWeights(p.panic ? p.hosts : p.healthyHosts));
    this.tables[priority] = table;
    return table;
  }

  pick(ctx?: PickContext): Host | undefined {
    // Without a hash Envoy "just choose[s] a random value" (effectively RANDOM).
    if (ctx?.hash !== undefined) splitHash64(ctx.hash);
    else randomHash64(ctx?.random ?? this.random);
    const hi = hashWords[0]!;
    const lo = hashWords[1]!;
    // The same hash picks the priority, so one key sticks to one level while loads hold.
    const override = ctx?.priorityBuckets;
    const code =
      override !== undefined
        ? override[mod64With(hi, lo, PRIORITY_MODULUS)]!
        : this.uniform >= 0
          ? this.uniform
          : this.buckets[mod64With(hi, lo, PRIORITY_MODULUS)]!;
    const table = this.tables[code >> 1] ?? this.buildTable(code >> 1);
    const attempts = maxAttempts(ctx);
    let host: Host | undefined;
    for (let i = 0; i < attempts; i++) {
      host = table.pickHashed(hi, lo, i);
      if (host === undefined || ctx?.exclude === undefined || !ctx.exclude(host)) return host;
    }
    return host;
  }
}
