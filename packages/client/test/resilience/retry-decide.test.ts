import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AttemptOutcome,
  decideRetry,
  type RetryContext,
  type RetryDecision,
} from '../../src/resilience/decide-retry.ts';
import type { CompiledRetryPolicy } from '../../src/resilience/retry-policy.ts';
import { compiledRetryPolicy as policy } from './retry-policy-fixture.ts';

// Every expectation below is Envoy's: router filter docs ("x-envoy-retry-on",
// "x-envoy-retry-grpc-on") and source/common/router/retry_state_impl.cc (wouldRetryFromHeaders,
// wouldRetryFromReset, shouldRetry), router.cc (maybeRetryReset, onUpstreamHeaders).

function response(status: number, headers: Record<string, string | string[]> = {}): AttemptOutcome {
  return { kind: 'response', status, headers: (n) => headers[n] };
}
const CONNECT_FAILURE: AttemptOutcome = { kind: 'connect-failure' };
const RESET: AttemptOutcome = { kind: 'reset-before-response' };
const REFUSED: AttemptOutcome = { kind: 'refused-stream' };
const PER_TRY_TIMEOUT: AttemptOutcome = { kind: 'per-try-timeout' };
const OVERFLOW: AttemptOutcome = { kind: 'overflow' };

/** A random source whose uint32 draw is `n`: Envoy's backoff is `draw % ceiling`. */
function draw(n: number): () => number {
  return () => n / 2 ** 32;
}

const base: RetryContext = {
  random: () => 0.5,
  bodyReplayable: true,
  retryAdmitted: true,
  requestStarted: true,
};

function retries(p: CompiledRetryPolicy, o: AttemptOutcome, ctx: Partial<RetryContext> = {}): boolean {
  return decideRetry(p, o, 1, { ...base, ...ctx }).retry;
}

