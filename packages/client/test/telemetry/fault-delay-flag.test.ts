/**
 * `DI` merged into a delayed request's response flags in Envoy's order: StreamInfo keeps every
 * flag set on the request and ResponseFlagUtils::toShortString writes them in its table's order
 * (LH, UH, UT, LR, UR, UF, UC, UO, NR, DI, FI, RL, ..., DC, URX, ...).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEnvoyResponseFlags } from '../../src/telemetry/istio-label-set.ts';
import { withFaultDelayFlag } from '../../src/telemetry/response-outcome.ts';

test('withFaultDelayFlag: DI in Envoy’s order among the flags the request ended with', () => {
  for (const [flags, expected] of [
    ['-', 'DI'],
    ['UF,URX', 'UF,DI,URX'],
    ['UH', 'UH,DI'],
    ['UO', 'UO,DI'],
    ['UT', 'UT,DI'],
    ['NR', 'NR,DI'],
    ['FI', 'DI,FI'],
    ['DC', 'DI,DC'],
    ['URX', 'DI,URX'],
    ['DI', 'DI'],
  ] as const) {
    const merged = withFaultDelayFlag(flags);
    assert.equal(merged, expected, flags);
    assert.ok(isEnvoyResponseFlags(merged), merged);
    // Interned: the same string for the same flags, so the label set lookup stays a map hit.
    assert.equal(withFaultDelayFlag(flags), merged);
  }
});
