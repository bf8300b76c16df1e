import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EdfScheduler } from '../../src/lb/edf-scheduler.ts';
import { createLeastRequestPicker } from '../../src/lb/least-request.ts';
import { createRandomPicker } from '../../src/lb/random.ts';
import { createRoundRobinPicker } from '../../src/lb/round-robin.ts';
import { makeHost, tally } from './hosts.ts';
import { mulberry32 } from './mulberry32.ts';

const N = 20000;
const share = (counts: Map<string, number>, key: string) => (counts.get(key) ?? 0) / N;

describe('EDF scheduler (Envoy edf_scheduler.h)', () => {
  test('weights 1:2:3 are picked exactly in proportion over a full period', () => {
    const w = [1, 2, 3];
    const s = new EdfScheduler(w, 0, (i) => w[i]!);
    const counts = [0, 0, 0];
    for (let i = 0; i < 600; i++) counts[s.pickAndAdd((j) => w[j]!)]!++;
    assert.deepEqual(counts, [100, 200, 300]);
  });

  test('equal deadlines go to the earlier insertion (FIFO tie-break)', () => {
    const w = [1, 1, 1];
    const s = new EdfScheduler(w, 0, (i) => w[i]!);
    assert.deepEqual(
      Array.from({ length: 6 }, () => s.pickAndAdd(() => 1)),
      [0, 1, 2, 0, 1, 2],
    );
  });

  test('createWithPicks: pre-picking P equals picking P times from scratch', () => {
    // Envoy notes equal deadlines may break ties differently after pre-picking, so weights
    // here have no coinciding deadlines in the range tested.
    const w = [1.37, 2.91, 5.33];
    for (const p of [0, 1, 7, 23, 100]) {
      const fresh = new EdfScheduler(w, 0, (i) => w[i]!);
      for (let i = 0; i < p; i++) fresh.pickAndAdd((j) => w[j]!);
      const seeded = new EdfScheduler(w, p, (i) => w[i]!);
      const a = Array.from({ length: 50 }, () => fresh.pickAndAdd((j) => w[j]!));
      const b = Array.from({ length: 50 }, () => seeded.pickAndAdd((j) => w[j]!));
      assert.deepEqual(b, a, `picks ${p}`);
    }
  });
});

describe('ROUND_ROBIN (Envoy round_robin_lb.h)', () => {
  const hosts = ['a:1', 'b:1', 'c:1'].map((k) => makeHost(k));

  test('equal weights: strict rotation starting at the random seed offset', () => {
    const rr = createRoundRobinPicker(hosts, { seed: 4 });
    assert.deepEqual(
      Array.from({ length: 4 }, () => rr.pick()?.key),
      ['b:1', 'c:1', 'a:1', 'b:1'],
    );
    const other = createRoundRobinPicker(hosts, { seed: 5 });
    assert.equal(other.pick()?.key, 'c:1');
  });

  test('unequal weights: EDF gives picks in proportion 1:2:5 (exact over a period)', () => {
    const weighted = [
      makeHost('a:1', { weight: 1 }),
      makeHost('b:1', { weight: 2 }),
      makeHost('c:1', { weight: 5 }),
    ];
    const rr = createRoundRobinPicker(weighted, { seed: 12345 });
    const counts = tally(Array.from({ length: 8000 }, () => rr.pick()));
    assert.deepEqual([counts.get('a:1'), counts.get('b:1'), counts.get('c:1')], [1000, 2000, 5000]);
  });

  test('unequal weights interleave (EDF), not runs of the heavy host', () => {
    const weighted = [makeHost('a:1', { weight: 1 }), makeHost('b:1', { weight: 3 })];
    const rr = createRoundRobinPicker(weighted, { seed: 0 });
    const seq = Array.from({ length: 8 }, () => rr.pick()?.key).join(',');
    assert.equal(seq, 'b:1,b:1,a:1,b:1,b:1,b:1,a:1,b:1');
  });

  test('exclude re-picks the next host; no hosts -> undefined', () => {
    const rr = createRoundRobinPicker(hosts, { seed: 0 });
    assert.equal(rr.pick({ exclude: (h) => h.key === 'a:1' })?.key, 'b:1');
    assert.equal(createRoundRobinPicker([]).pick(), undefined);
  });
});

