import { type RandomSource, randomUint32 } from '../lb/random-source.ts';

/**
 * The jitter ceiling Envoy's JitteredExponentialBackOffStrategy uses for retry `retryNumber`
 * (1 = first retry). The strategy starts at `base` and, after each draw, doubles the interval
 * while it is below `floor(max / 2)`, else jumps to `max` (source/common/common/backoff_strategy.cc,
 * `doubling_limit_ = max_interval_ / 2`). So the ceilings are base, 2base, 4base, ... then max.
 *
 * This is not always `min(base * 2^(n-1), max)`: with base 5 and max 11 the second ceiling is
 * 11, not 10, because 5 is not below `floor(11 / 2)`. The router docs describe the range as
 * `[0, (2^N - 1) * base)`; the code, which decides what users see, draws from `[0, ceiling)`.
 */
export function backoffCeilingMs(baseMs: number, maxMs: number, retryNumber: number): number {
  const doublingLimit = Math.floor(maxMs / 2);
  let interval = baseMs;
  for (let n = 1; n < retryNumber; n++) {
    interval = interval < doublingLimit ? interval * 2 : maxMs;
    // Once at max it stays there; stop early so huge retry numbers cost nothing.
    if (interval === maxMs) break;
  }
  return interval;
}

/**
 * Envoy's fully jittered exponential backoff for retry `retryNumber`: `random % ceiling`, a
 * uniform integer in `[0, ceiling)` ms.
 */
export function jitteredBackoffMs(
  baseMs: number,
  maxMs: number,
  retryNumber: number,
  random: RandomSource,
): number {
  return randomUint32(random) % backoffCeilingMs(baseMs, maxMs, retryNumber);
}

/**
 * Envoy's JitteredLowerBoundBackOffStrategy, used when a rate-limit reset header gave
 * `intervalMs` (> 1): `random % (interval >> 1) + interval`, i.e. `[interval, 1.5 * interval)`.
 */
export function lowerBoundBackoffMs(intervalMs: number, random: RandomSource): number {
  return (randomUint32(random) % (intervalMs >>> 1)) + intervalMs;
}
