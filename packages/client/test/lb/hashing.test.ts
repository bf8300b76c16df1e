import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initHash, xxHash64 } from '../../src/lb/hash.ts';
import { createMaglevPicker } from '../../src/lb/maglev.ts';
import { createRingHashPicker } from '../../src/lb/ring-hash.ts';
import { makeHost, tally } from './hosts.ts';
import { mulberry32 } from './mulberry32.ts';

before(() => initHash());

const ports = ['90', '91', '92', '93', '94', '95'];
const envoyHosts = () => ports.map((p) => makeHost(`127.0.0.1:${p}`));
const byName = () => ports.map((p) => makeHost(`127.0.0.1:${p}`));

describe('xxHash64 (Envoy HashUtil::xxHash64, seed 0)', () => {
  test('empty string reference value', () => {
    assert.equal(xxHash64(''), 0xef46db3751d8e999n);
  });
});

describe('ring hash (Envoy ring_hash_lb.cc)', () => {
  // Envoy test/extensions/load_balancing_policies/ring_hash/ring_hash_lb_test.cc "Basic": six
  // hosts, minimum_ring_size 12, the ring printed there; the keys are "<ip:port>_<n>".
  test('builds Envoy\'s ring: key "address_N", 2 points per host, sorted', () => {
    const hosts = envoyHosts();
    const ring = createRingHashPicker(hosts, { minimumRingSize: 12 });
    const at = (hash: bigint) => ring.pick({ hash })?.key;
    assert.equal(at(0n), '127.0.0.1:94'); // first point 833437586790550860 is :94
    assert.equal(at((1n << 64n) - 1n), '127.0.0.1:94'); // past the last point wraps to the first
    assert.equal(at(3551244743356806947n), '127.0.0.1:95'); // exactly a point: that point
    assert.equal(at(3551244743356806948n), '127.0.0.1:93'); // one past: the next point
    assert.equal(at(16117243373044804880n), '127.0.0.1:90');
  });

  test('use_hostname_for_hashing ring from the same Envoy test file', () => {
    const hosts = byName();
    const ring = createRingHashPicker(hosts, { minimumRingSize: 12, hashKey: (h) => h.key.slice(-2) });
    assert.equal(ring.pick({ hash: 0 })?.key, '127.0.0.1:95');
    assert.equal(ring.pick({ hash: 7225015537174310577n })?.key, '127.0.0.1:92');
    assert.equal(ring.pick({ hash: 6803900775736438537n })?.key, '127.0.0.1:93');
  });

  test('ring size: min 1024 by default, scaled so the lightest host gets whole points', () => {
    const hosts = [makeHost('a:1', { weight: 1 }), makeHost('b:1', { weight: 3 })];
    // min weight 1/4: scale = ceil(0.25 * 1024) / 0.25 = 1024.
    assert.equal((createRingHashPicker(hosts) as unknown as { size: number }).size, 1024);
    const three = [makeHost('a:1'), makeHost('b:1'), makeHost('c:1')];
    // ceil(1024/3) * 3 = 1026
    assert.equal((createRingHashPicker(three) as unknown as { size: number }).size, 1026);
    assert.equal(
      (createRingHashPicker(three, { maximumRingSize: 1025 }) as unknown as { size: number }).size,
      1025,
    );
    assert.throws(
      () => createRingHashPicker(three, { minimumRingSize: 20, maximumRingSize: 10 }),
      /minimum_ring_size/,
    );
  });

  test('sticky: the same hash always picks the same host', () => {
    const hosts = Array.from({ length: 50 }, (_, i) => makeHost(`10.0.0.${i}:80`));
    const ring = createRingHashPicker(hosts);
    const rnd = mulberry32(1);
    for (let i = 0; i < 1000; i++) {
      const hash = BigInt(Math.floor(rnd() * 2 ** 52)) * 4099n;
      assert.equal(ring.pick({ hash }), ring.pick({ hash }));
    }
  });

  // Envoy keeps the ring near minimum_ring_size, so when a host leaves each survivor gains
  // points (20 hosts: 52 points each; 19 hosts: 54) and those new points take some keys too.
  // The removed host's 1/N of keys must all move; the total stays below 2/N, against ~(N-1)/N
  // for rehashing modulo N.
  test('removing 1 of N hosts moves its 1/N of keys plus at most about 1/N more', () => {
    const n = 20;
    const hosts = Array.from({ length: n }, (_, i) => makeHost(`10.0.1.${i}:80`));
    const before = createRingHashPicker(hosts);
    const after = createRingHashPicker(hosts.filter((_, i) => i !== 7));
    const rnd = mulberry32(2);
    const samples = 20000;
    let moved = 0;
    let onRemoved = 0;
    for (let i = 0; i < samples; i++) {
      const hash = xxHash64(`key-${rnd()}`);
      const a = before.pick({ hash })!;
      const b = after.pick({ hash })!;
      if (a.key === '10.0.1.7:80') {
        onRemoved++;
        assert.notEqual(b.key, a.key);
      }
      if (a !== b) moved++;
    }
    // Tolerances: +-2 points on the removed host's share, +1 point on the 2/N bound.
    assert.ok(Math.abs(onRemoved / samples - 1 / n) < 0.02, `on removed ${onRemoved / samples}`);
    assert.ok(moved / samples < 2 / n + 0.01, `moved ${moved / samples}`);
  });

  test('weights: a weight-3 host gets about 3x the keys', () => {
    const hosts = [makeHost('a:1', { weight: 3 }), makeHost('b:1'), makeHost('c:1')];
    const ring = createRingHashPicker(hosts);
    const rnd = mulberry32(3);
    const counts = tally(Array.from({ length: 30000 }, () => ring.pick({ hash: xxHash64(String(rnd())) })));
    const share = (counts.get('a:1') ?? 0) / 30000;
    assert.ok(Math.abs(share - 0.6) < 0.05, `share ${share}`); // +-5 points
  });

  test('no hash: random pick (Envoy falls back to a random value)', () => {
    const ring = createRingHashPicker(envoyHosts());
    const counts = tally(Array.from({ length: 20000 }, () => ring.pick({ random: mulberry32(4) })));
    assert.equal(counts.size, 1); // same random stream: same host
    const rnd = mulberry32(5);
    const spread = tally(Array.from({ length: 20000 }, () => ring.pick({ random: rnd })));
    assert.equal(spread.size, 6);
  });

  test('exclude: the retry probe walks to the next ring point', () => {
    const ring = createRingHashPicker(envoyHosts(), { minimumRingSize: 12 });
    const first = ring.pick({ hash: 0 })!;
    const second = ring.pick({ hash: 0, exclude: (h) => h === first })!;
    assert.equal(first.key, '127.0.0.1:94');
    assert.equal(second.key, '127.0.0.1:92'); // next point on Envoy's ring
  });

  test('no hosts: undefined', () => {
    assert.equal(createRingHashPicker([]).pick({ hash: 1 }), undefined);
  });
});

