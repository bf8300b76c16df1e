/**
 * Trace and span ids (W3C Trace Context 3.2.2.3-4: lowercase hex, 16 and 8 bytes, not all zeros)
 * and the in-place check the parsers use.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HEX_INVALID,
  HEX_NONZERO,
  HEX_ZERO,
  hexRange,
  isValidSpanId,
  isValidTraceId,
  randomSpanId,
  randomTraceId,
} from '../../src/telemetry/propagation/hex-ids.ts';

describe('hex ids', () => {
  it('hexRange reads a range in place: invalid, all zeros, or valid', () => {
    const header = '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01';
    assert.equal(hexRange(header, 3, 35), HEX_NONZERO);
    assert.equal(hexRange(header, 36, 52), HEX_ZERO);
    assert.equal(hexRange(header, 2, 35), HEX_INVALID, 'the dash');
    assert.equal(hexRange('0AF7', 0, 4), HEX_INVALID, 'uppercase is not W3C hex');
    assert.equal(hexRange('0g', 0, 2), HEX_INVALID);
    assert.equal(hexRange('\u0660\u0661', 0, 2), HEX_INVALID, 'non-ASCII digits');
    assert.equal(isValidTraceId('0af7651916cd43dd8448eb211c80319c'), true);
    assert.equal(isValidTraceId('00000000000000000000000000000000'), false);
    assert.equal(isValidSpanId('b7ad6b7169203331'), true);
    assert.equal(isValidSpanId('b7ad6b716920333'), false, 'length');
  });

  it('n = 3000 of each (several pool refills): valid and distinct', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const t = randomTraceId();
      const s = randomSpanId();
      assert.ok(isValidTraceId(t), t);
      assert.ok(isValidSpanId(s), s);
      traces.add(t);
      spans.add(s);
    }
    assert.equal(traces.size, 3000);
    assert.equal(spans.size, 3000);
  });
});
