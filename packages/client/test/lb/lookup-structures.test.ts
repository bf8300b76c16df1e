import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { EdfScheduler } from '../../src/lb/edf-scheduler.ts';
import { hashWords, initHash, splitHash64 } from '../../src/lb/hash.ts';
import type { Host } from '../../src/lb/host.ts';
import { createMaglevPicker } from '../../src/lb/maglev.ts';
import { mod32, mod64, mod64With, modulus64 } from '../../src/lb/modulo.ts';
import { createRingHashPicker } from '../../src/lb/ring-hash.ts';
import { makeHost } from './hosts.ts';
import { mulberry32 } from './mulberry32.ts';

before(() => initHash());

/**
 * Envoy's EDF scheduler written the obvious way: a linear scan for the smallest
 * (deadline, insertion order). The heap must pick exactly as this does.
 */
class ReferenceEdf {
  private readonly deadline: number[] = [];
  private readonly order: number[] = [];
  private nextOrder: number;

  constructor(weights: readonly number[], picks: number, weightOf: (i: number) => number) {
    const n = weights.length;
    this.nextOrder = n;
    const total = picks % 429496729;
    let sum = 0;
    for (const w of weights) sum += w + 1e-13;
    let done = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]! + 1e-13;
      let floorPicks = Math.floor((w * total) / sum);
      if (floorPicks > 0 && floorPicks / w >= total / sum) floorPicks--;
      this.deadline.push((floorPicks + 1) / w);
      this.order.push(i);
      done += floorPicks;
    }
    for (; done < total; done++) this.pickAndAdd(weightOf);
  }

  pickAndAdd(weightOf: (i: number) => number): number {
    if (this.deadline.length === 0) return -1;
    let m = 0;
    for (let i = 1; i < this.deadline.length; i++) {
      const d = this.deadline[i]!;
      const dm = this.deadline[m]!;
      if (d < dm || (d === dm && this.order[i]! < this.order[m]!)) m = i;
    }
    this.deadline[m] = this.deadline[m]! + 1 / weightOf(m);
    this.order[m] = this.nextOrder++;
    return m;
  }
}

describe('EDF heap equals a linear-scan reference (seeded random weights)', () => {
  const cases: { name: string; weights: (r: () => number, n: number) => number[] }[] = [
    { name: 'integer weights 1..100 (many exact ties)', weights: (r, n) => ints(r, n, 100) },
    { name: 'integer weights 1..3 (mostly ties)', weights: (r, n) => ints(r, n, 3) },
    { name: 'all weights equal', weights: (_r, n) => new Array<number>(n).fill(7) },
    { name: 'fractional weights', weights: (r, n) => Array.from({ length: n }, () => 0.01 + r() * 50) },
  ];
  for (const { name, weights } of cases) {
    for (const n of [1, 2, 3, 7, 64, 257]) {
      test(`${name}, ${n} entries, seeded pre-picks`, () => {
        const r = mulberry32(n * 7919 + name.length);
        const w = weights(r, n);
        const weightOf = (i: number) => w[i]!;
        const picks = Math.floor(r() * 2 ** 32);
        const heap = new EdfScheduler(w, picks, weightOf);
        const ref = new ReferenceEdf(w, picks, weightOf);
        for (let i = 0; i < 5000; i++)
          assert.equal(heap.pickAndAdd(weightOf), ref.pickAndAdd(weightOf), `pick ${i}`);
      });
    }
  }

  test('weights that change between picks (least request re-inserts at the current load)', () => {
    const r = mulberry32(42);
    const n = 100;
    const base = ints(r, n, 10);
    const load = new Array<number>(n).fill(0);
    const weightOf = (i: number) => base[i]! / (load[i]! + 1);
    const heap = new EdfScheduler(base, 12345, weightOf);
    const ref = new ReferenceEdf(base, 12345, weightOf);
    for (let i = 0; i < 20000; i++) {
      const a = heap.pickAndAdd(weightOf);
      assert.equal(a, ref.pickAndAdd(weightOf), `pick ${i}`);
      load[a]! += 1;
      if (i % 3 === 0) load[Math.floor(r() * n)] = 0;
    }
  });

  test('an empty scheduler picks -1', () => {
    assert.equal(
      new EdfScheduler([], 5, () => 1).pickAndAdd(() => 1),
      -1,
    );
  });
});

