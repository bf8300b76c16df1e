/**
 * Envoy's `envoy.retry_priorities.previous_priorities` retry priority: on a retry, priority
 * load is computed again with the priorities already attempted left out, so the retry goes to
 * the next priority (for Istio, the next locality: VirtualService `retryRemoteLocalities`).
 *
 * Semantics are those of source/extensions/retry/priority/previous_priorities (and the
 * PreviousPrioritiesConfig proto): every attempt's host is remembered; while fewer than
 * `update_frequency` attempts were made the original loads apply; each time the attempt count is
 * a multiple of `update_frequency`, the priorities of every attempted host join the excluded set
 * and the loads are recomputed from the remaining levels' health (the LB's health scores, panic
 * not considered), leftovers of integer rounding going around again from the first level; in
 * between, the last recomputed loads apply. When nothing would be left, the excluded set and the
 * attempted hosts are forgotten and the loads recomputed over every level; when that still gives
 * no availability, the original loads apply.
 *
 * One instance per request, created on its first retry: a request that is never retried pays
 * nothing.
 */
import type { Host } from './host.ts';
import { type LbPlan, priorityBuckets } from './priority-load.ts';

/** PreviousPrioritiesConfig's `update_frequency` as Istio writes it for `retryRemoteLocalities`. */
export const ISTIO_UPDATE_FREQUENCY = 2;

export class PreviousPriorities {
  readonly #updateFrequency: number;
  readonly #attempted: Host[] = [];
  #excluded: boolean[] = [];
  /** The last recomputed bucket table; `undefined` while the original loads apply. */
  #buckets: readonly number[] | undefined;

  /** @param updateFrequency attempts between two recomputations (> 0). */
  constructor(updateFrequency: number) {
    if (!(Number.isInteger(updateFrequency) && updateFrequency > 0)) {
      throw new RangeError(`update_frequency must be a positive integer, got ${updateFrequency}`);
    }
    this.#updateFrequency = updateFrequency;
  }

  /** Envoy's `onHostAttempted`: the router calls it for every attempt's host, the first included. */
  onHostAttempted(host: Host): void {
    this.#attempted.push(host);
  }

  /**
   * Envoy's `determinePriorityLoad` for the next pick: the bucket table (as `LbPlan.buckets`) to
   * choose the priority with, or `undefined` for the plan's own.
   */
  priorityBuckets(plan: LbPlan): readonly number[] | undefined {
    const n = this.#attempted.length;
    const freq = this.#updateFrequency;
    if (n < freq) return undefined;
    if (n % freq === 0) {
      const levels = plan.priorities;
      while (this.#excluded.length < levels.length) this.#excluded.push(false);
      for (const host of this.#attempted) {
        const p = priorityOf(plan, host);
        if (p !== undefined) this.#excluded[p] = true;
      }
      const buckets = this.#adjust(plan);
      if (buckets === undefined) return undefined;
      this.#buckets = buckets;
    }
    return this.#buckets;
  }

  #adjust(plan: LbPlan): readonly number[] | undefined {
    let loads = adjustedLoads(plan, this.#excluded);
    if (loads === undefined) {
      // Out of priorities: start over rather than fail to route.
      this.#excluded = this.#excluded.map(() => false);
      this.#attempted.length = 0;
      loads = adjustedLoads(plan, this.#excluded);
    }
    return loads === undefined ? undefined : priorityBuckets(loads.healthy, loads.degraded);
  }
}

/**
 * Healthy and degraded loads (percent, summing to 100) over the levels not excluded, or
 * `undefined` when they have no availability (PreviousPrioritiesRetryPriority::
 * adjustForAttemptedPriorities and adjustedAvailability).
 */
export function adjustedLoads(
  plan: LbPlan,
  excluded: readonly boolean[],
): { healthy: number[]; degraded: number[] } | undefined {
  const levels = plan.priorities;
  const health = levels.map((l, i) => (excluded[i] === true ? 0 : l.health));
  const degradedHealth = levels.map((l, i) => (excluded[i] === true ? 0 : l.degradedHealth));
  let total = 0;
  for (let i = 0; i < levels.length; i++) total += health[i]! + degradedHealth[i]!;
  total = Math.min(total, 100);
  if (total === 0) return undefined;
  const healthy: number[] = new Array(levels.length).fill(0);
  const degraded: number[] = new Array(levels.length).fill(0);
  let left = 100;
  // Passes repeat until all 100 percent are placed, so rounding leftovers go to the first level
  // with availability (healthy before degraded), as Envoy's outer loop does.
  while (left !== 0) {
    for (let i = 0; i < levels.length; i++) {
      const delta = Math.min(left, Math.floor((health[i]! * 100) / total));
      healthy[i]! += delta;
      left -= delta;
    }
    for (let i = 0; i < levels.length; i++) {
      const delta = Math.min(left, Math.floor((degradedHealth[i]! * 100) / total));
      degraded[i]! += delta;
      left -= delta;
    }
  }
  return { healthy, degraded };
}

/** The level a host belongs to in `plan` (Envoy's priority mapping); `undefined` when absent. */
function priorityOf(plan: LbPlan, host: Host): number | undefined {
  const levels = plan.priorities;
  for (let i = 0; i < levels.length; i++) if (levels[i]!.hosts.includes(host)) return i;
  return undefined;
}
