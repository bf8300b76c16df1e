import { xxHash64 } from './hash.ts';
import { type NormalizedWeights, normalizeHostWeights } from './hash-weights.ts';
import type { Host } from './host.ts';
import { type Modulus64, mod64With, modulus64 } from './modulo.ts';
import { type HashPicker, type PickContext, pickByHash } from './picker.ts';
import type { RandomSource } from './random-source.ts';

/** Options of {@link createMaglevPicker} (Maglev proto fields). */
export interface MaglevOptions {
  /** Lookup table size; must be prime. Default 65537 (maglev.proto `table_size`). */
  readonly tableSize?: number;
  /** The string hashed for a host. Default `host.key` (`ip:port`). */
  readonly hashKey?: (host: Host) => string;
  /** Random source for picks without a hash. Default `Math.random`. */
  readonly random?: RandomSource;
}

/** Envoy's `MaglevTable::DefaultTableSize`, the paper's recommended size (section 5.3). */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

const TWO_POW_32 = 4294967296;

/**
 * Envoy MAGLEV (maglev_lb.cc), Maglev paper listing 1 with weights. Requires {@link initHash}.
 * Hosts are sorted by hash key; each gets `offset = xxHash64(key, 0) % M` and
 * `skip = xxHash64(key, 1) % (M - 1) + 1`, and fills its next free preference slot
 * `(offset + skip * j) % M` on every round in which `round * weight >= target` (target grows by
 * the largest weight per slot taken), until all M slots are full. A pick is
 * `table[hash % M]`; without a hash it is random.
 */
export function createMaglevPicker(hosts: readonly Host[], options: MaglevOptions = {}): HashPicker {
  return createMaglevPickerFromWeights(normalizeHostWeights(hosts), options);
}

/** {@link createMaglevPicker} over weights already normalized (per priority, per locality). */
export function createMaglevPickerFromWeights(
  normalized: NormalizedWeights,
  options: MaglevOptions = {},
): HashPicker & { readonly table: Int32Array; readonly hosts: readonly Host[] } {
  const size = options.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
  if (!isPrime(size)) throw new RangeError('The table size of maglev must be prime number');
  const keyOf = options.hashKey ?? ((h: Host) => h.key);
  const random = options.random ?? Math.random;
  const n = normalized.hosts.length;
  if (n === 0) return new MaglevTable([], new Int32Array(0), size, random);

  // The fill order decides the table, so make it independent of the input order.
  const entries = normalized.hosts.map((host, i) => ({
    host,
    key: keyOf(host),
    weight: normalized.weights[i]!,
  }));
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.weight - b.weight));
  const bigSize = BigInt(size);
  const skip = new Float64Array(n);
  const slot = new Float64Array(n); // current preference (offset + skip * next) % size
  const target = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const key = entries[i]!.key;
    slot[i] = Number(xxHash64(key, 0) % bigSize);
    skip[i] = Number(xxHash64(key, 1) % (bigSize - 1n)) + 1;
  }
  const table = new Int32Array(size).fill(-1);
  const max = normalized.max;
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      // A host of weight max/k takes a slot every k rounds.
      if (round * entries[i]!.weight < target[i]!) continue;
      target[i]! += max;
      let c = slot[i]!;
      while (table[c] !== -1) c = (c + skip[i]!) % size;
      table[c] = i;
      slot[i] = (c + skip[i]!) % size;
      filled++;
    }
  }
  return new MaglevTable(
    entries.map((e) => e.host),
    table,
    size,
    random,
  );
}

class MaglevTable implements HashPicker {
  readonly hosts: readonly Host[];
  readonly table: Int32Array;
  private readonly random: RandomSource;
  private readonly modulus: Modulus64;
  /** `hosts[table[i]]`, so a pick is one index into the table. */
  private readonly slots: readonly Host[];

  constructor(hosts: readonly Host[], table: Int32Array, size: number, random: RandomSource) {
    this.hosts = hosts;
    this.table = table;
    this.random = random;
    this.modulus = modulus64(size);
    this.slots = Array.from(table, (i) => hosts[i]!);
  }

  pick(ctx?: PickContext): Host | undefined {
    return pickByHash(this, this.random, ctx);
  }

  pickHashed(hi: number, lo: number, attempt: number): Host | undefined {
    if (this.slots.length === 0) return undefined;
    if (attempt > 0) {
      // Envoy: hash ^= ~0 - attempt + 1, i.e. XOR with 2^64 - attempt, flipping most bits so
      // successive retries land far apart.
      // (attempt is a small retry count, so 2^64 - attempt = 0xffffffff : 2^32 - attempt.)
      hi = (hi ^ 0xffffffff) >>> 0;
      lo = (lo ^ (TWO_POW_32 - attempt)) >>> 0;
    }
    return this.slots[mod64With(hi, lo, this.modulus)];
  }
}

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
