/**
 * The fault filter policy against Envoy's fault_filter.cc and filters/common/fault/fault_config.cc:
 * FractionalPercent draws, delay and abort independent, header-controlled faults only when
 * configured, gRPC aborts answered with HTTP 200.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema } from '@dabba/discovery';
import { decideFault, type FaultHeaderLookup } from '../../src/resilience/fault.ts';
import { mulberry32 } from '../lb/mulberry32.ts';
import { compileFault } from './fault-fixture.ts';

const HUNDRED = 0;
const MILLION = 2;

function compiled(init: MessageInitShape<typeof HTTPFaultSchema>) {
  const f = compileFault(anyPack(HTTPFaultSchema, create(HTTPFaultSchema, init)));
  assert.ok(f);
  return f;
}

const delay = (ms: number, numerator: number, denominator = MILLION) => ({
  percentage: { numerator, denominator },
  faultDelaySecifier: {
    case: 'fixedDelay' as const,
    value: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 },
  },
});
const abort503 = (numerator: number, denominator = MILLION) => ({
  percentage: { numerator, denominator },
  errorType: { case: 'httpStatus' as const, value: 503 },
});

/** Runs `n` decisions and counts delays and aborts. */
function tally(f: ReturnType<typeof compiled>, n: number, seed: number, headers?: FaultHeaderLookup) {
  const random = mulberry32(seed);
  let delays = 0;
  let aborts = 0;
  let both = 0;
  for (let i = 0; i < n; i++) {
    const d = decideFault(f, random, headers);
    if (d.delayMs !== undefined) delays++;
    if (d.abort !== undefined) aborts++;
    if (d.delayMs !== undefined && d.abort !== undefined) both++;
  }
  return { delays, aborts, both };
}

const N = 40_000;
// Binomial standard deviation at p = 0.5 over 40,000 draws is 0.25 percentage points; allow
// 1 percentage point (4 sigma at worst) so the seeded test is far from its edge.
const TOLERANCE = 0.01;

describe('compileFault', () => {
  it('no config, or neither delay nor abort: undefined (nothing can fire)', () => {
    assert.equal(compileFault(undefined), undefined);
    assert.equal(compileFault(anyPack(HTTPFaultSchema, create(HTTPFaultSchema))), undefined);
  });

  it('fixed delay truncated to whole ms; FractionalPercent denominators as integers', () => {
    const f = compiled({
      delay: {
        ...delay(0, 30, HUNDRED),
        faultDelaySecifier: { case: 'fixedDelay', value: { seconds: 1n, nanos: 999_999 } },
      },
      abort: abort503(5, 1),
    });
    assert.deepEqual(f.delay, { fixedDelayMs: 1000, percentage: { numerator: 30, denominator: 100 } });
    assert.deepEqual(f.abort, {
      httpStatus: 503,
      grpcStatus: undefined,
      fromHeaders: false,
      percentage: { numerator: 5, denominator: 10_000 },
    });
  });

  it('an absent percentage is 0 per hundred', () => {
    const f = compiled({ abort: { errorType: { case: 'httpStatus', value: 500 } } });
    assert.deepEqual(f.abort?.percentage, { numerator: 0, denominator: 100 });
  });
});

describe('decideFault percentages (random % denominator < numerator)', () => {
  const cases: { name: string; numerator: number; denominator: number; expected: number }[] = [
    { name: '10% per million', numerator: 100_000, denominator: MILLION, expected: 0.1 },
    { name: '50% per hundred', numerator: 50, denominator: HUNDRED, expected: 0.5 },
    { name: '0.5% per ten thousand', numerator: 50, denominator: 1, expected: 0.005 },
    { name: '99.9% per million', numerator: 999_000, denominator: MILLION, expected: 0.999 },
  ];
  for (const c of cases) {
    it(`delay ${c.name}: within ${TOLERANCE * 100} points of ${c.expected * 100}% over ${N} draws`, () => {
      const { delays } = tally(compiled({ delay: delay(100, c.numerator, c.denominator) }), N, 7);
      assert.ok(Math.abs(delays / N - c.expected) <= TOLERANCE, `${delays / N}`);
    });
    it(`abort ${c.name}: within ${TOLERANCE * 100} points of ${c.expected * 100}% over ${N} draws`, () => {
      const { aborts } = tally(compiled({ abort: abort503(c.numerator, c.denominator) }), N, 11);
      assert.ok(Math.abs(aborts / N - c.expected) <= TOLERANCE, `${aborts / N}`);
    });
  }

  it('0% never fires, 100% always fires', () => {
    assert.deepEqual(tally(compiled({ delay: delay(5, 0), abort: abort503(0) }), N, 1), {
      delays: 0,
      aborts: 0,
      both: 0,
    });
    assert.deepEqual(tally(compiled({ delay: delay(5, 1_000_000), abort: abort503(100, HUNDRED) }), N, 2), {
      delays: N,
      aborts: N,
      both: N,
    });
  });

  it('a numerator above the denominator is always on (Envoy does not clamp)', () => {
    assert.equal(tally(compiled({ abort: abort503(150, HUNDRED) }), 1000, 3).aborts, 1000);
  });

  it('delay and abort are independent draws: P(both) = P(delay) x P(abort)', () => {
    const { delays, aborts, both } = tally(
      compiled({ delay: delay(5, 500_000), abort: abort503(200_000) }),
      N,
      5,
    );
    assert.ok(Math.abs(delays / N - 0.5) <= TOLERANCE);
    assert.ok(Math.abs(aborts / N - 0.2) <= TOLERANCE);
    assert.ok(Math.abs(both / N - 0.1) <= TOLERANCE, `${both / N}`);
  });
});

