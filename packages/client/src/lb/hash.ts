import xxhash from 'xxhash-wasm';
import { type RandomSource, randomUint32 } from './random-source.ts';

type XxHashApi = Awaited<ReturnType<typeof xxhash>>;

let api: XxHashApi | undefined;
let pending: Promise<void> | undefined;

/**
 * Loads the xxHash WebAssembly module once. Await it before building ring-hash or Maglev
 * tables; later calls return the same promise, so it is safe to call from every cluster build.
 */
export function initHash(): Promise<void> {
  pending ??= xxhash().then((loaded) => {
    api = loaded;
  });
  return pending;
}

/** Whether {@link initHash} has completed, so {@link xxHash64} can be called. */
export function isHashReady(): boolean {
  return api !== undefined;
}

/**
 * xxHash64 of the UTF-8 bytes of `input`, as Envoy's `HashUtil::xxHash64(input, seed)`
 * (source/common/common/hash.h: XXH64 with seed 0 unless given). Synchronous; throws if
 * {@link initHash} has not completed, because a silent fallback hash would break
 * consistency with Envoy sidecars hashing the same keys.
 */
export function xxHash64(input: string, seed: bigint | number = 0): bigint {
  if (api === undefined) {
    throw new Error('xxHash64 called before initHash() completed');
  }
  return api.h64(input, typeof seed === 'bigint' ? seed : BigInt(seed));
}

const TWO_POW_32 = 4294967296;

/**
 * Scratch output of {@link splitHash64}: `[high32, low32]`. Module-level so the request path
 * does not allocate; read it immediately after the call.
 */
export const hashWords: Uint32Array = new Uint32Array(2);

// Storing a bigint into a BigUint64Array is ToBigUint64 (modulo 2^64, as Envoy's uint64_t) and
// optimized code does it without allocating, unlike `&`, `>>` and Number() on bigints, which
// allocated three BigInts per request. The words are read back through a Uint32Array view.
const scratch64 = new BigUint64Array(1);
const scratch32 = new Uint32Array(scratch64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HIGH_WORD = LITTLE_ENDIAN ? 1 : 0;
const LOW_WORD = 1 - HIGH_WORD;

/**
 * Splits a 64-bit hash into two unsigned 32-bit words in {@link hashWords}, so the per-request
 * lookup compares plain numbers instead of BigInts. A number must be a non-negative safe
 * integer; a bigint is reduced modulo 2^64 as Envoy's uint64_t would be.
 */
export function splitHash64(hash: bigint | number): void {
  if (typeof hash === 'number') {
    hashWords[0] = Math.floor(hash / TWO_POW_32);
    hashWords[1] = hash >>> 0;
    return;
  }
  scratch64[0] = hash;
  hashWords[0] = scratch32[HIGH_WORD]!;
  hashWords[1] = scratch32[LOW_WORD]!;
}

/**
 * Writes a random uint64 into {@link hashWords}, for picks without a request hash (Envoy:
 * "If there is no hash in the context, just choose a random value"). Two 32-bit draws, because
 * one double carries only 53 random bits and `% 100` of such a value is biased.
 */
export function randomHash64(random: RandomSource): void {
  hashWords[0] = randomUint32(random);
  hashWords[1] = randomUint32(random);
}
