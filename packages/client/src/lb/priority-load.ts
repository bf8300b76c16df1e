import type { Host, HostHealth, Locality } from './host.ts';

/** The hosts of one locality within one priority (a ClusterLoadAssignment LocalityLbEndpoints). */
export interface LocalityHostsInput {
  readonly locality?: Locality;
  /**
   * LocalityLbEndpoints `load_balancing_weight`. When locality-weighted LB is on, a locality
   * without a weight counts as 0 (the unset UInt32Value reads as 0) and gets no traffic.
   */
  readonly weight?: number;
  readonly hosts: readonly Host[];
}

/** One priority level: its localities. The array index of a priority in the input is its level. */
export type PriorityInput = readonly LocalityHostsInput[];

/** Public options of {@link buildLbPlan}; every field optional. */
export interface LbPlanOptions {
  /**
   * ClusterLoadAssignment.Policy `overprovisioning_factor`, in percent. Default 140 (1.4): a
   * level or locality counts as fully available while healthy share x 1.4 >= 100%.
   */
  readonly overprovisioningFactor?: number;
  /**
   * Cluster.CommonLbConfig `healthy_panic_threshold`, in percent. Default 50; 0 disables panic.
   * Istio sets it from DestinationRule `minHealthPercent` (default 0).
   */
  readonly panicThreshold?: number;
  /**
   * ClusterLoadAssignment.Policy `weighted_priority_health`: compute a level's health from host
   * weights instead of host counts. Default false.
   */
  readonly weightedPriorityHealth?: boolean;
  /**
   * Cluster.CommonLbConfig `locality_weighted_lb_config` present. Default: on when any input
   * locality carries a weight.
   */
  readonly localityWeightedLb?: boolean;
  /**
   * The health a host has for this plan: its configured `health` unless something at runtime
   * overrides it (an outlier ejection makes it unhealthy). Default: the configured health.
   */
  readonly healthOf?: (host: Host) => HostHealth;
}

/** Envoy's defaults for {@link LbPlanOptions}. */
export const DEFAULT_OVERPROVISIONING_FACTOR = 140;
export const DEFAULT_PANIC_THRESHOLD = 50;

/** One locality of one priority, with its availability-adjusted weights precomputed. */
export interface LocalityPlan {
  readonly locality: Locality | undefined;
  /** Configured locality weight (0 when absent). */
  readonly weight: number;
  readonly hosts: readonly Host[];
  readonly healthyHosts: readonly Host[];
  readonly degradedHosts: readonly Host[];
  /** `weight * min(1, overprovisioning * healthy / hosts)`: share of healthy-host picks. */
  readonly healthyEffectiveWeight: number;
  /** Same with degraded hosts: share of degraded-host picks. */
  readonly degradedEffectiveWeight: number;
}

/** One priority level as the load balancer sees it. */
export interface PriorityPlan {
  readonly priority: number;
  readonly hosts: readonly Host[];
  readonly healthyHosts: readonly Host[];
  readonly degradedHosts: readonly Host[];
  readonly localities: readonly LocalityPlan[];
  /** Integer health score 0..100: `min(100, factor * healthy / total)`. */
  readonly health: number;
  /** Same for degraded hosts. */
  readonly degradedHealth: number;
  /** Whether picks at this level ignore health (panic mode). */
  readonly panic: boolean;
}

/**
 * Everything about priorities and localities that does not change between requests, computed
 * once per host-set or health change. Immutable; a pick reads it in O(1).
 */
export interface LbPlan {
  readonly priorities: readonly PriorityPlan[];
  /** Percent of traffic to the healthy hosts of each level; with `degradedLoad` sums to 100. */
  readonly healthyLoad: readonly number[];
  /** Percent of traffic to the degraded hosts of each level. */
  readonly degradedLoad: readonly number[];
  /** `min(100, sum of health and degraded scores)`. */
  readonly normalizedTotalAvailability: number;
  /** Every level is in panic: load follows host counts. */
  readonly totalPanic: boolean;
  readonly localityWeighted: boolean;
  readonly overprovisioningFactor: number;
  readonly panicThreshold: number;
  /**
   * `buckets[r % 100]` = `priority * 2 + (degraded ? 1 : 0)`: Envoy's `choosePriority` walk
   * over cumulative loads, tabulated.
   */
  readonly buckets: readonly number[];
}

