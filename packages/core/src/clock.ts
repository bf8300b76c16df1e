/**
 * Time, injected: the router's timeouts, backoff, fault delays and breakers read it, so tests can
 * run timing arithmetic without waiting. The system clock is the default everywhere.
 */

/** An armed timer; `cancel` is idempotent. */
export interface ClockTimer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (`performance.now()`): for durations and deadlines. */
  now(): number;
  /** Wall-clock milliseconds since the epoch (`Date.now()`): for timestamps and HTTP dates. */
  wallNow(): number;
  /**
   * Calls `callback` after `delayMs`. Unreferenced timers do not keep the process alive
   * (`unref`); `ref: true` does (a request waiting on it has no socket to do so).
   */
  setTimer(callback: () => void, delayMs: number, options?: { readonly ref?: boolean }): ClockTimer;
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The system clock: performance.now(), Date.now() and setTimeout, long delays in pieces. */
export const SYSTEM_CLOCK: Clock = Object.freeze({
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(callback: () => void, delayMs: number, options?: { readonly ref?: boolean }): ClockTimer {
    let handle: NodeJS.Timeout | undefined;
    const arm = (rest: number) => {
      const piece = Math.min(rest, MAX_TIMER_MS);
      handle = setTimeout(() => {
        if (rest > piece) arm(rest - piece);
        else {
          handle = undefined;
          callback();
        }
      }, piece);
      if (options?.ref !== true) handle.unref();
    };
    arm(Math.max(0, delayMs));
    return {
      cancel() {
        if (handle !== undefined) clearTimeout(handle);
        handle = undefined;
      },
    };
  },
});
