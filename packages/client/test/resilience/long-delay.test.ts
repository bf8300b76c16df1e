/**
 * A delay longer than one Node timer holds (2^31-1 ms) is armed in pieces by the system clock
 * and fires once, at its full length: Node's own timers would fire it after 1 ms. Mocked timers
 * advance the clock by days at once; the real-socket behaviour is pinned in
 * test/e2e/long-durations.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { MAX_TIMER_MS, SYSTEM_CLOCK } from '@dabba/core';
import type { Dispatcher } from 'undici';
import { FaultDelay } from '../../src/dispatch/fault-delay.ts';

const HOUR = 3_600_000;

describe('delays past the timer limit', () => {
  it('a 600h fault delay ends after 600h, not before, and only once', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const caller: Dispatcher.DispatchHandler = { onRequestStart() {} };
      const delay = new FaultDelay(caller, SYSTEM_CLOCK);
      let resumed = 0;
      delay.start(600 * HOUR, () => {
        resumed++;
      });
      mock.timers.tick(MAX_TIMER_MS); // Node would have fired here (as 1 ms)
      assert.equal(resumed, 0);
      mock.timers.tick(600 * HOUR - MAX_TIMER_MS - 1);
      assert.equal(resumed, 0);
      mock.timers.tick(1);
      assert.equal(resumed, 1);
      mock.timers.tick(1000 * HOUR);
      assert.equal(resumed, 1);
    } finally {
      mock.timers.reset();
    }
  });

  it('an abort in the second piece of a long delay cancels it', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let error: Error | undefined;
      const caller: Dispatcher.DispatchHandler = {
        onRequestStart() {},
        onResponseError(_c, e) {
          error = e;
        },
      };
      const delay = new FaultDelay(caller, SYSTEM_CLOCK);
      let resumed = 0;
      delay.start(100 * 24 * HOUR, () => {
        resumed++;
      });
      mock.timers.tick(MAX_TIMER_MS + 1000);
      delay.abort(new Error('stop'));
      mock.timers.tick(200 * 24 * HOUR);
      assert.equal(resumed, 0);
      assert.equal(error?.message, 'stop');
    } finally {
      mock.timers.reset();
    }
  });
});
