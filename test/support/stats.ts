/**
 * Sampling helpers for distribution tests: a seeded random source (so a run is reproducible) and a
 * tolerance derived from the binomial standard deviation, so a test states how unlikely a false
 * failure is instead of picking a number that happened to pass.
 */
import assert from 'node:assert/strict';

/**
 * mulberry32: a small, fast, well-mixed 32-bit PRNG. Returns numbers in [0, 1) like Math.random,
 * for `createMesh({ random })`.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard deviations allowed either side. P(|Z| > 5) = 5.7e-7 for a normal Z, so a proportion
 * measured over n independent draws with true probability p falls outside p ± 5·sqrt(p(1-p)/n)
 * less than once in a million runs (the normal approximation is good here: n·p > 100 in every use).
 */
export const Z_ALLOWED = 5;

/** Half-width of the accepted interval around `p` for a sample of `n`. */
export function tolerance(p: number, n: number): number {
  return Z_ALLOWED * Math.sqrt((p * (1 - p)) / n);
}

/** Asserts that `count` successes out of `n` are within {@link tolerance} of `p`. */
export function assertProportion(count: number, n: number, p: number, what: string): void {
  const measured = count / n;
  const tol = tolerance(p, n);
  assert.ok(
    Math.abs(measured - p) <= tol,
    `${what}: measured ${(measured * 100).toFixed(2)}% of ${n}, expected ${(p * 100).toFixed(2)}% ± ${(tol * 100).toFixed(2)} pp`,
  );
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight; returns results in order. */
export async function runMany<T>(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

/** Counts occurrences of each value. */
export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