// [retry_on, outcome, retried?, source]
const table: [string, string, AttemptOutcome, boolean][] = [
  // 5xx: "any 5xx response code, or does not respond at all (disconnect/reset/read timeout).
  // (Includes connect-failure and refused-stream)"
  ['5xx', '500', response(500), true],
  ['5xx', '599', response(599), true],
  ['5xx', '499 is not 5xx', response(499), false],
  ['5xx', '200', response(200), false],
  ['5xx', 'reset', RESET, true],
  ['5xx', 'connect failure', CONNECT_FAILURE, true],
  ['5xx', 'refused stream', REFUSED, true],
  ['5xx', 'per-try timeout (a LocalReset)', PER_TRY_TIMEOUT, true],
  ['5xx', 'overflow is never retried', OVERFLOW, false],
  // gateway-error: "only retry requests that result in a 502, 503, or 504" (+ resets, as 5xx)
  ['gateway-error', '502', response(502), true],
  ['gateway-error', '503', response(503), true],
  ['gateway-error', '504', response(504), true],
  ['gateway-error', '500', response(500), false],
  ['gateway-error', 'reset', RESET, true],
  ['gateway-error', 'connect failure', CONNECT_FAILURE, true],
  ['gateway-error', 'per-try timeout', PER_TRY_TIMEOUT, true],
  // reset: "if the upstream server does not respond at all (disconnect/reset/read timeout.)"
  ['reset', 'reset', RESET, true],
  ['reset', 'connect failure', CONNECT_FAILURE, true],
  ['reset', 'per-try timeout', PER_TRY_TIMEOUT, true],
  ['reset', 'refused stream', REFUSED, true],
  ['reset', '503 response', response(503), false],
  ['reset', 'overflow', OVERFLOW, false],
  // connect-failure: "a connection failure to the upstream server (connect timeout, etc.)"
  ['connect-failure', 'connect failure', CONNECT_FAILURE, true],
  ['connect-failure', 'reset', RESET, false],
  ['connect-failure', 'per-try timeout is not a connect failure', PER_TRY_TIMEOUT, false],
  ['connect-failure', '503', response(503), false],
  // refused-stream: "resets the stream with a REFUSED_STREAM error code"
  ['refused-stream', 'refused stream', REFUSED, true],
  ['refused-stream', 'other reset', RESET, false],
  ['refused-stream', 'connect failure', CONNECT_FAILURE, false],
  // retriable-4xx: "Currently, the only response code in this category is 409."
  ['retriable-4xx', '409', response(409), true],
  ['retriable-4xx', '429', response(429), false],
  ['retriable-4xx', '503', response(503), false],
  // envoy-ratelimited: "retry if the header x-envoy-ratelimited is present"
  ['envoy-ratelimited', '429 + x-envoy-ratelimited', response(429, { 'x-envoy-ratelimited': 'true' }), true],
  ['envoy-ratelimited', '429 without the header', response(429), false],
  [
    '5xx',
    '503 + x-envoy-ratelimited is never retried without envoy-ratelimited',
    response(503, { 'x-envoy-ratelimited': 'true' }),
    false,
  ],
  // retriable-status-codes with an empty list (Istio's default) retries nothing by status.
  ['retriable-status-codes', '503 with no codes listed', response(503), false],
  // http3-post-connect-failure: only after an HTTP/3 connection; Dabba has none.
  ['http3-post-connect-failure', 'reset', RESET, false],
  // x-envoy-retry-grpc-on: the gRPC status "in the response headers"
  ['cancelled', 'grpc-status 1', response(200, { 'grpc-status': '1' }), true],
  ['cancelled', 'grpc-status 14', response(200, { 'grpc-status': '14' }), false],
  ['deadline-exceeded', 'grpc-status 4', response(200, { 'grpc-status': '4' }), true],
  ['deadline-exceeded', 'grpc-status 0', response(200, { 'grpc-status': '0' }), false],
  ['internal', 'grpc-status 13', response(200, { 'grpc-status': '13' }), true],
  ['internal', 'grpc-status 2', response(200, { 'grpc-status': '2' }), false],
  ['resource-exhausted', 'grpc-status 8', response(200, { 'grpc-status': '8' }), true],
  ['resource-exhausted', 'grpc-status 14', response(200, { 'grpc-status': '14' }), false],
  ['unavailable', 'grpc-status 14', response(200, { 'grpc-status': '14' }), true],
  ['unavailable', 'no grpc-status', response(200), false],
  ['unavailable', 'unparsable grpc-status', response(200, { 'grpc-status': 'x14' }), false],
  ['unavailable', 'reset is not unavailable', RESET, false],
  ['unavailable', '503 without grpc-status', response(503), false],
];

for (const [retryOn, what, outcome, want] of table) {
  test(`retry_on ${retryOn}: ${what} -> ${want ? 'retry' : 'no retry'}`, () => {
    assert.equal(retries(policy({ retryOn }), outcome), want);
  });
}

// retriable-status-codes: "any response code matching one defined in ... retriable_status_codes"
test('retriable-status-codes retries exactly the listed codes', () => {
  const p = policy({ retryOn: 'retriable-status-codes', retriableStatusCodes: [418, 503] });
  assert.equal(retries(p, response(418)), true);
  assert.equal(retries(p, response(503)), true);
  assert.equal(retries(p, response(502)), false);
  // Listed codes count only under the retriable-status-codes condition.
  assert.equal(retries(policy({ retryOn: '5xx', retriableStatusCodes: [418] }), response(418)), false);
});

// wouldRetryFromHeaders: 425 (Too Early) is retried at once, without backoff, unless the request
// itself arrived as early data.
test('retriable-status-codes 425 retries immediately, not when the request was early data', () => {
  const p = policy({ retryOn: 'retriable-status-codes', retriableStatusCodes: [425] });
  assert.deepEqual(decideRetry(p, response(425), 1, base), {
    retry: true,
    backoffMs: 0,
    backoff: 'immediate',
  });
  assert.equal(retries(p, response(425), { earlyDataRequest: true }), false);
});

