/**
 * A source of uniform random numbers in [0, 1), like `Math.random`. Injected everywhere a
 * decision is drawn (weighted choices, load balancing, sampling, faults), so tests are
 * deterministic.
 */
export type RandomSource = () => number;

const TWO_POW_32 = 4294967296;

/**
 * One uniform unsigned 32-bit integer from `random`. Envoy draws a uint64 and reduces it with
 * `%`; 32 bits keeps the arithmetic in plain numbers and the modulo bias below 1e-7 for the
 * small moduli used here (100 buckets, host counts).
 */
export function randomUint32(random: RandomSource): number {
  return Math.floor(random() * TWO_POW_32) >>> 0;
}