describe('LEAST_REQUEST (Envoy least_request_lb.cc)', () => {
  test('equal weights, P2C: an idle host beats a busy one whenever sampled', () => {
    const hosts = ['a:1', 'b:1', 'c:1', 'd:1'].map((k) => makeHost(k));
    hosts[0]!.activeRequests = 0;
    for (const h of hosts.slice(1)) h.activeRequests = 10;
    const lr = createLeastRequestPicker(hosts, { random: mulberry32(7) });
    const counts = tally(Array.from({ length: N }, () => lr.pick()));
    // P(a is among 2 samples with replacement) = 1 - (3/4)^2 = 43.75%; +-1.5 points.
    assert.ok(Math.abs(share(counts, 'a:1') - 0.4375) < 0.015, `a ${share(counts, 'a:1')}`);
  });

  test('choice_count 4 makes the idle host win more often', () => {
    const hosts = ['a:1', 'b:1', 'c:1', 'd:1'].map((k) => makeHost(k, {}));
    for (const h of hosts.slice(1)) h.activeRequests = 5;
    const lr = createLeastRequestPicker(hosts, { choiceCount: 4, random: mulberry32(8) });
    const counts = tally(Array.from({ length: N }, () => lr.pick()));
    // 1 - (3/4)^4 = 68.36%; +-1.5 points.
    assert.ok(Math.abs(share(counts, 'a:1') - 0.6836) < 0.015);
    assert.throws(() => createLeastRequestPicker(hosts, { choiceCount: 1 }), RangeError);
  });

  test('unequal weights: EDF with weight / (active + 1)', () => {
    const a = makeHost('a:1', { weight: 2 });
    const b = makeHost('b:1', { weight: 1 });
    const lr = createLeastRequestPicker([a, b], { seed: 0 });
    let counts = tally(Array.from({ length: 3000 }, () => lr.pick()));
    assert.deepEqual([counts.get('a:1'), counts.get('b:1')], [2000, 1000]); // idle: 2:1
    a.activeRequests = 3; // a's effective weight 2/4 = 0.5 against b's 1
    const busy = createLeastRequestPicker([a, b], { seed: 0 });
    counts = tally(Array.from({ length: 3000 }, () => busy.pick()));
    assert.deepEqual([counts.get('a:1'), counts.get('b:1')], [1000, 2000]);
    a.activeRequests = 0;
  });

  test('active_request_bias 0 ignores load; bias 2 penalizes it more', () => {
    const a = makeHost('a:1', { weight: 2 });
    const b = makeHost('b:1', { weight: 1 });
    a.activeRequests = 1;
    const flat = tally(
      Array.from(
        { length: 300 },
        (
          (lr) => () =>
            lr.pick()
        )(createLeastRequestPicker([a, b], { activeRequestBias: 0, seed: 0 })),
      ),
    );
    assert.equal(flat.get('a:1'), 200);
    const steep = tally(
      Array.from(
        { length: 300 },
        (
          (lr) => () =>
            lr.pick()
        )(createLeastRequestPicker([a, b], { activeRequestBias: 2, seed: 0 })),
      ),
    );
    assert.equal(steep.get('a:1'), 100); // 2 / 2^2 = 0.5 vs 1
  });
});

describe('RANDOM (Envoy random_lb.cc)', () => {
  test('uniform and ignores weights', () => {
    const hosts = [makeHost('a:1', { weight: 10 }), makeHost('b:1'), makeHost('c:1'), makeHost('d:1')];
    const r = createRandomPicker(hosts, { random: mulberry32(9) });
    const counts = tally(Array.from({ length: N }, () => r.pick()));
    for (const k of ['a:1', 'b:1', 'c:1', 'd:1']) {
      assert.ok(Math.abs(share(counts, k) - 0.25) < 0.015, `${k} ${share(counts, k)}`); // +-1.5 points
    }
  });

  test('the context random source overrides the picker default', () => {
    const hosts = [makeHost('a:1'), makeHost('b:1')];
    const r = createRandomPicker(hosts, { random: () => 0 });
    assert.equal(r.pick({ random: () => 1 / 4294967296 })?.key, 'b:1'); // draw 1 -> hosts[1 % 2]
    assert.equal(r.pick()?.key, 'a:1');
  });
});
