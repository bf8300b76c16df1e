/**
 * A clock that moves only when told to: `advance(ms)` runs every timer that falls due, in order
 * of due time (then of arming), each with `now()` at its due time. For tests of code that takes
 * a {@link Clock}, so that timing arithmetic is checked exactly and without waiting.
 */
import type { Clock, TimerHandle, TimerOptions } from './clock.ts';

interface ManualTimer {
  at: number;
  readonly delayMs: number;
  seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  #now: number;
  #wall: number;
  #seq = 0;
  readonly #timers: ManualTimer[] = [];

  /** Starts at monotonic time `start` and wall time `wallStart` (epoch milliseconds). */
  constructor(start = 0, wallStart = 1_700_000_000_000) {
    this.#now = start;
    this.#wall = wallStart;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#wall + this.#now;
  }

  schedule<A>(callback: (arg: A) => void, delayMs: number, arg: A, _options?: TimerOptions): TimerHandle {
    const delay = Math.max(delayMs, 0);
    const timer: ManualTimer = {
      at: this.#now + delay,
      delayMs: delay,
      seq: this.#seq++,
      run: () => callback(arg),
      cancelled: false,
    };
    this.#timers.push(timer);
    return timer;
  }

  cancel(timer: TimerHandle): void {
    (timer as ManualTimer).cancelled = true;
  }

  refresh(timer: TimerHandle): void {
    const t = timer as ManualTimer;
    if (t.cancelled) return;
    t.at = this.#now + t.delayMs;
    t.seq = this.#seq++;
  }

  /** Timers armed and not yet fired or cancelled. */
  get pending(): number {
    let n = 0;
    for (const t of this.#timers) if (!t.cancelled) n++;
    return n;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.#timers)
        if (
          !t.cancelled &&
          t.at <= end &&
          (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))
        )
          next = t;
      if (next === undefined) break;
      next.cancelled = true;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = next.at;
      next.run();
    }
    this.#now = end;
    for (let i = this.#timers.length - 1; i >= 0; i--)
      if (this.#timers[i]!.cancelled) this.#timers.splice(i, 1);
  }
}
