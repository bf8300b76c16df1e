/**
 * Measuring a weighted split: the share of answers per version, and whether it is close enough
 * to the configured weights given how many requests were sent.
 */
import { type Answered, countBy } from '../traffic.ts';

/** Percent of answers per version, for every version in `weights` (also those that got none). */
export function versionShares(
  answers: readonly Answered[],
  versions: readonly string[],
): Map<string, number> {
  const counts = countBy(answers, (r) => r.version);
  return new Map(
    versions.map((v) => [v, answers.length === 0 ? 0 : ((counts.get(v) ?? 0) / answers.length) * 100]),
  );
}

/**
 * Whether every measured share is within `tolerancePoints` percentage points of its weight.
 * A share's standard deviation is 0.95 points at 90/10 over 1000 requests and 1.1 points at
 * 50/50 over 2000, so 5 points is a margin that only a wrong split exceeds.
 */
export function withinTolerance(
  shares: ReadonlyMap<string, number>,
  weights: Readonly<Record<string, number>>,
  tolerancePoints = 5,
): boolean {
  return Object.entries(weights).every(([v, w]) => Math.abs((shares.get(v) ?? 0) - w) <= tolerancePoints);
}

/** `v1 90.2%  v2 9.8%` */
export function formatShares(shares: ReadonlyMap<string, number>): string {
  return [...shares].map(([v, p]) => `${v} ${p.toFixed(1)}%`).join('  ');
}
