/**
 * An injected fault delay for one request (Envoy's fault filter holding decodeHeaders on a
 * timer: source/extensions/filters/http/fault/fault_filter.cc, `delay_timer_`).
 *
 * Sits between the caller's handler and whatever serves the request after the delay (the
 * router, or the local reply of an abort). The caller sees one `onRequestStart`, given when the
 * delay starts, with this object as its controller: `abort()` during the delay clears the timer
 * and ends the request with `onResponseError(reason)` (nothing was sent upstream); after the
 * delay every controller call goes to the inner request, whose `onRequestStart` is not repeated.
 *
 * The timer is referenced on purpose (as the router's backoff timer): during the delay no socket
 * is open yet, so an unref'd timer would let a script awaiting this request exit before it is
 * answered. As in Envoy, nothing downstream of the fault filter runs during the delay, so the
 * router's route timeout starts when the delay ends.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle, TimerOptions } from '@dabba/core';
import type { Dispatcher } from 'undici';
import type { MeshLifecycle, MeshWaiter } from './mesh-lifecycle.ts';

/** What runs once the delay is over, with this wrapper as its handler. */
export type AfterDelay = (handler: FaultDelay) => void;

/** Referenced on purpose: during the delay no socket is open to keep the process alive. */
const KEEP_ALIVE: TimerOptions = Object.freeze({ ref: true });

export class FaultDelay implements Dispatcher.DispatchController, Dispatcher.DispatchHandler, MeshWaiter {
  readonly #caller: Dispatcher.DispatchHandler;
  /** The mesh's lifecycle: close() waits for the delay, destroy() ends it. */
  readonly #lifecycle: MeshLifecycle | undefined;
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  #next: AfterDelay | undefined;
  /** The controller of the request that runs after the delay. */
  #inner: Dispatcher.DispatchController | undefined;
  /** The delay ended (or the request was aborted during it). */
  #settled = false;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  #cancelled: ((delay: FaultDelay, reason: Error) => void) | undefined;

  constructor(caller: Dispatcher.DispatchHandler, clock: Clock, lifecycle?: MeshLifecycle) {
    this.#caller = caller;
    this.#clock = clock;
    this.#lifecycle = lifecycle;
  }

  /**
   * Starts the request for the caller, then runs `next` after `delayMs` unless aborted first;
   * `cancelled` hears an abort during the delay, before the caller's error.
   */
  start(delayMs: number, next: AfterDelay, cancelled?: (delay: FaultDelay, reason: Error) => void): void {
    this.#cancelled = cancelled;
    this.#caller.onRequestStart?.(this, {});
    // An already-aborted signal aborts inside onRequestStart.
    if (this.#settled) return;
    this.#lifecycle?.requestStarted();
    this.#lifecycle?.waiting(this);
    this.#next = next;
    this.#timer = this.#clock.schedule(FaultDelay.#onDelayEnd, delayMs, this, KEEP_ALIVE);
  }

  static #onDelayEnd(self: FaultDelay): void {
    self.#timer = undefined;
    const next = self.#next!;
    self.#next = undefined;
    if (self.#settled) return;
    const lifecycle = self.#lifecycle;
    lifecycle?.notWaiting(self);
    self.#settled = true;
    try {
      next(self); // the request routed afresh registers itself before this delay lets go
    } finally {
      lifecycle?.requestEnded();
    }
  }

  // --- the caller's controller ---

  get aborted(): boolean {
    return this.#aborted || this.#inner?.aborted === true;
  }
  get paused(): boolean {
    return this.#inner?.paused ?? this.#paused;
  }
  get reason(): Error | null {
    return this.#inner?.reason ?? this.#reason;
  }
  get rawHeaders(): NonNullable<Dispatcher.DispatchController['rawHeaders']> | null {
    return this.#inner?.rawHeaders ?? null;
  }
  get rawTrailers(): NonNullable<Dispatcher.DispatchController['rawTrailers']> | null {
    return this.#inner?.rawTrailers ?? null;
  }

  abort(reason: Error): void {
    if (this.#inner !== undefined) {
      this.#inner.abort(reason);
      return;
    }
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    if (this.#settled) return; // the inner request has not started yet: it sees `aborted`
    this.#settled = true;
    if (this.#timer !== undefined) {
      this.#clock.cancel(this.#timer);
      this.#timer = undefined;
      this.#lifecycle?.notWaiting(this);
      this.#lifecycle?.requestEnded();
    }
    this.#cancelled?.(this, reason);
    this.#caller.onResponseError?.(this, reason);
  }

  /** @internal The mesh was destroyed during the delay. */
  meshDestroyed(err: Error): void {
    this.abort(err);
  }

  pause(): void {
    this.#paused = true;
    this.#inner?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#inner?.resume();
  }

  // --- the inner request's handler: everything but onRequestStart goes to the caller ---

  onRequestStart(controller: Dispatcher.DispatchController, _context: unknown): void {
    this.#inner = controller;
    if (this.#aborted) controller.abort(this.#reason ?? new Error('aborted'));
    else if (this.#paused) controller.pause();
  }

  onRequestUpgrade(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.#caller.onRequestUpgrade?.(this, statusCode, headers, socket);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.#caller.onResponseStart?.(this, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#caller.onResponseData?.(this, chunk);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#caller.onResponseEnd?.(this, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    this.#caller.onResponseError?.(this, error);
  }
}
