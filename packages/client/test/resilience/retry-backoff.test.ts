import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffCeilingMs, jitteredBackoffMs, lowerBoundBackoffMs } from '../../src/resilience/backoff.ts';
import { mulberry32 } from '../lb/mulberry32.ts';

// source/common/common/backoff_strategy.cc JitteredExponentialBackOffStrategy::nextBackOffMs:
//   backoff = next_interval_; next_interval_ = next_interval_ < max/2 ? next_interval_ * 2 : max;
//   return random % backoff;

test('ceilings double from the base and stop at the max (defaults 25 / 250 ms)', () => {
  const seq = [1, 2, 3, 4, 5, 6, 50].map((n) => backoffCeilingMs(25, 250, n));
  assert.deepEqual(seq, [25, 50, 100, 200, 250, 250, 250]);
});

test('the jump to max happens once the interval reaches floor(max / 2), not min(2^n base, max)', () => {
  // 5 is not below floor(11 / 2) = 5, so the second ceiling is 11 where min(10, 11) would be 10.
  assert.deepEqual(
    [1, 2, 3].map((n) => backoffCeilingMs(5, 11, n)),
    [5, 11, 11],
  );
  assert.deepEqual(
    [1, 2, 3].map((n) => backoffCeilingMs(100, 100, n)),
    [100, 100, 100],
  );
});

test('jittered backoff is uniform in [0, ceiling): bounds, mean and growth (seeded)', () => {
  const random = mulberry32(7);
  const N = 20_000;
  const means: number[] = [];
  for (let n = 1; n <= 6; n++) {
    const ceiling = backoffCeilingMs(25, 250, n);
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let i = 0; i < N; i++) {
      const v = jitteredBackoffMs(25, 250, n, random);
      assert.ok(Number.isInteger(v));
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(min, 0, `retry ${n} reaches 0`);
    assert.equal(max, ceiling - 1, `retry ${n} reaches ceiling - 1`);
    const mean = sum / N;
    // Mean of a uniform integer in [0, c) is (c - 1) / 2; allow 3%.
    assert.ok(Math.abs(mean - (ceiling - 1) / 2) < 0.03 * ceiling, `retry ${n} mean ${mean}`);
    means.push(mean);
  }
  // Exponential growth until the cap: each mean about doubles, then stays.
  assert.ok(means[1]! > 1.8 * means[0]! && means[2]! > 1.8 * means[1]! && means[3]! > 1.8 * means[2]!);
  assert.ok(Math.abs(means[5]! - means[4]!) < 0.05 * means[4]!);
});

// JitteredLowerBoundBackOffStrategy: "random(min_interval_, 1.5 * min_interval_)", computed as
// random % (min >> 1) + min.
test('lower-bound backoff lies in [interval, 1.5 interval)', () => {
  const random = mulberry32(11);
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < 10_000; i++) {
    const v = lowerBoundBackoffMs(1000, random);
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.equal(min, 1000);
  assert.equal(max, 1499);
});