// retriable-headers: "response includes any headers matching ... retriable_headers"
test('retriable-headers matches response headers with HeaderMatcher semantics', () => {
  const p = policy({
    retryOn: 'retriable-headers',
    retriableHeaders: [
      { name: 'X-Upstream-Retry', presentMatch: true },
      { name: ':status', stringMatch: { exact: '418' } },
      { name: 'x-multi', stringMatch: { exact: 'a,b' } },
    ],
  });
  assert.equal(retries(p, response(200, { 'x-upstream-retry': '1' })), true);
  assert.equal(retries(p, response(418)), true, ':status is matchable');
  assert.equal(retries(p, response(200, { 'x-multi': ['a', 'b'] })), true, 'values joined with ,');
  assert.equal(retries(p, response(200, { 'x-other': '1' })), false);
  // The matchers are consulted only under retriable-headers.
  const q = policy({ retryOn: '5xx', retriableHeaders: [{ name: 'x-upstream-retry', presentMatch: true }] });
  assert.equal(retries(q, response(200, { 'x-upstream-retry': '1' })), false);
});

// reset-before-request: retried only while no request byte has been sent upstream, on this or an
// earlier attempt (router.cc: upstream_request_started_ |= first_upstream_tx_byte_sent_).
test('reset-before-request retries only resets before any request byte went upstream', () => {
  const p = policy({ retryOn: 'reset-before-request' });
  assert.equal(retries(p, RESET, { requestStarted: false }), true);
  assert.equal(retries(p, CONNECT_FAILURE, { requestStarted: false }), true);
  assert.equal(retries(p, RESET, { requestStarted: true }), false);
  assert.equal(retries(p, PER_TRY_TIMEOUT, { requestStarted: true }), false);
  assert.equal(retries(p, OVERFLOW, { requestStarted: false }), false);
  assert.equal(retries(p, response(503), { requestStarted: false }), false);
});

// router.cc maybeRetryReset / onUpstreamHeaders: nothing is retried once the downstream response
// started; the router buffer overflow drops the retry state.
test('preconditions: response started, body not replayable, no policy', () => {
  const p = policy({ retryOn: '5xx,reset' });
  const r = (o: AttemptOutcome, ctx: Partial<RetryContext> = {}): RetryDecision =>
    decideRetry(p, o, 1, { ...base, ...ctx });
  assert.deepEqual(r({ kind: 'reset-after-response-start' }), { retry: false, reason: 'response-started' });
  assert.deepEqual(r(response(503), { bodyReplayable: false }), {
    retry: false,
    reason: 'body-not-replayable',
  });
  assert.deepEqual(decideRetry(undefined, response(503), 1, base), { retry: false, reason: 'no-policy' });
  assert.deepEqual(decideRetry(policy({ retryOn: '' }), response(503), 1, base), {
    retry: false,
    reason: 'no-policy',
  });
  assert.deepEqual(r(response(200)), { retry: false, reason: 'not-retriable' });
});

// shouldRetry: "retries_remaining_ == 0 -> NoRetryLimitExceeded" (URX), then the retry resource
// (circuit breaker / budget) "canCreate() -> NoOverflow" (UO).
test('num_retries bounds the attempts: attempt n may retry while n - 1 < num_retries', () => {
  const p = policy({ retryOn: '5xx', numRetries: 2 });
  assert.equal(decideRetry(p, response(503), 1, base).retry, true);
  assert.equal(decideRetry(p, response(503), 2, base).retry, true);
  assert.deepEqual(decideRetry(p, response(503), 3, base), { retry: false, reason: 'retry-limit-exceeded' });
  // num_retries default 1: one retry, then URX.
  const d = policy({ retryOn: '5xx' });
  assert.equal(decideRetry(d, response(503), 1, base).retry, true);
  assert.deepEqual(decideRetry(d, response(503), 2, base), { retry: false, reason: 'retry-limit-exceeded' });
});

test('the retry limit is checked before the budget, and a refused budget is retry-overflow', () => {
  const p = policy({ retryOn: '5xx', numRetries: 1 });
  assert.deepEqual(decideRetry(p, response(503), 1, { ...base, retryAdmitted: false }), {
    retry: false,
    reason: 'retry-overflow',
  });
  assert.deepEqual(decideRetry(p, response(503), 2, { ...base, retryAdmitted: false }), {
    retry: false,
    reason: 'retry-limit-exceeded',
  });
  // A non-retriable outcome never reaches the limit or the budget.
  assert.deepEqual(decideRetry(p, response(200), 9, { ...base, retryAdmitted: false }), {
    retry: false,
    reason: 'not-retriable',
  });
});