describe('maglev (Envoy maglev_lb.cc)', () => {
  // maglev_lb_test.cc "Basic": table size 7, table printed there.
  test("table of size 7 equals Envoy's (offset seed 0, skip seed 1, hosts sorted by key)", () => {
    const hosts = envoyHosts();
    const maglev = createMaglevPicker([...hosts].reverse(), { tableSize: 7 });
    const expected = [2, 4, 0, 1, 5, 0, 3];
    for (let i = 0; i < 21; i++) {
      assert.equal(maglev.pick({ hash: i }), hosts[expected[i % 7]!], `slot ${i % 7}`);
    }
  });

  test('use_hostname_for_hashing table from the same Envoy test file', () => {
    const hosts = byName();
    const maglev = createMaglevPicker(hosts, { tableSize: 7, hashKey: (h) => h.key.slice(-2) });
    const expected = [2, 5, 0, 3, 4, 1, 0];
    for (let i = 0; i < 7; i++) assert.equal(maglev.pick({ hash: BigInt(i) }), hosts[expected[i]!]);
  });

  test('default table 65537 balances equal hosts within 1% of the table', () => {
    const hosts = Array.from({ length: 10 }, (_, i) => makeHost(`10.0.2.${i}:80`));
    const m = createMaglevPicker(hosts) as unknown as { table: Int32Array };
    assert.equal(m.table.length, 65537);
    const counts = new Array(10).fill(0);
    for (const e of m.table) counts[e]++;
    for (const c of counts) assert.ok(Math.abs(c - 6553.7) < 655, `entries ${c}`);
  });

  test('weights: a weight-2 host owns about twice the entries', () => {
    const hosts = [makeHost('a:1', { weight: 2 }), makeHost('b:1'), makeHost('c:1')];
    const m = createMaglevPicker(hosts) as unknown as { table: Int32Array; hosts: { key: string }[] };
    let a = 0;
    for (const e of m.table) if (m.hosts[e]!.key === 'a:1') a++;
    assert.ok(Math.abs(a / 65537 - 0.5) < 0.01, `share ${a / 65537}`);
  });

  test('sticky, and removing 1 of N hosts moves few keys', () => {
    const n = 20;
    const hosts = Array.from({ length: n }, (_, i) => makeHost(`10.0.3.${i}:80`));
    const before = createMaglevPicker(hosts);
    const after = createMaglevPicker(hosts.filter((_, i) => i !== 3));
    const rnd = mulberry32(6);
    let moved = 0;
    for (let i = 0; i < 20000; i++) {
      const hash = xxHash64(`k${rnd()}`);
      assert.equal(before.pick({ hash }), before.pick({ hash }));
      if (before.pick({ hash }) !== after.pick({ hash })) moved++;
    }
    // The removed host's 5% must move; Maglev's disruption adds a little more. Bound: < 10%.
    assert.ok(moved / 20000 >= 0.04 && moved / 20000 < 0.1, `moved ${moved / 20000}`);
  });

  test('table size must be prime', () => {
    assert.throws(() => createMaglevPicker([makeHost('a:1')], { tableSize: 8 }), /prime/);
  });

  test('exclude: retry XORs the hash with 2^64 - attempt', () => {
    const hosts = envoyHosts();
    const maglev = createMaglevPicker(hosts, { tableSize: 7 });
    const first = maglev.pick({ hash: 0 })!;
    const retried = maglev.pick({ hash: 0, exclude: (h) => h === first })!;
    // (0 ^ (2^64 - 1)) % 7 = (2^64 - 1) % 7 = 1 -> slot 1 = :94
    assert.equal(retried.key, '127.0.0.1:94');
  });
});
