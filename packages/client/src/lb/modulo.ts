// Integer remainders in plain doubles for the request path. V8 compiles `%` on values that
// are not small integers (uint32 above 2^31, 64-bit hash parts) to a call into C fmod, which
// cost more than the rest of a pick; a division or a multiply by a reciprocal does not.

const TWO_POW_32 = 4294967296;

/**
 * `x mod m` for an integer `0 <= x < 2^32` and `1 <= m < 2^32`. Exact without a correction:
 * `x / m` can only round up to an integer k if it is within k * 2^-53 of it, but a remainder
 * j >= 1 keeps it j / m >= 1 / m away, which is more. A division is much cheaper than `%` on
 * values above 2^31.
 */
export function mod32(x: number, m: number): number {
  return x - Math.floor(x / m) * m;
}

/**
 * A modulus prepared for {@link mod64With}: `m`, `2^32 mod m` and `1 / m`. Build it once per
 * table, not per request.
 */
export interface Modulus64 {
  readonly m: number;
  readonly r32: number;
  readonly inverse: number;
}

/** Prepares `m` (an integer, `1 <= m < 2^26`) for {@link mod64With}. */
export function modulus64(m: number): Modulus64 {
  if (!Number.isInteger(m) || m < 1 || m >= 2 ** 26) throw new RangeError(`modulus out of range: ${m}`);
  return { m, r32: TWO_POW_32 % m, inverse: 1 / m };
}

/**
 * `(high * 2^32 + low) mod m` in plain doubles: `(high mod m) * (2^32 mod m) + low` is below
 * `m^2 + 2^32 < 2^53`, so exact, and is reduced by a multiply by `1 / m`; the quotient is then
 * off by at most one (relative error 2^-52 times at most 2^53 / m), which the two checks fix.
 */
export function mod64With(high: number, low: number, mod: Modulus64): number {
  const m = mod.m;
  const x = mod32(high, m) * mod.r32 + low;
  let r = x - Math.floor(x * mod.inverse) * m;
  if (r < 0) r += m;
  else if (r >= m) r -= m;
  return r;
}

/** `(high * 2^32 + low) mod m` for a one-off `m` (see {@link mod64With}). */
export function mod64(high: number, low: number, m: number): number {
  return mod64With(high, low, modulus64(m));
}
