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

/** UUIDs formatted per refill: one CSPRNG call and one string per batch. */
const BATCH = 128;
const UUID_BYTES = 16;
const UUID_LENGTH = 36;
/** Character 14 of a UUID: the version digit, where Envoy packs the trace reason. */
export const TRACE_REASON_POSITION = 14;
const CHAR_9 = 0x39;
const CHAR_DASH = 0x2d;
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

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

  #refill(): void {
    const random = this.#random;
    const out = this.#ascii;
    randomFillSync(random);
    const rate = this.#samplingPerTenThousand;
    for (let u = 0; u < BATCH; u++) {
      const b = u * UUID_BYTES;
      let o = u * UUID_LENGTH;
      for (let i = 0; i < UUID_BYTES; i++) {
        if (i === 4 || i === 6 || i === 8 || i === 10) out[o++] = CHAR_DASH;
        let byte = random[b + i]!;
        // RFC 9562 version 4: version nibble 4, variant bits 10.
        if (i === 6) byte = (byte & 0x0f) | 0x40;
        else if (i === 8) byte = (byte & 0x3f) | 0x80;
        out[o++] = HEX[byte >> 4]!;
        out[o++] = HEX[byte & 0x0f]!;
      }
      // The first 8 hex digits are the first 4 bytes, big-endian (Envoy reads them with atoull).
      if (random.readUInt32BE(b) % 10_000 < rate) out[u * UUID_LENGTH + TRACE_REASON_POSITION] = CHAR_9;
    }
    this.#batch = out.toString('latin1');
    this.#next = 0;
  }
}

/** Whether a generated id carries the sampled mark (`9` at character 14; `4` when not). */
export function isSampledMark(id: string): boolean {
  return id.charCodeAt(TRACE_REASON_POSITION) === CHAR_9;
}
