/**
 * The route timeout and per-try timeouts of one request on a single timer. Most requests end
 * before either deadline, and then pay one timer instead of two: the timer is armed for the
 * earlier deadline; a per-try deadline that no longer applies is left armed, and the timer finds
 * nothing due and re-arms for what is left.
 *
 * The state lives on the router itself ({@link DeadlineState}) and these functions run it: a
 * separate object would cost every request with a timeout one more allocation, and a base class
 * (measured) about 12 ns more to construct every router. The router is told when a deadline
 * passes (`routeTimedOut`, `perTryTimedOut`) and decides what that means.
 */
import type { Clock, TimerHandle } from '@dabba/core';
import type { AttemptHandler } from './attempt-handler.ts';

/** The fields and callbacks of the router that the deadlines use. @internal */
export interface DeadlineState {
  /** The clock the deadlines are read on and the timer armed with. */
  readonly clock: Clock;
  /** The route deadline (`clock.now()` ms); undefined without a route timeout or once stopped. */
  deadlineAt: number | undefined;
  /** The current attempt's per-try deadline; undefined when none is running. */
  perTryDeadlineAt: number | undefined;
  perTryAttempt: AttemptHandler | undefined;
  deadlineTimer: TimerHandle | undefined;
  /** The deadline the timer is armed for. */
  deadlineTimerAt: number;
  /** The route deadline passed. */
  routeTimedOut(): void;
  /** The per-try deadline of `attempt` passed. */
  perTryTimedOut(attempt: AttemptHandler): void;
}

/**
 * Starts the route timer (`timeoutMs`, 0 = none). With a per-try timeout (`perTryTimeoutMs`),
 * the first attempt arms the timer for its earlier deadline through {@link startTry}.
 */
export function startDeadlines(s: DeadlineState, timeoutMs: number, perTryTimeoutMs: number): void {
  if (timeoutMs > 0) {
    s.deadlineAt = s.clock.now() + timeoutMs;
    if (perTryTimeoutMs === 0) arm(s, s.deadlineAt);
  }
}

/** ms left before the route deadline (0 once passed); undefined without a route timeout. */
export function remainingMs(s: DeadlineState): number | undefined {
  return s.deadlineAt === undefined ? undefined : Math.max(0, s.deadlineAt - s.clock.now());
}

/** ms since the route timer of `timeoutMs` started; undefined without a route timeout. */
export function elapsedMs(s: DeadlineState, timeoutMs: number): number | undefined {
  return s.deadlineAt === undefined ? undefined : s.clock.now() - (s.deadlineAt - timeoutMs);
}

/** `attempt` was dispatched: its per-try deadline of `perTryTimeoutMs` starts (0 = none). */
export function startTry(s: DeadlineState, attempt: AttemptHandler, perTryTimeoutMs: number): void {
  if (perTryTimeoutMs === 0) return;
  s.perTryDeadlineAt = s.clock.now() + perTryTimeoutMs;
  s.perTryAttempt = attempt;
  arm(s, s.perTryDeadlineAt);
}

/** The per-try deadline no longer applies (the timer, if armed for it, re-arms when it fires). */
export function clearPerTry(s: DeadlineState): void {
  s.perTryDeadlineAt = undefined;
  s.perTryAttempt = undefined;
}

/** The request ended: no deadline applies any more. */
export function stopDeadlines(s: DeadlineState): void {
  clearPerTry(s);
  s.deadlineAt = undefined;
  if (s.deadlineTimer !== undefined) {
    s.clock.cancel(s.deadlineTimer);
    s.deadlineTimer = undefined;
  }
}

/** Makes the timer fire by `at` (a `clock.now()` time); an earlier arming stands. */
function arm(s: DeadlineState, at: number): void {
  if (s.deadlineTimer !== undefined) {
    if (s.deadlineTimerAt <= at) return;
    s.clock.cancel(s.deadlineTimer);
  }
  s.deadlineTimerAt = at;
  // Unreferenced: the attempt's socket keeps the process alive; a backoff arms its own timer.
  s.deadlineTimer = s.clock.schedule(onTimer, at - s.clock.now(), s);
}

/**
 * The timer reached the deadline it was armed for. Deadlines are compared with that, not with
 * the clock, which Node's millisecond timers may leave a fraction short. The route deadline
 * wins a tie: a retry after it could not run anyway.
 */
function onTimer(s: DeadlineState): void {
  s.deadlineTimer = undefined;
  const at = s.deadlineTimerAt;
  if (s.deadlineAt !== undefined && s.deadlineAt <= at) {
    s.routeTimedOut();
    return;
  }
  const perTry = s.perTryDeadlineAt;
  if (perTry !== undefined && perTry <= at) {
    const attempt = s.perTryAttempt!;
    clearPerTry(s);
    s.perTryTimedOut(attempt);
  }
  // Whatever is still ahead: the route deadline, or a later attempt's per-try deadline (none
  // once the request ended: stopDeadlines() cleared both). A retry started from perTryTimedOut
  // may have armed the timer for its own per-try deadline already; arm() keeps the earlier.
  const next =
    s.perTryDeadlineAt === undefined
      ? s.deadlineAt
      : s.deadlineAt === undefined
        ? s.perTryDeadlineAt
        : Math.min(s.deadlineAt, s.perTryDeadlineAt);
  if (next !== undefined) arm(s, next);
}
