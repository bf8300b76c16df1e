import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attemptTimeout,
  effectivePerTryTimeoutMs,
  remainingMs,
  routeDeadlineMs,
  routeTimeoutExpired,
} from '../../src/resilience/request-deadline.ts';

// router.cc FilterUtility::finalTimeout: "See if there is a per try/retry timeout. If it's >= global
// we just ignore it." (only when the global timeout is non-zero).
test('a per_try_timeout not below the route timeout is ignored', () => {
  assert.equal(effectivePerTryTimeoutMs(1000, 250), 250);
  assert.equal(effectivePerTryTimeoutMs(1000, 1000), 0);
  assert.equal(effectivePerTryTimeoutMs(1000, 5000), 0);
  // Route timeout 0 (disabled, Istio's default): the per-try timeout stands alone.
  assert.equal(effectivePerTryTimeoutMs(0, 5000), 5000);
});

// RouteAction.timeout: 0 disables the route timeout.
test('route deadline: none when the timeout is 0; expiry and time left', () => {
  assert.equal(routeDeadlineMs(100, 0), undefined);
  assert.equal(remainingMs(undefined, 1e9), undefined);
  assert.equal(routeTimeoutExpired(undefined, 1e9), false);
  const d = routeDeadlineMs(100, 3000);
  assert.equal(d, 3100);
  assert.equal(remainingMs(d, 2800), 300);
  assert.equal(routeTimeoutExpired(d, 3099), false);
  assert.equal(routeTimeoutExpired(d, 3100), true);
  assert.equal(remainingMs(d, 4000), 0);
});

// Router docs: "if the request timeout is set to 3s, and the first request attempt takes 2.7s,
// the retry (including back-off) has .3s to complete."
test('the route timeout covers every attempt: the docs example leaves 300 ms to the retry', () => {
  const deadline = routeDeadlineMs(0, 3000);
  assert.deepEqual(attemptTimeout(0, deadline, 2700), { timeoutMs: 300, kind: 'route' });
  // With a 1 s per-try timeout the route timer is still the one that bounds the retry.
  assert.deepEqual(attemptTimeout(1000, deadline, 2700), { timeoutMs: 300, kind: 'route' });
});

test('the per-try timeout bounds an attempt while it is shorter than the time left', () => {
  const deadline = routeDeadlineMs(0, 3000);
  assert.deepEqual(attemptTimeout(1000, deadline, 0), { timeoutMs: 1000, kind: 'per-try' });
  // A tie goes to the route timeout: the request ends with UT, no retry could follow.
  assert.deepEqual(attemptTimeout(1000, deadline, 2000), { timeoutMs: 1000, kind: 'route' });
  assert.deepEqual(attemptTimeout(1000, undefined, 5), { timeoutMs: 1000, kind: 'per-try' });
  assert.deepEqual(attemptTimeout(0, undefined, 5), { timeoutMs: Number.POSITIVE_INFINITY, kind: 'none' });
});
