/**
 * The route timeout and per-try timeouts of one request on a single timer. Most requests end
 * before either deadline, and then pay one timer instead of two: the timer is armed for the
 * earlier deadline; a per-try deadline that no longer applies is left armed, and the timer finds
 * nothing due and re-arms for what is left.
 *
 * The base class of {@link RouterRequest}, so the deadlines cost no object of their own: the
 * router starts them, and is told when one passes (`routeTimedOut`, `perTryTimedOut`) and
 * decides what that means.
 */
import type { AttemptHandler } from './attempt-handler.ts';

export abstract class RouterDeadline {
  /** The route deadline (`performance.now()` ms); undefined without a route timeout or once stopped. */
  #deadline: number | undefined;
  /** The current attempt's per-try deadline; undefined when none is running. */
  #perTryDeadline: number | undefined;
  #perTryAttempt: AttemptHandler | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for. */
  #timerAt = 0;

  /** The route deadline passed. */
  protected abstract routeTimedOut(): void;
  /** The per-try deadline of `attempt` passed. */
  protected abstract perTryTimedOut(attempt: AttemptHandler): void;

  /**
   * Starts the route timer (`timeoutMs`, 0 = none); each attempt then starts its own through
   * {@link startTry} when `perTryTimeoutMs` is set. (The timeouts stay the router's: two fields
   * fewer on every request.)
   */
  protected startDeadlines(timeoutMs: number, perTryTimeoutMs: number): void {
    if (timeoutMs > 0) {
      this.#deadline = performance.now() + timeoutMs;
      // With a per-try timeout, the first attempt arms the timer for its earlier deadline.
      if (perTryTimeoutMs === 0) this.#arm(this.#deadline);
    }
  }

  /** ms left before the route deadline (0 once passed); undefined without a route timeout. */
  protected remainingMs(): number | undefined {
    return this.#deadline === undefined ? undefined : Math.max(0, this.#deadline - performance.now());
  }

  /** ms since the route timer of `timeoutMs` started; undefined without a route timeout. */
  protected elapsedMs(timeoutMs: number): number | undefined {
    return this.#deadline === undefined ? undefined : performance.now() - (this.#deadline - timeoutMs);
  }

  /** `attempt` was dispatched: its per-try deadline of `perTryTimeoutMs` starts (0 = none). */
  protected startTry(attempt: AttemptHandler, perTryTimeoutMs: number): void {
    if (perTryTimeoutMs === 0) return;
    this.#perTryDeadline = performance.now() + perTryTimeoutMs;
    this.#perTryAttempt = attempt;
    this.#arm(this.#perTryDeadline);
  }

  /** The per-try deadline no longer applies (the timer, if armed for it, re-arms when it fires). */
  protected clearPerTry(): void {
    this.#perTryDeadline = undefined;
    this.#perTryAttempt = undefined;
  }

  /** The request ended: no deadline applies any more. */
  protected stopDeadlines(): void {
    this.clearPerTry();
    this.#deadline = undefined;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Makes the timer fire by `at` (a `performance.now()` time); an earlier arming stands. */
  #arm(at: number): void {
    if (this.#timer !== undefined) {
      if (this.#timerAt <= at) return;
      clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = setTimeout(RouterDeadline.#onTimer, Math.max(0, at - performance.now()), this);
    this.#timer.unref();
  }

  /**
   * The timer reached the deadline it was armed for. Deadlines are compared with that, not with
   * the clock, which Node's millisecond timers may leave a fraction short. The route deadline
   * wins a tie: a retry after it could not run anyway.
   */
  static #onTimer(d: RouterDeadline): void {
    d.#timer = undefined;
    const at = d.#timerAt;
    if (d.#deadline !== undefined && d.#deadline <= at) {
      d.routeTimedOut();
      return;
    }
    const perTry = d.#perTryDeadline;
    if (perTry !== undefined && perTry <= at) {
      const attempt = d.#perTryAttempt!;
      d.clearPerTry();
      d.perTryTimedOut(attempt);
    }
    // Whatever is still ahead: the route deadline, or a later attempt's per-try deadline (none
    // once the request ended: stopDeadlines() cleared both).
    const next =
      d.#perTryDeadline === undefined
        ? d.#deadline
        : d.#deadline === undefined
          ? d.#perTryDeadline
          : Math.min(d.#deadline, d.#perTryDeadline);
    if (next !== undefined && d.#timer === undefined) d.#arm(next);
  }
}