/**
 * Builds the plan from hosts grouped by priority and locality, as Envoy's LoadBalancerBase
 * (load_balancer_impl.cc `recalculatePerPriorityState`, `recalculatePerPriorityPanic`,
 * `recalculateLoadInTotalPanic`) and LocalityWrr (`effectiveLocalityWeight`) do. Host health is
 * read now: rebuild the plan when health changes.
 */
export function buildLbPlan(priorities: readonly PriorityInput[], options: LbPlanOptions = {}): LbPlan {
  const factor = options.overprovisioningFactor ?? DEFAULT_OVERPROVISIONING_FACTOR;
  // Envoy rounds the Percent and caps it at 100.
  const threshold = Math.min(100, Math.round(options.panicThreshold ?? DEFAULT_PANIC_THRESHOLD));
  if (!Number.isInteger(factor) || factor < 0) {
    throw new RangeError(`overprovisioningFactor must be a non-negative integer, got ${factor}`);
  }
  if (!(threshold >= 0)) throw new RangeError(`panicThreshold must be >= 0, got ${options.panicThreshold}`);
  const input = priorities.length === 0 ? [[]] : priorities;
  const localityWeighted =
    options.localityWeightedLb ?? input.some((p) => p.some((l) => l.weight !== undefined));
  const weighted = options.weightedPriorityHealth ?? false;

  const healthOf = options.healthOf ?? configuredHealth;
  const levels = input.map((localities) => summarize(localities, factor, weighted, healthOf));
  const n = levels.length;
  const health = levels.map((l) => l.health);
  const degradedHealth = levels.map((l) => l.degradedHealth);
  const nta = Math.min(100, sum(health) + sum(degradedHealth));
  const healthyLoad: number[] = new Array(n).fill(0);
  const degradedLoad: number[] = new Array(n).fill(0);

  if (nta > 0) {
    // Each level takes health * 100 / nta of what is left, highest priority first; degraded
    // hosts get what healthy hosts could not take; rounding leftovers go to the first level
    // with healthy (else degraded) availability.
    const [firstHealthy, left] = distribute(healthyLoad, health, 100, nta);
    const [firstDegraded, rest] = distribute(degradedLoad, degradedHealth, left, nta);
    if (rest > 0) {
      if (firstHealthy >= 0) healthyLoad[firstHealthy]! += rest;
      else degradedLoad[firstDegraded]! += rest;
    }
  }

  let panic: boolean[] = new Array(n).fill(false);
  let totalPanic = false;
  if (threshold === 0 && nta === 0) {
    // Panic disabled and nothing available: Envoy points all load at P0, where no healthy
    // host will be found, so the request fails with "no healthy upstream".
    healthyLoad[0] = 100;
  } else {
    // Panic is never considered while the levels together can carry all traffic.
    panic = levels.map((l) => nta < 100 && availablePercent(l) < threshold);
    totalPanic = panic.every(Boolean);
    if (totalPanic) loadByHostCount(levels, healthyLoad, degradedLoad);
  }

  const plans: PriorityPlan[] = levels.map((l, priority) =>
    Object.freeze({
      priority,
      hosts: l.hosts,
      healthyHosts: l.healthyHosts,
      degradedHosts: l.degradedHosts,
      localities: l.localities,
      health: l.health,
      degradedHealth: l.degradedHealth,
      panic: panic[priority]!,
    }),
  );
  return Object.freeze({
    priorities: Object.freeze(plans),
    healthyLoad: Object.freeze(healthyLoad),
    degradedLoad: Object.freeze(degradedLoad),
    normalizedTotalAvailability: nta,
    totalPanic,
    localityWeighted,
    overprovisioningFactor: factor,
    panicThreshold: threshold,
    buckets: sharedBuckets(healthyLoad, degradedLoad),
  });
}

