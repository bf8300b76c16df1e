/**
 * The route timeout and the per-try timeouts as the router runs them (dispatch/router-deadline.ts)
 * on a manual clock: exact arithmetic, no waiting. Envoy's router: the route timeout is global
 * and covers every attempt and backoff ("if the request timeout is set to 3s, and the first
 * request attempt takes 2.7s, the retry (including back-off) has .3s to complete"), a per-try
 * timeout is armed per attempt, and a per_try_timeout not below the route timeout is ignored
 * (router.cc FilterUtility::finalTimeout). test/e2e/timeout-timer.test.ts proves the same on
 * real sockets and real timers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '@dabba/core';
import type { AttemptHandler } from '../../src/dispatch/attempt-handler.ts';
import {
  clearPerTry,
  type DeadlineState,
  elapsedMs,
  remainingMs,
  startDeadlines,
  startTry,
  stopDeadlines,
} from '../../src/dispatch/router-deadline.ts';
import { effectivePerTryTimeoutMs } from '../../src/resilience/request-deadline.ts';

// router.cc FilterUtility::finalTimeout: "See if there is a per try/retry timeout. If it's >= global
// we just ignore it." (only when the global timeout is non-zero).
test('a per_try_timeout not below the route timeout is ignored', () => {
  assert.equal(effectivePerTryTimeoutMs(1000, 250), 250);
  assert.equal(effectivePerTryTimeoutMs(1000, 1000), 0);
  assert.equal(effectivePerTryTimeoutMs(1000, 5000), 0);
  // Route timeout 0 (disabled, Istio's default): the per-try timeout stands alone.
  assert.equal(effectivePerTryTimeoutMs(0, 5000), 5000);
});

/** A router reduced to its deadlines: every timeout is logged with the time it fired. */
function router(clock: ManualClock, retryOnPerTry: number) {
  const events: string[] = [];
  let tries = 0;
  const attempt = () => ({ n: ++tries }) as unknown as AttemptHandler;
  const s: DeadlineState & { events: string[]; perTryMs: number; done: boolean } = {
    clock,
    events,
    perTryMs: 0,
    done: false,
    deadlineAt: undefined,
    perTryDeadlineAt: undefined,
    perTryAttempt: undefined,
    deadlineTimer: undefined,
    deadlineTimerAt: 0,
    routeTimedOut() {
      events.push(`route@${clock.now()}`);
      s.done = true;
      stopDeadlines(s);
    },
    perTryTimedOut(a) {
      const n = (a as unknown as { n: number }).n;
      events.push(`try${n}@${clock.now()}`);
      // Retried at once while retries are left (backoff 0), else the per-try timeout is final.
      if (n <= retryOnPerTry) startTry(s, attempt(), s.perTryMs);
      else {
        s.done = true;
        stopDeadlines(s);
      }
    },
  };
  return { s, attempt };
}

describe('router deadlines on one timer (table)', () => {
  const rows: {
    name: string;
    routeMs: number;
    perTryMs: number;
    retries: number;
    events: string[];
  }[] = [
    { name: 'route timeout only', routeMs: 3000, perTryMs: 0, retries: 0, events: ['route@3000'] },
    {
      name: 'per-try timeouts retry until the route timeout ends the request (a tie goes to the route)',
      routeMs: 300,
      perTryMs: 100,
      retries: 5,
      events: ['try1@100', 'try2@200', 'route@300'],
    },
    {
      name: 'without a route timeout each try has its own deadline; the last one is final',
      routeMs: 0,
      perTryMs: 100,
      retries: 2,
      events: ['try1@100', 'try2@200', 'try3@300'],
    },
    {
      name: 'regression: a retry started as a per-try timeout fires keeps the route deadline (it fired at the retry’s per-try deadline, 150 ms late)',
      routeMs: 250,
      perTryMs: 200,
      retries: 5,
      events: ['try1@200', 'route@250'],
    },
    {
      name: 'durations past the Node timer limit: 600h route, 700h per try ignored as not below it',
      routeMs: 600 * 3_600_000,
      perTryMs: effectivePerTryTimeoutMs(600 * 3_600_000, 700 * 3_600_000),
      retries: 1,
      events: [`route@${600 * 3_600_000}`],
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const clock = new ManualClock(0);
      const { s, attempt } = router(clock, row.retries);
      s.perTryMs = row.perTryMs;
      startDeadlines(s, row.routeMs, row.perTryMs);
      startTry(s, attempt(), row.perTryMs);
      for (let t = 0; t < 1000 && !s.done; t++) clock.advance(Math.max(1, row.routeMs || 100));
      assert.deepEqual(s.events, row.events);
      assert.equal(clock.pending, 0, 'no timer left armed');
    });
  }
});

describe('router deadlines: what is left, and what stops', () => {
  test("the docs' example: the first attempt took 2.7 s, the retry has 300 ms", () => {
    const clock = new ManualClock(0);
    const { s, attempt } = router(clock, 0);
    startDeadlines(s, 3000, 0);
    startTry(s, attempt(), 0);
    clock.advance(2700);
    assert.equal(remainingMs(s), 300);
    assert.equal(elapsedMs(s, 3000), 2700);
    clock.advance(299);
    assert.deepEqual(s.events, []);
    clock.advance(1);
    assert.deepEqual(s.events, ['route@3000']);
    assert.equal(remainingMs(s), undefined, 'stopped with the request');
  });

  test('one timer for both deadlines; a per-try deadline that no longer applies fires nothing', () => {
    const clock = new ManualClock(0);
    const { s, attempt } = router(clock, 5);
    startDeadlines(s, 1000, 100);
    startTry(s, attempt(), 100);
    assert.equal(clock.pending, 1, 'armed once, for the earlier deadline');
    clock.advance(50);
    clearPerTry(s); // the response started: the per-try timeout no longer applies
    clock.advance(50);
    assert.deepEqual(s.events, [], 'nothing due at 100 ms');
    assert.equal(clock.pending, 1, 're-armed for the route deadline');
    clock.advance(900);
    assert.deepEqual(s.events, ['route@1000']);
  });

  test('stopping disarms everything', () => {
    const clock = new ManualClock(0);
    const { s, attempt } = router(clock, 5);
    startDeadlines(s, 1000, 100);
    startTry(s, attempt(), 100);
    stopDeadlines(s);
    assert.equal(clock.pending, 0);
    clock.advance(5000);
    assert.deepEqual(s.events, []);
  });
});