// router.cc onResponseTimeout: "It's possible to timeout during a retry backoff delay" - Envoy
// arms the backoff even when it outlasts the route timeout; the global timeout then ends it (UT).
test('route deadline: a backoff longer than the time left is still scheduled; an expired deadline is final', () => {
  const p = policy({ retryOn: '5xx', retryBackOff: { baseInterval: '1s' } });
  const d = decideRetry(p, response(503), 1, { ...base, random: () => 0.999, remainingMs: 5 });
  assert.ok(d.retry && d.backoffMs > 5);
  assert.deepEqual(decideRetry(p, response(503), 1, { ...base, remainingMs: 0 }), {
    retry: false,
    reason: 'route-timeout',
  });
  assert.equal(decideRetry(p, response(503), 1, { ...base, remainingMs: undefined }).retry, true);
});

test('backoff: retry n draws from [0, ceiling(n)) with the injected random', () => {
  const p = policy({ retryOn: '5xx' });
  const at = (attempt: number, n: number) =>
    decideRetry(p, response(503), attempt, { ...base, random: draw(n) });
  // Default base 25 ms: ceilings 25, 50 (router docs: "the first retry will be delayed randomly by 0-24ms").
  assert.deepEqual(at(1, 25), { retry: true, backoffMs: 0, backoff: 'exponential' });
  assert.deepEqual(at(1, 24), { retry: true, backoffMs: 24, backoff: 'exponential' });
  const p3 = policy({ retryOn: '5xx', numRetries: 3 });
  const d = decideRetry(p3, response(503), 2, { ...base, random: draw(49) });
  assert.deepEqual(d, { retry: true, backoffMs: 49, backoff: 'exponential' });
  // Only exponential draws advance the sequence (a 425 immediate retry does not).
  // Without the count, attempt 3 would use ceiling 100 and give 99.
  assert.deepEqual(decideRetry(p3, response(503), 3, { ...base, random: draw(99) }), {
    retry: true,
    backoffMs: 99,
    backoff: 'exponential',
  });
  const e = decideRetry(p3, response(503), 3, { ...base, random: draw(99), exponentialBackoffs: 1 });
  assert.deepEqual(e, { retry: true, backoffMs: 49, backoff: 'exponential' });
});

// RetryPolicy.rate_limited_retry_back_off and backoff_strategy.cc JitteredLowerBoundBackOffStrategy:
// an interval from a reset header gives a backoff in [interval, 1.5 * interval).
test('rate-limited backoff uses the first parsable reset header within max_interval', () => {
  const p = policy({
    retryOn: 'envoy-ratelimited,5xx',
    rateLimitedRetryBackOff: {
      resetHeaders: [{ name: 'retry-after' }, { name: 'x-ratelimit-reset', format: 'UNIX_TIMESTAMP' }],
      maxInterval: '10s',
    },
  });
  const rl = { 'x-envoy-ratelimited': 'true' };
  const low = decideRetry(p, response(429, { ...rl, 'retry-after': '2' }), 1, { ...base, random: () => 0 });
  assert.deepEqual(low, { retry: true, backoffMs: 2000, backoff: 'rate-limited' });
  const high = decideRetry(p, response(429, { ...rl, 'retry-after': '2' }), 1, {
    ...base,
    random: draw(999),
  });
  assert.deepEqual(high, { retry: true, backoffMs: 2999, backoff: 'rate-limited' });
  // Over max_interval: discarded, the next header is tried (a Unix time 3 s ahead).
  const ts = decideRetry(p, response(429, { ...rl, 'retry-after': '60', 'x-ratelimit-reset': '1003' }), 1, {
    ...base,
    random: () => 0,
    wallClockMs: () => 1_000_500,
  });
  assert.deepEqual(ts, { retry: true, backoffMs: 3000, backoff: 'rate-limited' });
  // Nothing usable: the exponential backoff applies.
  const none = decideRetry(p, response(503, { 'retry-after': 'soon' }), 1, { ...base, random: () => 0 });
  assert.deepEqual(none, { retry: true, backoffMs: 0, backoff: 'exponential' });
});
