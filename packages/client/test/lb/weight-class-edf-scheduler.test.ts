import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EdfScheduler } from '../../src/lb/edf-scheduler.ts';
import { WeightClassEdfScheduler } from '../../src/lb/weight-class-edf-scheduler.ts';
import { mulberry32 } from './mulberry32.ts';

/** Picks of both schedulers over the same weights and pre-pick seed must be identical. */
function assertSameSequence(weights: readonly number[], seed: number, picks: number): void {
  const reference = new EdfScheduler(weights, seed, (i) => weights[i]!);
  const grouped = new WeightClassEdfScheduler(weights, seed);
  for (let p = 0; p < picks; p++) {
    const want = reference.pickAndAdd((i) => weights[i]!);
    const got = grouped.pickAndAdd();
    if (want !== got) {
      assert.fail(`weights [${weights.join(',')}] seed ${seed}: pick ${p} was ${got}, want ${want}`);
    }
  }
}

describe('WeightClassEdfScheduler', () => {
  test('is empty-safe', () => {
    assert.equal(new WeightClassEdfScheduler([], 7).pickAndAdd(), -1);
  });

  test('matches EdfScheduler for random weight sets (few distinct weights)', () => {
    const random = mulberry32(1);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(random() * 60);
      const distinct = 1 + Math.floor(random() * 5);
      const choices = Array.from({ length: distinct }, () => 1 + Math.floor(random() * 100));
      const weights = Array.from({ length: n }, () => choices[Math.floor(random() * distinct)]!);
      assertSameSequence(weights, Math.floor(random() * 2 ** 32), 5 * n + 50);
    }
  });

  test('matches EdfScheduler when every weight is distinct or non-integer', () => {
    const random = mulberry32(2);
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(random() * 80);
      const integer = round % 2 === 0;
      const weights = Array.from({ length: n }, () =>
        integer ? 1 + Math.floor(random() * 1000) : 0.001 + random() * 50,
      );
      assertSameSequence(weights, Math.floor(random() * 2 ** 32), 5 * n + 50);
    }
  });

  test('matches EdfScheduler for multiples, huge and tiny weights, and seeds near the modulus', () => {
    const sets = [
      [1, 2, 4, 8, 16, 1, 2, 4, 8, 16],
      [3, 6, 9, 3, 6, 9, 3],
      [1, 1_000_000, 1, 1_000_000],
      [128, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      [0.1, 0.2, 0.3, 0.1, 0.2, 0.3],
      Array.from({ length: 1000 }, (_, i) => 1 + (i % 10)),
    ];
    for (const weights of sets) {
      for (const seed of [0, 1, 42, 429496728, 429496729, 2 ** 32 - 1]) {
        assertSameSequence(weights, seed, 3 * weights.length + 100);
      }
    }
  });
});
