/**
 * Fuzz tests of the trace-context parsers: seeded random header values (n = 20000 each, seed
 * fixed so a failure replays) never throw and never yield an id a peer would reject; formatted
 * contexts parse back to themselves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatB3Single, parseB3Multi, parseB3Single } from '../../src/telemetry/propagation/b3.ts';
import { extractTraceContext } from '../../src/telemetry/propagation/extract.ts';
import { isValidSpanId, isValidTraceId } from '../../src/telemetry/propagation/hex-ids.ts';
import { parseBaggage } from '../../src/telemetry/propagation/w3c-baggage.ts';
import {
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
} from '../../src/telemetry/propagation/w3c-trace-context.ts';
import { mulberry32 } from '../lb/mulberry32.ts';

const N = 20_000;
const ALPHABET = '0123456789abcdefABCDEF-=,;% \t@*/_x\u00e9';

function randomString(random: () => number, max: number): string {
  const length = Math.floor(random() * max);
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return s;
}

function hex(random: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += '0123456789abcdef'[Math.floor(random() * 16)];
  return s;
}

/** Mutates a valid header: one character replaced, inserted or removed. */
function mutate(random: () => number, value: string): string {
  const i = Math.floor(random() * (value.length + 1));
  const c = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
  const op = Math.floor(random() * 3);
  if (op === 0) return value.slice(0, i) + c + value.slice(i + 1);
  if (op === 1) return value.slice(0, i) + c + value.slice(i);
  return value.slice(0, i) + value.slice(i + 1);
}

describe('trace-context parsers under fuzzing', () => {
  it('random and mutated values never throw; anything accepted has valid ids', () => {
    const random = mulberry32(20260102);
    for (let n = 0; n < N; n++) {
      const valid = formatTraceparent(hex(random, 32), hex(random, 16), random() < 0.5);
      const inputs = [
        randomString(random, 80),
        mutate(random, valid),
        mutate(random, `${hex(random, 32)}-${hex(random, 16)}-1`),
      ];
      for (const value of inputs) {
        const tp = parseTraceparent(value);
        if (tp !== undefined) assert.ok(isValidTraceId(tp.traceId) && isValidSpanId(tp.spanId), value);
        const b3 = parseB3Single(value);
        if (b3?.traceId !== undefined)
          assert.ok(isValidTraceId(b3.traceId) && isValidSpanId(b3.spanId!), value);
        const multi = parseB3Multi((name) =>
          name === 'x-b3-traceid' ? value.slice(0, 32) : value.slice(-16),
        );
        if (multi?.traceId !== undefined) assert.ok(isValidTraceId(multi.traceId), value);
        parseTracestate(value);
        parseBaggage(value);
        extractTraceContext({ traceparent: value, b3: value, baggage: value, tracestate: value });
      }
    }
  });

  it('formatted contexts parse back to themselves', () => {
    const random = mulberry32(7);
    for (let n = 0; n < N; n++) {
      const traceId = hex(random, 32);
      const spanId = hex(random, 16);
      if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) continue;
      const sampled = random() < 0.5;
      const tp = parseTraceparent(formatTraceparent(traceId, spanId, sampled));
      assert.deepEqual(tp, { traceId, spanId, traceFlags: sampled ? 1 : 0, isRemote: true });
      const b3 = parseB3Single(formatB3Single(traceId, spanId, sampled, false, undefined));
      assert.deepEqual([b3?.traceId, b3?.spanId, b3?.sampled], [traceId, spanId, sampled]);
    }
  });
});
