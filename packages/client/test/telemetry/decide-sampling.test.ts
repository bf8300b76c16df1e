/**
 * Envoy's tracing decision: the caller's decision wins, B3 debug forces sampling, otherwise
 * `random_sampling` in ten-thousandths (Envoy HCM `tracing.random_sampling`; Istio's default 1%
 * from meshConfig.defaultConfig.tracing.sampling).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideSampling, sampleByRate } from '../../src/telemetry/tracing/decide-sampling.ts';
import { resolveTracingOptions } from '../../src/telemetry/tracing/tracing-options.ts';
import { mulberry32 } from '../lb/mulberry32.ts';

describe('decideSampling and sampleByRate', () => {
  const never = () => {
    throw new Error('random must not be drawn when the decision is given');
  };
  it("the parent's decision wins over the reason, both ways", () => {
    assert.equal(decideSampling(false, false, true), false);
    assert.equal(decideSampling(true, false, false), true);
  });
  it('B3 debug forces sampling', () => assert.equal(decideSampling(false, true, false), true));
  it('without a parent decision, the reason decides', () => {
    assert.equal(decideSampling(undefined, false, true), true);
    assert.equal(decideSampling(undefined, false, false), false);
  });
  it('0% and 100% draw nothing', () => {
    assert.equal(sampleByRate(0, never), false);
    assert.equal(sampleByRate(10_000, never), true);
  });
  it('1% (Istio default): n = 200000, within 5 standard deviations of 2000', () => {
    const random = mulberry32(7);
    let sampled = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) if (sampleByRate(100, random)) sampled++;
    const sd = Math.sqrt(n * 0.01 * 0.99);
    assert.ok(Math.abs(sampled - n * 0.01) < 5 * sd, `${sampled} sampled`);
  });
  it('counts in ten-thousandths: 0.01% samples a draw below 1/10000 only', () => {
    assert.equal(
      sampleByRate(1, () => 0.00009),
      true,
    );
    assert.equal(
      sampleByRate(1, () => 0.0001),
      false,
    );
  });
});

describe('resolveTracingOptions', () => {
  it("defaults: 1%, W3C + B3 multi, baggage and x-request-id on, Istio's span names", () => {
    const r = resolveTracingOptions({}, 's', []);
    assert.deepEqual(
      { ...r, tracerProvider: undefined },
      {
        samplingPerTenThousand: 100,
        w3c: true,
        b3: false,
        b3multi: true,
        baggage: true,
        requestId: true,
        tracerProvider: undefined,
        spanName: 'istio',
      },
    );
  });
  it('reports every bad value together', () => {
    const issues: { path: string }[] = [];
    resolveTracingOptions(
      {
        samplingPercent: -1,
        propagation: ['w3c', 'jaeger'],
        spanName: 'x',
        requestId: 'yes',
        extra: 1,
      } as unknown as Parameters<typeof resolveTracingOptions>[0],
      's',
      issues as never,
    );
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      'tracing.extra',
      'tracing.propagation[1]',
      'tracing.requestId',
      'tracing.samplingPercent',
      'tracing.spanName',
    ]);
  });
  it('enabled: false turns it off', () =>
    assert.equal(resolveTracingOptions({ enabled: false }, 's', []), undefined));
});
