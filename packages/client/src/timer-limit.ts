/**
 * Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay is replaced by 1 ms
 * with a warning (lib/internal/timers.js `TIMEOUT_MAX`). Envoy honours far longer durations
 * (a route timeout of 600h is a valid VirtualService), so a long delay is armed in pieces: the
 * first piece now, and the timer's callback arms the rest when it fires early.
 */

import { MAX_TIMER_MS } from '@dabba/core';

/** The longest delay one Node timer can hold, in ms (@dabba/core). */
export { MAX_TIMER_MS };

/** The part of `ms` one timer can wait now; the caller waits `ms - timerPiece(ms)` after it. */
export function timerPiece(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}
