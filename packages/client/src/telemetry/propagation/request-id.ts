/**
 * The `x-request-id` Dabba sends when the request has none. Envoy's connection manager generates a
 * UUID version 4 when the request has none (`generate_request_id`, default true) and forwards the
 * request's own otherwise (`preserve_external_request_id` applies to edge requests; a sidecar's
 * outbound request keeps the one the application set). Envoy's UuidRequestIdConfig.
 *
 * Envoy then derives the tracing reason from the new id (request-id-sampling.ts): its first 8 hex
 * digits modulo 10000 against `random_sampling`, and a sampled id gets `9` at character 14 in
 * place of the version digit `4`. The generator fuses the two: it knows the mesh's rate, so it
 * formats each id with its mark already in place, a batch at a time, and the decision is read back
 * from character 14. Ids come from the CSPRNG (`randomFillSync`), as `crypto.randomUUID` draws them.
 */
import { randomFillSync } from 'node:crypto';

/** UUIDs formatted per refill: one CSPRNG call (about 2 us whatever its size) per 512 ids. */
const BATCH = 512;
const UUID_BYTES = 16;
const UUID_LENGTH = 36;
/** Character 14 of a UUID: the version digit, where Envoy packs the trace reason. */
export const TRACE_REASON_POSITION = 14;
const CHAR_4 = 0x34;
const CHAR_9 = 0x39;
const DASH = 0x2d;
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** The high and low hex digit of every byte. */
const HIGH = Uint8Array.from({ length: 256 }, (_, i) => HEX[i >> 4]!);
const LOW = Uint8Array.from({ length: 256 }, (_, i) => HEX[i & 0x0f]!);

export class RequestIdGenerator {
  readonly #samplingPerTenThousand: number;
  readonly #random = Buffer.allocUnsafe(BATCH * UUID_BYTES);
  readonly #ascii = Buffer.allocUnsafe(BATCH * UUID_LENGTH);
  #batch = '';
  #next = BATCH;

  /** `samplingPerTenThousand`: Envoy's `random_sampling` in ten-thousandths (0..10000). */
  constructor(samplingPerTenThousand: number) {
    this.#samplingPerTenThousand = samplingPerTenThousand;
  }

  /**
   * A fresh lowercase UUIDv4 as Envoy would forward it after its tracing decision: character 14
   * is `9` when `random_sampling` samples it (see {@link isSampledMark}), `4` otherwise.
   */
  next(): string {
    if (this.#next === BATCH) this.#refill();
    const start = this.#next++ * UUID_LENGTH;
    // A flat substring of the batch: no copy, nothing to flatten when the header is written.
    return this.#batch.slice(start, start + UUID_LENGTH);
  }

  /** Formats a batch: `xxxxxxxx-xxxx-Mxxx-Vxxx-xxxxxxxxxxxx` (RFC 9562 version 4 layout). */
  #refill(): void {
    const r = this.#random;
    const out = this.#ascii;
    const rate = this.#samplingPerTenThousand;
    randomFillSync(r);
    for (let u = 0, b = 0, o = 0; u < BATCH; u++, b += UUID_BYTES, o += UUID_LENGTH) {
      for (let i = 0; i < 4; i++) hexByte(out, o + 2 * i, r[b + i]!);
      out[o + 8] = DASH;
      hexByte(out, o + 9, r[b + 4]!);
      hexByte(out, o + 11, r[b + 5]!);
      out[o + 13] = DASH;
      // The version digit, or the sampled mark: the first 8 hex digits (4 bytes, big-endian, as
      // Envoy reads them with atoull) modulo 10000 against the rate.
      const first8 = ((r[b]! * 256 + r[b + 1]!) * 256 + r[b + 2]!) * 256 + r[b + 3]!;
      out[o + 14] = first8 % 10_000 < rate ? CHAR_9 : CHAR_4;
      out[o + 15] = LOW[r[b + 6]!]!;
      hexByte(out, o + 16, r[b + 7]!);
      out[o + 18] = DASH;
      // Variant bits 10: the digit is 8, 9, a or b.
      const v = r[b + 8]!;
      out[o + 19] = HEX[0x8 | ((v >> 4) & 0x3)]!;
      out[o + 20] = LOW[v]!;
      hexByte(out, o + 21, r[b + 9]!);
      out[o + 23] = DASH;
      for (let i = 10; i < UUID_BYTES; i++) hexByte(out, o + 24 + 2 * (i - 10), r[b + i]!);
    }
    this.#batch = out.toString('latin1');
    this.#next = 0;
  }
}

function hexByte(out: Buffer, at: number, byte: number): void {
  out[at] = HIGH[byte]!;
  out[at + 1] = LOW[byte]!;
}

/** Whether a generated id carries the sampled mark (`9` at character 14; `4` when not). */
export function isSampledMark(id: string): boolean {
  return id.charCodeAt(TRACE_REASON_POSITION) === CHAR_9;
}
