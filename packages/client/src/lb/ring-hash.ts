import { xxHash64 } from './hash.ts';
import { type NormalizedWeights, normalizeHostWeights } from './hash-weights.ts';
import type { Host } from './host.ts';
import { type HashPicker, type PickContext, pickByHash } from './picker.ts';
import type { RandomSource } from './random-source.ts';

/** Options of {@link createRingHashPicker} (RingHash proto fields). */
export interface RingHashOptions {
  /** Default 1024 (ring_hash.proto `minimum_ring_size`). */
  readonly minimumRingSize?: number;
  /** Default 8M = 8388608 (ring_hash.proto `maximum_ring_size`). */
  readonly maximumRingSize?: number;
  /**
   * The string hashed for a host. Default `host.key` (`ip:port`, Envoy's address string);
   * Envoy's `use_hostname_for_hashing` or an `envoy.lb` `hash_key` would supply another.
   */
  readonly hashKey?: (host: Host) => string;
  /** Random source for picks without a hash. Default `Math.random`. */
  readonly random?: RandomSource;
}

/** Envoy's ring-hash defaults. */
export const DEFAULT_MINIMUM_RING_SIZE = 1024;
export const DEFAULT_MAXIMUM_RING_SIZE = 8 * 1024 * 1024;

/**
 * Envoy RING_HASH (ring_hash_lb.cc), Ketama style. Requires {@link initHash} to have
 * completed. The ring has `ceil(scale)` points with
 * `scale = min(ceil(minWeight * minimumRingSize) / minWeight, maximumRingSize)`; host i gets
 * points while a running total stays below `scale * weight_i`, each at
 * `xxHash64(key + "_" + n)` for n = 0, 1, ... A request lands on the first point whose hash is
 * >= its hash, wrapping to the first point. Without a hash the pick is random.
 */
export function createRingHashPicker(hosts: readonly Host[], options: RingHashOptions = {}): HashPicker {
  return createRingHashPickerFromWeights(normalizeHostWeights(hosts), options);
}

/** {@link createRingHashPicker} over weights already normalized (per priority, per locality). */
export function createRingHashPickerFromWeights(
  normalized: NormalizedWeights,
  options: RingHashOptions = {},
): HashPicker & { readonly size: number } {
  const minSize = options.minimumRingSize ?? DEFAULT_MINIMUM_RING_SIZE;
  const maxSize = options.maximumRingSize ?? DEFAULT_MAXIMUM_RING_SIZE;
  if (minSize > maxSize) {
    throw new RangeError(`ring hash: minimum_ring_size (${minSize}) > maximum_ring_size (${maxSize})`);
  }
  const keyOf = options.hashKey ?? ((h: Host) => h.key);
  const random = options.random ?? Math.random;
  const { hosts, weights, min } = normalized;
  if (hosts.length === 0) return new Ring([], new Uint32Array(0), new Uint32Array(0), random);

  const scale = Math.min(Math.ceil(min * minSize) / min, maxSize);
  const size = Math.ceil(scale);
  const pointHash = new BigUint64Array(size);
  const pointHost = new Uint32Array(size);
  // Running totals across all hosts keep fractional shares stable as hosts come and go.
  let current = 0;
  let target = 0;
  let count = 0;
  for (let h = 0; h < hosts.length; h++) {
    const prefix = keyOf(hosts[h]!) + '_';
    target += scale * weights[h]!;
    for (let n = 0; current < target; n++, current++) {
      if (count === size) break; // guard against float drift past ceil(scale)
      pointHash[count] = xxHash64(prefix + n);
      pointHost[count] = h;
      count++;
    }
  }
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => {
    const x = pointHash[a]!;
    const y = pointHash[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const high = new Uint32Array(count);
  const low = new Uint32Array(count);
  const ringHosts: Host[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const p = order[i]!;
    const v = pointHash[p]!;
    high[i] = Number(v >> 32n);
    low[i] = Number(v & 0xffffffffn);
    ringHosts[i] = hosts[pointHost[p]!]!;
  }
  return new Ring(ringHosts, high, low, random);
}

/**
 * `start[b]` = index of the first point whose top `bits` hash bits are >= b, for b in
 * 0..2^bits (`start[2^bits]` = n). Ring points are xxHash values, so uniform: with
 * 2^bits <= n buckets each holds one or two points, and a lookup searches only its bucket
 * instead of binary searching the whole ring (16+ unpredictable branches at 50,000 points).
 */
function bucketStarts(high: Uint32Array, bits: number): Uint32Array {
  const buckets = 2 ** bits;
  const shift = 32 - bits;
  const start = new Uint32Array(buckets + 1);
  let i = 0;
  for (let b = 0; b < buckets; b++) {
    while (i < high.length && high[i]! >>> shift < b) i++;
    start[b] = i;
  }
  start[buckets] = high.length;
  return start;
}

class Ring implements HashPicker {
  readonly size: number;
  private readonly hosts: readonly Host[];
  private readonly high: Uint32Array;
  private readonly low: Uint32Array;
  private readonly random: RandomSource;
  private readonly shift: number;
  private readonly start: Uint32Array;

  constructor(hosts: readonly Host[], high: Uint32Array, low: Uint32Array, random: RandomSource) {
    this.hosts = hosts;
    this.high = high;
    this.low = low;
    this.random = random;
    this.size = hosts.length;
    // At least one bit, because `>>> 32` would shift by 0.
    const bits = Math.min(24, Math.max(1, Math.floor(Math.log2(Math.max(1, hosts.length)))));
    this.shift = 32 - bits;
    this.start = bucketStarts(high, bits);
  }

  pick(ctx?: PickContext): Host | undefined {
    return pickByHash(this, this.random, ctx);
  }

  pickHashed(hi: number, lo: number, attempt: number): Host | undefined {
    const n = this.size;
    if (n === 0) return undefined;
    // First point >= hash (lower bound); past the last point wraps to 0, as Ketama does.
    // Points before the hash's bucket are smaller and points after it larger, so the lower
    // bound lies in [start[bucket], start[bucket + 1]].
    const bucket = hi >>> this.shift;
    let a = this.start[bucket]!;
    let b = this.start[bucket + 1]!;
    while (a < b) {
      const m = (a + b) >>> 1;
      const mh = this.high[m]!;
      if (mh < hi || (mh === hi && this.low[m]! < lo)) a = m + 1;
      else b = m;
    }
    let index = a === n ? 0 : a;
    // Envoy's retry probe: behave as if the point were not there and walk on.
    if (attempt > 0) index = (index + attempt) % n;
    return this.hosts[index];
  }
}