describe('decideFault values', () => {
  const always = () => 0; // draws 0: every non-zero percentage fires

  it('fixed delay and HTTP abort', () => {
    assert.deepEqual(decideFault(compiled({ delay: delay(1500, 1), abort: abort503(1) }), always), {
      delayMs: 1500,
      abort: { httpStatus: 503 },
    });
  });

  it('a 0 ms delay is no delay (delayDuration requires > 0)', () => {
    assert.deepEqual(decideFault(compiled({ delay: delay(0, 1_000_000) }), always), {});
  });

  it('gRPC abort answers HTTP 200 with the grpc-status', () => {
    const f = compiled({
      abort: { percentage: { numerator: 100 }, errorType: { case: 'grpcStatus', value: 14 } },
    });
    assert.deepEqual(decideFault(f, always), { abort: { httpStatus: 200, grpcStatus: 14 } });
  });

  it('no fault config: nothing', () => {
    assert.deepEqual(decideFault(undefined, always), {});
  });
});

describe('header-controlled faults (only with header_delay / header_abort)', () => {
  const headers =
    (h: Record<string, string>): FaultHeaderLookup =>
    (name) =>
      h[name];
  const faultHeaders = headers({
    'x-envoy-fault-delay-request': '250',
    'x-envoy-fault-abort-request': '429',
  });
  const always = () => 0;

  it('a fixed config ignores x-envoy-fault-* headers', () => {
    const f = compiled({ delay: delay(10, 1_000_000), abort: abort503(1_000_000) });
    assert.deepEqual(decideFault(f, always, faultHeaders), { delayMs: 10, abort: { httpStatus: 503 } });
  });

  const headerFault = () =>
    compiled({
      delay: { percentage: { numerator: 100 }, faultDelaySecifier: { case: 'headerDelay', value: {} } },
      abort: { percentage: { numerator: 100 }, errorType: { case: 'headerAbort', value: {} } },
    });

  it('header_delay / header_abort take the values from the request', () => {
    assert.deepEqual(decideFault(headerFault(), always, faultHeaders), {
      delayMs: 250,
      abort: { httpStatus: 429 },
    });
  });

  it('without the headers (or with non-numbers, or an HTTP status outside [200, 600)) nothing fires', () => {
    assert.deepEqual(decideFault(headerFault(), always), {});
    assert.deepEqual(
      decideFault(
        headerFault(),
        always,
        headers({ 'x-envoy-fault-delay-request': 'soon', 'x-envoy-fault-abort-request': '700' }),
      ),
      {},
    );
  });

  it('x-envoy-fault-abort-grpc-request when no HTTP status header', () => {
    assert.deepEqual(
      decideFault(headerFault(), always, headers({ 'x-envoy-fault-abort-grpc-request': '8' })),
      {
        abort: { httpStatus: 200, grpcStatus: 8 },
      },
    );
  });

  it('the percentage headers can lower the configured percentage but never raise it', () => {
    const lowered = headers({
      'x-envoy-fault-abort-request': '503',
      'x-envoy-fault-abort-request-percentage': '10',
    });
    const { aborts } = tally(headerFault(), N, 9, lowered);
    assert.ok(Math.abs(aborts / N - 0.1) <= TOLERANCE, `${aborts / N}`);
    const half = compiled({
      abort: { percentage: { numerator: 50 }, errorType: { case: 'headerAbort', value: {} } },
    });
    const raised = headers({
      'x-envoy-fault-abort-request': '503',
      'x-envoy-fault-abort-request-percentage': '100',
    });
    const r = tally(half, N, 10, raised);
    assert.ok(Math.abs(r.aborts / N - 0.5) <= TOLERANCE, `${r.aborts / N}`);
  });
});