describe('integer remainders without `%`', () => {
  test('mod32 and mod64 agree with BigInt over random and edge values', () => {
    const r = mulberry32(3);
    const words = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
    for (let i = 0; i < 2000; i++) words.push(Math.floor(r() * 2 ** 32));
    const moduli = [1, 2, 3, 7, 100, 1000, 65537, 2 ** 21 + 1, 5000011, 2 ** 26 - 5];
    for (const m of moduli) {
      const prepared = modulus64(m);
      for (let i = 0; i < words.length; i++) {
        const high = words[i]!;
        const low = words[(i * 7 + 3) % words.length]!;
        assert.equal(mod32(high, m), high % m);
        const want = Number(((BigInt(high) << 32n) | BigInt(low)) % BigInt(m));
        assert.equal(mod64With(high, low, prepared), want, `${high}:${low} mod ${m}`);
        assert.equal(mod64(high, low, m), want);
      }
    }
  });

  test('a modulus outside the exact range is refused', () => {
    assert.throws(() => modulus64(2 ** 26), RangeError);
    assert.throws(() => modulus64(0), RangeError);
  });

  test('splitHash64 reduces a bigint modulo 2^64 like uint64_t', () => {
    const cases: [bigint, number, number][] = [
      [0n, 0, 0],
      [0x0123456789abcdefn, 0x01234567, 0x89abcdef],
      [(1n << 64n) - 1n, 0xffffffff, 0xffffffff],
      [-1n, 0xffffffff, 0xffffffff],
      [(1n << 64n) + 5n, 0, 5],
    ];
    for (const [hash, high, low] of cases) {
      splitHash64(hash);
      assert.deepEqual([hashWords[0], hashWords[1]], [high, low], String(hash));
    }
  });
});

describe('hash table lookups equal the plain definitions', () => {
  const hosts = Array.from({ length: 37 }, (_, i) => makeHost(`10.0.0.${i}:80`, { weight: 1 + (i % 5) }));

  /** Random uint64 hashes as [high, low] word pairs. */
  function hashes(seed: number, count: number): [number, number][] {
    const r = mulberry32(seed);
    return Array.from({ length: count }, () => [Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]);
  }

  test('MAGLEV picks hosts[table[hash % M]] for every hash', () => {
    const maglev = createMaglevPicker(hosts, { tableSize: 5003 }) as ReturnType<typeof createMaglevPicker> & {
      table: Int32Array;
      hosts: readonly Host[];
    };
    for (const [high, low] of hashes(5, 5000)) {
      const index = Number(((BigInt(high) << 32n) | BigInt(low)) % 5003n);
      assert.equal(maglev.pickHashed(high, low, 0), maglev.hosts[maglev.table[index]!]);
    }
  });

  test('RING_HASH bucketed lookup equals a lower bound over the whole ring', () => {
    for (const keyOf of [(h: Host) => h.key, () => 'same-key-for-every-host']) {
      const ring = createRingHashPicker(hosts, { minimumRingSize: 3000, hashKey: keyOf }) as ReturnType<
        typeof createRingHashPicker
      > & { high: Uint32Array; low: Uint32Array; hosts: readonly Host[]; size: number };
      const probes = hashes(6, 5000);
      // Probe the points themselves and their neighbours too: exact hits and ties.
      for (let i = 0; i < ring.size; i += 17) {
        probes.push([ring.high[i]!, ring.low[i]!], [ring.high[i]!, Math.max(0, ring.low[i]! - 1)]);
      }
      probes.push([0, 0], [0xffffffff, 0xffffffff]);
      for (const [high, low] of probes) {
        let index = 0;
        while (
          index < ring.size &&
          (ring.high[index]! < high || (ring.high[index] === high && ring.low[index]! < low))
        )
          index++;
        if (index === ring.size) index = 0;
        assert.equal(ring.pickHashed(high, low, 0), ring.hosts[index], `${high}:${low}`);
      }
    }
  });
});

function ints(r: () => number, n: number, max: number): number[] {
  return Array.from({ length: n }, () => 1 + Math.floor(r() * max));
}
