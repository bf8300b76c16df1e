/**
 * Time, injected: the router's timeouts and backoff, fault delays, mirrors and outlier detection
 * read it, so their arithmetic can be tested on a {@link ManualClock} without waiting. The
 * system clock is the default everywhere.
 *
 * Timers pass their state as an argument rather than closing over it: a request that arms one
 * allocates nothing more than Node's own timer.
 */

/** An armed timer, as returned by the clock that armed it; pass it back to `cancel`. */
export type TimerHandle = object;

export interface TimerOptions {
  /**
   * Keep the process alive while the timer is armed (default false: unreferenced). A request
   * waiting on a timer with no socket open (a backoff, a fault delay) needs it.
   */
  readonly ref?: boolean;
}

export interface Clock {
  /** Monotonic milliseconds (`performance.now()`): for durations and deadlines. */
  now(): number;
  /** Wall-clock milliseconds since the epoch (`Date.now()`): for timestamps and HTTP dates. */
  wallNow(): number;
  /**
   * Calls `callback(arg)` once, `delayMs` from now (at once for 0 or less), however long the
   * delay: the system clock waits out delays past Node's timer limit in pieces.
   */
  schedule<A>(callback: (arg: A) => void, delayMs: number, arg: A, options?: TimerOptions): TimerHandle;
  /** Disarms a timer this clock armed; a timer that fired or was cancelled is left alone. */
  cancel(timer: TimerHandle): void;
  /**
   * Starts an armed timer's whole delay again from now (an idle timeout seeing activity),
   * without arming a new one.
   */
  refresh(timer: TimerHandle): void;
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay longer than one Node timer holds, waited out in pieces. */
class LongTimer<A> {
  #timeout: NodeJS.Timeout | undefined;
  readonly #callback: (arg: A) => void;
  readonly #arg: A;
  readonly #ref: boolean;
  readonly #delayMs: number;

  constructor(callback: (arg: A) => void, arg: A, delayMs: number, ref: boolean) {
    this.#callback = callback;
    this.#arg = arg;
    this.#ref = ref;
    this.#delayMs = delayMs;
    this.#arm(delayMs);
  }

  #arm(rest: number): void {
    const piece = Math.min(rest, MAX_TIMER_MS);
    this.#timeout = setTimeout(LongTimer.#fire, piece, this, rest - piece);
    if (!this.#ref) this.#timeout.unref();
  }

  static #fire<A>(self: LongTimer<A>, rest: number): void {
    if (rest > 0) {
      self.#arm(rest);
      return;
    }
    self.#timeout = undefined;
    self.#callback(self.#arg);
  }

  cancel(): void {
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    this.#timeout = undefined;
  }

  refresh(): void {
    if (this.#timeout === undefined) return;
    clearTimeout(this.#timeout);
    this.#arm(this.#delayMs);
  }
}

/** The system clock: performance.now(), Date.now() and Node's timers, long delays in pieces. */
export const SYSTEM_CLOCK: Clock = Object.freeze({
  now: () => performance.now(),
  wallNow: () => Date.now(),
  schedule<A>(callback: (arg: A) => void, delayMs: number, arg: A, options?: TimerOptions): TimerHandle {
    const delay = Math.max(delayMs, 0);
    const ref = options?.ref === true;
    if (delay > MAX_TIMER_MS) return new LongTimer(callback, arg, delay, ref);
    const timeout = setTimeout(callback, delay, arg);
    if (!ref) timeout.unref();
    return timeout;
  },
  cancel(timer: TimerHandle): void {
    if (timer instanceof LongTimer) timer.cancel();
    else clearTimeout(timer as NodeJS.Timeout);
  },
  refresh(timer: TimerHandle): void {
    if (timer instanceof LongTimer) timer.refresh();
    else (timer as NodeJS.Timeout).refresh();
  },
});
