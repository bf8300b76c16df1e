/**
 * Trace and span ids as W3C Trace Context and OpenTelemetry write them: lowercase hex, 32
 * characters for a trace id and 16 for a span id, never all zeros.
 *
 * The ids come from the operating system's CSPRNG (`randomFillSync`), read in batches. W3C Trace
 * Context asks only that a trace id be random and globally unique ("Considerations for trace-id
 * field generation"), and OpenTelemetry JS's RandomIdGenerator draws from `Math.random`; Dabba
 * keeps the cryptographic source so ids stay unguessable (an id in a `traceparent` is an
 * attacker-visible value, and `Math.random`'s state can be recovered from its outputs), and pays
 * for it once per batch instead of once per id.
 */
import { randomFillSync } from 'node:crypto';

const ZERO_TRACE_ID = '00000000000000000000000000000000';
const ZERO_SPAN_ID = '0000000000000000';

/** {@link hexRange}: a character is not lowercase hex. */
export const HEX_INVALID = -1;
/** {@link hexRange}: lowercase hex, all zeros (an invalid W3C id). */
export const HEX_ZERO = 0;
/** {@link hexRange}: lowercase hex with a non-zero digit. */
export const HEX_NONZERO = 1;

/**
 * Whether `value[start, end)` is lowercase hex (W3C: uppercase is invalid), and whether it is all
 * zeros, in one pass over the original string: ids are checked where they stand in their header,
 * before any slice (reading characters of a substring costs V8 several times more).
 */
export function hexRange(value: string, start: number, end: number): number {
  let any = 0;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return HEX_INVALID;
    any |= c - 48;
  }
  return any === 0 ? HEX_ZERO : HEX_NONZERO;
}

/** 0-9a-f only (W3C: "lowercase hex"; uppercase is invalid). */
export function isLowerHex(value: string, length: number): boolean {
  return value.length === length && hexRange(value, 0, length) !== HEX_INVALID;
}

export function isValidTraceId(id: string): boolean {
  return id.length === 32 && hexRange(id, 0, 32) === HEX_NONZERO;
}

export function isValidSpanId(id: string): boolean {
  return id.length === 16 && hexRange(id, 0, 16) === HEX_NONZERO;
}

// Random bytes come from a pooled buffer refilled in batches and hex-encoded once per batch: an
// id is then a slice of that string (a flat substring, no copy). A CSPRNG call costs about 2 us
// whatever its size, so the pool is large: 8 KiB is 341 requests' trace and span ids per refill
// (measured: 16 KiB is no faster per id, 64 KiB is slower).
const POOL_BYTES = 8192;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolHex = '';
let offset = POOL_BYTES * 2;

/** `chars` random hex digits, never all zeros (`zeros` is that many zeros). */
function randomHex(chars: number, zeros: string): string {
  for (;;) {
    if (offset + chars > poolHex.length) {
      randomFillSync(pool);
      poolHex = pool.toString('hex');
      offset = 0;
    }
    const at = offset;
    offset += chars;
    // Checked in the pool, before slicing: cheaper than comparing the slice.
    if (!poolHex.startsWith(zeros, at)) return poolHex.slice(at, at + chars);
  }
}

/** A random 128-bit trace id (never all zeros). */
export function randomTraceId(): string {
  return randomHex(32, ZERO_TRACE_ID);
}

/** A random 64-bit span id (never all zeros). */
export function randomSpanId(): string {
  return randomHex(16, ZERO_SPAN_ID);
}
