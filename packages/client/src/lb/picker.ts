import { hashWords, randomHash64, splitHash64 } from './hash.ts';
import type { Host } from './host.ts';
import { type RandomSource, randomUint32 } from './random-source.ts';

/**
 * What a pick may know about the request. Every field may be absent: Envoy's
 * `chooseHost(context)` contract allows a null context, and each policy copes.
 */
export interface PickContext {
  /** Request hash for RING_HASH and MAGLEV (uint64; a number must be a safe integer). */
  readonly hash?: bigint | number;
  /** Overrides the balancer's random source for this pick. */
  readonly random?: RandomSource;
  /**
   * Envoy's `shouldSelectAnotherHost`: a host for which this returns true is re-picked (for
   * example, the retry previous-hosts predicate).
   */
  readonly exclude?: (host: Host) => boolean;
  /**
   * Envoy's `hostSelectionRetryCount()`: how many extra picks `exclude` may cause before the
   * last picked host is returned anyway. Defaults to 1 (route RetryPolicy
   * `host_selection_retry_max_attempts`: "If unspecified, this will default to retrying once").
   */
  readonly hostSelectionRetryCount?: number;
  /**
   * Envoy's `determinePriorityLoad` answer for this pick: a bucket table (as `LbPlan.buckets`)
   * replacing the plan's priority loads, from a retry priority (lb/previous-priorities.ts).
   */
  readonly priorityBuckets?: readonly number[];
}

/** A load-balancing policy bound to one list of hosts. */
export interface HostPicker {
  /** Picks a host, or `undefined` when there is none to pick. */
  pick(ctx?: PickContext): Host | undefined;
}

/**
 * One pick without the exclude/retry loop. `draw` is the uint32 random already drawn for this
 * attempt (Envoy reuses the priority-selection random in RANDOM; others ignore it).
 */
export interface SourcePicker extends HostPicker {
  pickOnce(draw: number, random: RandomSource): Host | undefined;
}

/** Default of {@link PickContext.hostSelectionRetryCount}. */
export const DEFAULT_HOST_SELECTION_RETRY_COUNT = 1;

/** Number of attempts Envoy makes for this context: retry count + 1 when a predicate exists. */
export function maxAttempts(ctx: PickContext | undefined): number {
  if (ctx?.exclude === undefined) return 1;
  return (ctx.hostSelectionRetryCount ?? DEFAULT_HOST_SELECTION_RETRY_COUNT) + 1;
}

/**
 * Envoy's `chooseHost` loop around one pick: re-pick while `ctx.exclude` rejects the host, up
 * to {@link maxAttempts}, then return the last host picked (Envoy routes to it anyway).
 */
export function pickWithRetries(
  picker: SourcePicker,
  ctx: PickContext | undefined,
  fallback: RandomSource,
): Host | undefined {
  const random = ctx?.random ?? fallback;
  const attempts = maxAttempts(ctx);
  let host: Host | undefined;
  for (let i = 0; i < attempts; i++) {
    host = picker.pickOnce(randomUint32(random), random);
    if (host === undefined || ctx?.exclude === undefined || !ctx.exclude(host)) return host;
  }
  return host;
}

/** True when every host has the same weight (Envoy then skips the EDF scheduler). */
export function weightsAreEqual(hosts: readonly Host[]): boolean {
  if (hosts.length <= 1) return true;
  const w = hosts[0]!.weight;
  for (let i = 1; i < hosts.length; i++) if (hosts[i]!.weight !== w) return false;
  return true;
}

/**
 * A consistent-hashing table (RING_HASH, MAGLEV). `high`/`low` are the two 32-bit words of
 * the uint64 hash; `attempt` > 0 asks for Envoy's alternate-host probe after a rejection.
 */
export interface HashPicker extends HostPicker {
  pickHashed(high: number, low: number, attempt: number): Host | undefined;
}

/**
 * The pick both consistent-hashing tables share: the request's hash, or without one a random
 * hash (Envoy "just choose[s] a random value"), then Envoy's alternate-host probes while
 * `ctx.exclude` rejects the host found.
 */
export function pickByHash(
  table: HashPicker,
  random: RandomSource,
  ctx: PickContext | undefined,
): Host | undefined {
  if (ctx?.hash !== undefined) splitHash64(ctx.hash);
  else randomHash64(ctx?.random ?? random);
  const hi = hashWords[0]!;
  const lo = hashWords[1]!;
  const attempts = maxAttempts(ctx);
  let host: Host | undefined;
  for (let i = 0; i < attempts; i++) {
    host = table.pickHashed(hi, lo, i);
    if (host === undefined || ctx?.exclude === undefined || !ctx.exclude(host)) return host;
  }
  return host;
}