/**
 * Envoy's `choosePriority` for a plan: priority and source for a hash or random value, as
 * `{ priority, degraded }`. The load balancer reads `plan.buckets` directly instead.
 */
export function choosePriority(plan: LbPlan, value: number): { priority: number; degraded: boolean } {
  const code = plan.buckets[value % 100]!;
  return { priority: code >> 1, degraded: (code & 1) === 1 };
}

interface Level {
  readonly hosts: readonly Host[];
  readonly healthyHosts: readonly Host[];
  readonly degradedHosts: readonly Host[];
  readonly localities: readonly LocalityPlan[];
  readonly health: number;
  readonly degradedHealth: number;
}

/** Shared by every level and locality without degraded (or healthy) hosts. */
const NO_HOSTS: readonly Host[] = Object.freeze([]);

/**
 * `hosts` itself when every host passes (the usual case: a big mesh keeps one array per
 * locality instead of three), else a new frozen array of the hosts that do.
 */
function withHealth(hosts: readonly Host[], health: HostHealth, healthOf: HealthOf): readonly Host[] {
  let count = 0;
  for (const h of hosts) if (healthOf(h) === health) count++;
  if (count === 0) return NO_HOSTS;
  if (count === hosts.length) return hosts;
  // slice: filter's result keeps its growth capacity, a copy is exact (plans are long-lived).
  return Object.freeze(hosts.filter((h) => healthOf(h) === health).slice());
}

type HealthOf = (host: Host) => HostHealth;
const configuredHealth: HealthOf = (host) => host.health;

/** Frozen input arrays are kept as they are; anything else is copied, as the caller may mutate it. */
function frozen(hosts: readonly Host[]): readonly Host[] {
  if (hosts.length === 0) return NO_HOSTS;
  return Object.isFrozen(hosts) ? hosts : Object.freeze(hosts.slice());
}

function summarize(localities: PriorityInput, factor: number, weighted: boolean, healthOf: HealthOf): Level {
  const plans: LocalityPlan[] = [];
  for (const l of localities) {
    const all = frozen(l.hosts);
    const healthy = withHealth(all, 'healthy', healthOf);
    const degraded = withHealth(all, 'degraded', healthOf);
    const weight = l.weight ?? 0;
    plans.push(
      Object.freeze({
        locality: l.locality,
        weight,
        hosts: all,
        healthyHosts: healthy,
        degradedHosts: degraded,
        healthyEffectiveWeight: effectiveLocalityWeight(weight, healthy.length, all.length, factor),
        degradedEffectiveWeight: effectiveLocalityWeight(weight, degraded.length, all.length, factor),
      }),
    );
  }
  // One locality (or one non-empty one) is common: its arrays are the level's arrays.
  const hosts = concat(plans.map((p) => p.hosts));
  const healthyHosts = withHealth(hosts, 'healthy', healthOf);
  const degradedHosts = withHealth(hosts, 'degraded', healthOf);
  let health = 0;
  let degradedHealth = 0;
  if (hosts.length > 0) {
    const measure = weighted ? sumWeights : count;
    const total = measure(hosts);
    // Integer arithmetic as Envoy's uint64 math: floor(factor * healthy / total), capped.
    health = Math.min(100, Math.floor((factor * measure(healthyHosts)) / total));
    degradedHealth = Math.min(100, Math.floor((factor * measure(degradedHosts)) / total));
  }
  return {
    hosts,
    healthyHosts,
    degradedHosts,
    localities: Object.freeze(plans.slice()),
    health,
    degradedHealth,
  };
}

function concat(lists: readonly (readonly Host[])[]): readonly Host[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return NO_HOSTS;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  return Object.freeze(([] as Host[]).concat(...nonEmpty));
}

/** Locality weight scaled by availability x overprovisioning, capped at 1 (LocalityWrr). */
function effectiveLocalityWeight(weight: number, eligible: number, total: number, factor: number): number {
  if (total === 0) return 0;
  return weight * Math.min(1, (factor / 100) * (eligible / total));
}

/** Envoy's `isHostSetInPanic` input: healthy + degraded percent of hosts, unscaled. */
function availablePercent(level: Level): number {
  const n = level.hosts.length;
  if (n === 0) return 0;
  return (100 * level.healthyHosts.length) / n + (100 * level.degradedHosts.length) / n;
}

function distribute(
  load: number[],
  availability: readonly number[],
  total: number,
  nta: number,
): [number, number] {
  let first = -1;
  let left = total;
  for (let i = 0; i < availability.length; i++) {
    if (first < 0 && availability[i]! > 0) first = i;
    load[i] = Math.min(left, Math.floor((availability[i]! * 100) / nta));
    left -= load[i]!;
  }
  return [first, left];
}

/** Total panic: load proportional to all hosts per level, remainder to the first non-empty. */
function loadByHostCount(levels: readonly Level[], healthyLoad: number[], degradedLoad: number[]): void {
  const total = levels.reduce((acc, l) => acc + l.hosts.length, 0);
  degradedLoad.fill(0);
  if (total === 0) {
    healthyLoad.fill(0);
    healthyLoad[0] = 100;
    return;
  }
  let left = 100;
  let first = -1;
  for (let i = 0; i < levels.length; i++) {
    const hosts = levels[i]!.hosts.length;
    if (first < 0 && hosts > 0) first = i;
    healthyLoad[i] = Math.floor((100 * hosts) / total);
    left -= healthyLoad[i]!;
  }
  healthyLoad[first]! += left;
}

/**
 * The bucket table (as {@link LbPlan.buckets}) for given healthy and degraded loads, for a retry
 * priority that recomputes the loads (lb/previous-priorities.ts).
 */
export function priorityBuckets(
  healthyLoad: readonly number[],
  degradedLoad: readonly number[],
): readonly number[] {
  return sharedBuckets(healthyLoad, degradedLoad);
}

/**
 * Bucket tables by their loads. A 100-entry table costs ~0.8 kB and nearly every cluster of a
 * mesh has the same loads (all traffic to healthy P0), so plans share frozen tables. Bounded
 * so that unusual load mixes cannot grow it without limit.
 */
const bucketTables = new Map<string, readonly number[]>();
const MAX_SHARED_BUCKET_TABLES = 256;

function sharedBuckets(healthyLoad: readonly number[], degradedLoad: readonly number[]): readonly number[] {
  const key = `${healthyLoad.join(',')}/${degradedLoad.join(',')}`;
  const cached = bucketTables.get(key);
  if (cached) return cached;
  const table = Object.freeze(tabulate(healthyLoad, degradedLoad));
  if (bucketTables.size < MAX_SHARED_BUCKET_TABLES) bucketTables.set(key, table);
  return table;
}

function tabulate(healthyLoad: readonly number[], degradedLoad: readonly number[]): number[] {
  const buckets: number[] = new Array(100).fill(0);
  for (let b = 0; b < 100; b++) {
    const value = b + 1; // Envoy: hash % 100 + 1, in 1..100
    let acc = 0;
    let code = -1;
    for (let p = 0; p < healthyLoad.length && code < 0; p++) {
      acc += healthyLoad[p]!;
      if (value <= acc) code = p * 2;
    }
    for (let p = 0; p < degradedLoad.length && code < 0; p++) {
      acc += degradedLoad[p]!;
      if (value <= acc) code = p * 2 + 1;
    }
    buckets[b] = Math.max(code, 0);
  }
  return buckets;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

function count(hosts: readonly Host[]): number {
  return hosts.length;
}

function sumWeights(hosts: readonly Host[]): number {
  let s = 0;
  for (const h of hosts) s += h.weight;
  return s;
}
