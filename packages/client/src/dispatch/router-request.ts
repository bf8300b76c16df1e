/**
 * Envoy's router filter for one request: route timeout, per-try timeouts, retries with backoff
 * on another host, and the one response the caller sees (source/common/router/router.cc, as
 * described by the router filter docs). The decisions are the pure policies in `resilience/`;
 * this file holds the mechanics: attempts, retries and the caller's controller.
 *
 * The caller's handler sees exactly one `onRequestStart`, with this object as its controller:
 * `abort()` cancels the attempt in flight, a backoff timer and the route timer, and ends the
 * request with `onResponseError(reason)`; `pause()`/`resume()` reach the attempt whose
 * response is being forwarded. Each attempt gets an {@link AttemptHandler}; callbacks of an
 * attempt the router gave up (for a retry, a timeout or an abort) are ignored.
 *
 * Semantics chosen where Envoy's cannot be copied exactly:
 * - The route timer starts when the request is dispatched (Envoy: when the downstream request
 *   is complete); the caller hands the whole body to `dispatch`, so the two coincide except
 *   for a streamed body.
 * - The per-try timer starts when the attempt is dispatched to the endpoint pool (Envoy: when
 *   the upstream connection is obtained), so connection setup counts against it.
 * - A route timeout raises {@link UpstreamTimeoutError} (`UT`) instead of Envoy's 504 local reply.
 * - Once response headers were forwarded nothing is retried; a route timeout then fails the
 *   body with the timeout error (Envoy resets the stream).
 *
 * Outlier detection (when the cluster has it) hears every attempt, retried ones included, as
 * Envoy's router reports them (updateOutlierDetection / putHttpResponseCode): the status when
 * response headers arrive, `connect-failure` and `reset` when an attempt fails without (or, for
 * a reset, after) its response, `timeout` when a per-try or the route timeout gives up on an
 * attempt still waiting for headers, and `local-success` when the attempt got its connection.
 * Dabba's own refusals (retry overflow `UO`, a caller's abort) are never reported: they say
 * nothing about the host (Envoy ignores overflow resets the same way).
 *
 * Circuit breaking: before the first attempt the request takes an active or pending slot from
 * its cluster's {@link RequestAdmission} (max_requests, max_pending_requests), or fails at once
 * with {@link OverflowError} (`UO`) without starting anything. It holds the slot across its
 * retries and gives it back exactly once, when the request ends however it ends.
 *
 * The opt-in failure-rate breaker (`failureBreaker` option, `resilience/failure-breaker.ts`) is
 * asked after that admission: when it refuses, the slot goes back and the request fails with
 * {@link CircuitOpenError} without starting anything. An admitted request reports one verdict at
 * its finishing step, for the logical request (after retries): failure for a forwarded 5xx or an
 * upstream error (`UF`, `UC`, `UR`, `UT`, a reset of the response body), success for any other
 * forwarded response, and nothing for an end that is Dabba's or the caller's (abort, `UH` on a
 * retry, the mesh closing) unless a response was already forwarded, whose status then decides.
 *
 * The pieces live beside it: {@link AttemptHandler} (one attempt, and the draining of a dropped
 * response), `router-deadline.ts` (route and per-try timeouts on one timer, state on the router),
 * `admission-refusal.ts` (the local reply of a request the breakers refuse), `retry-host-pick.ts`
 * (the retry's endpoint pick), `attempt-failure.ts` (the typed error of a failed last attempt)
 * and `request-outcome.ts` (metrics, observer and breaker verdict at the end).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle, TimerOptions } from '@dabba/core';
import type { Dispatcher } from 'undici';
import type { PoolEntry } from '../connection/endpoint-pools.ts';
import {
  InvalidRequestError,
  MeshClosedError,
  NoHealthyUpstreamError,
  ResponseFlag,
  UpstreamTimeoutError,
} from '../errors.ts';
import type { Host } from '../lb/host.ts';
import type { PreviousPriorities } from '../lb/previous-priorities.ts';
import type { ClusterAdmission } from '../resilience/circuit-breakers.ts';
import { type AttemptOutcome, decideRetry, type RetryDecision } from '../resilience/decide-retry.ts';
import type { BreakerCall } from '../resilience/failure-breaker.ts';
import type { AdmissionTicket, RequestAdmission } from '../resilience/request-admission.ts';
import { effectivePerTryTimeoutMs } from '../resilience/request-deadline.ts';
import { applyHeaderMutations } from '../route/header-mutations.ts';
import type { ClusterOutlier } from '../runtime/cluster-outlier.ts';
import { removePeerMetadataHeaders } from '../telemetry/peer-metadata/peer-metadata-headers.ts';
import { localReplyStatus } from '../telemetry/response-outcome.ts';
import { refuseCircuitOpen, refuseOverflow } from './admission-refusal.ts';
import { attemptFailureError } from './attempt-failure.ts';
import { ABANDONED, AttemptHandler } from './attempt-handler.ts';
import { classifyAttemptError, isDrainableResponse, mayRetryResponse } from './attempt-outcome.ts';
import { EXPECTED_RQ_TIMEOUT_MS, expectedTimeoutMs } from './envoy-request-headers.ts';
import type { MeshWaiter } from './mesh-lifecycle.ts';
import { chargedStatus, failureFlags, settleBreaker, Verdict } from './request-outcome.ts';
import { pickRetryHost, previousPrioritiesOf } from './retry-host-pick.ts';
import {
  clearPerTry,
  type DeadlineState,
  elapsedMs,
  remainingMs,
  startDeadlines,
  startTry,
  stopDeadlines,
} from './router-deadline.ts';
import type { RouterRoute } from './router-route.ts';

/**
 * undici refuses to write a request with an invalid method, path or header value (CR, LF, NUL):
 * nothing was sent. As a sidecar's codec refuses such a request (`DPE`), it fails with
 * DABBA_INVALID_REQUEST, undici's error as its cause.
 */
function unsendable(err: Error): InvalidRequestError | undefined {
  if ((err as { code?: unknown }).code !== 'UND_ERR_INVALID_ARG') return undefined;
  return new InvalidRequestError(`the request cannot be sent as it is: ${err.message}`, {
    cause: err,
    responseFlag: ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR,
  });
}

/** A backoff keeps the process alive: no socket is open to do it. */
const KEEP_ALIVE: TimerOptions = Object.freeze({ ref: true });

export class RouterRequest implements Dispatcher.DispatchController, DeadlineState, MeshWaiter {
  /** @internal The cluster's outlier detection, read once per request; undefined when none. */
  readonly outlier: ClusterOutlier | undefined;
  readonly #route: RouterRoute;
  readonly #caller: Dispatcher.DispatchHandler;
  readonly #perTryTimeoutMs: number;
  #attempt: AttemptHandler | undefined;
  /** @internal The clock of the deadlines, the backoff and the idle timeout. */
  readonly clock: Clock;
  /** @internal Run by router-deadline.ts: the route deadline, `clock.now()` ms. */
  deadlineAt: number | undefined = undefined;
  /** @internal Run by router-deadline.ts: the current attempt's per-try deadline. */
  perTryDeadlineAt: number | undefined = undefined;
  /** @internal Run by router-deadline.ts: the attempt the per-try deadline is for. */
  perTryAttempt: AttemptHandler | undefined = undefined;
  /** @internal Run by router-deadline.ts: one timer for both deadlines. */
  deadlineTimer: TimerHandle | undefined = undefined;
  /** @internal Run by router-deadline.ts: the deadline the timer is armed for. */
  deadlineTimerAt = 0;
  /** The controller of the attempt whose response was forwarded. */
  #forwardedController: Dispatcher.DispatchController | undefined;
  #attempts = 0;
  #firstHost: Host | undefined;
  #otherHosts: Host[] | undefined;
  /** previous_priorities state; created on the first retry of a route that configures it. */
  #previousPriorities: PreviousPriorities | undefined;
  /** per_try_idle_timeout of the current attempt: restarted by every response event. */
  #idleTimer: TimerHandle | undefined;
  /** The attempt the idle timer watches. */
  #idleAttempt: AttemptHandler | undefined;
  #backoffTimer: TimerHandle | undefined;
  #retrySlot: ClusterAdmission | undefined;
  /** The request's circuit-breaker slot; undefined when the cluster does not count requests. */
  #admission: RequestAdmission | undefined;
  #ticket: AdmissionTicket | undefined;
  /** The request's pass through the failure-rate breaker; undefined when none. */
  #breakerCall: BreakerCall | undefined;
  /** The status forwarded to the caller; 0 before response headers. */
  #status = 0;
  #requestStarted = false;
  #exponentialBackoffs = 0;
  #done = false;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  /** Body bytes forwarded to the caller (headers are not counted). */
  #responseBytes = 0;
  /** Response flags of the forwarded response: `URX` when retries were used up on it. */
  #forwardedFlags = '-';

  constructor(route: RouterRoute, caller: Dispatcher.DispatchHandler) {
    this.#route = route;
    this.#caller = caller;
    this.clock = route.clock;
    this.outlier = route.state.outlier;
    const perTry = route.retry?.perTryTimeoutMs ?? 0;
    this.#perTryTimeoutMs = perTry > 0 ? effectivePerTryTimeoutMs(route.timeoutMs, perTry) : 0;
  }

  /** Starts the request on `host` through `pool` (the first pick, already made). */
  start(host: Host, pool: PoolEntry): boolean {
    const admission = this.#route.state.requestAdmission();
    if (admission.counting) {
      const ticket = admission.admit();
      if (typeof ticket === 'string') {
        // Fail fast, as a local reply: no timer, no attempt, nothing to release.
        refuseOverflow(this.#route, this.#caller, admission, ticket);
        return true;
      }
      this.#admission = admission;
      this.#ticket = ticket;
    }
    const breaker = this.#route.failureBreaker;
    if (breaker !== undefined) {
      const call = breaker.admit();
      if (call === undefined) {
        if (this.#ticket !== undefined) {
          this.#admission!.release(this.#ticket);
          this.#ticket = undefined;
        }
        refuseCircuitOpen(this.#route, this.#caller, breaker);
        return true;
      }
      this.#breakerCall = call;
    }
    // In flight from here until #complete: close() waits for it, destroy() ends it.
    this.#route.mesh.requestStarted();
    const timeoutMs = this.#route.timeoutMs;
    if (timeoutMs > 0 || this.#perTryTimeoutMs > 0) startDeadlines(this, timeoutMs, this.#perTryTimeoutMs);
    this.#caller.onRequestStart?.(this, null);
    if (this.#done) return true;
    return this.#dispatch(host, pool);
  }

  // --- the caller's controller ---

  get aborted(): boolean {
    return this.#aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.#reason;
  }
  get rawHeaders(): NonNullable<Dispatcher.DispatchController['rawHeaders']> | null {
    return (this.#forwardedController ?? this.#attempt?.controller)?.rawHeaders ?? null;
  }
  get rawTrailers(): NonNullable<Dispatcher.DispatchController['rawTrailers']> | null {
    return this.#forwardedController?.rawTrailers ?? null;
  }

  abort(reason: Error): void {
    this.#aborted = true;
    this.#fail(reason, Verdict.Local);
  }

  /** @internal The mesh was destroyed while this request waited for a retry. */
  meshDestroyed(err: Error): void {
    this.#fail(err, Verdict.Local);
  }

  pause(): void {
    this.#paused = true;
    this.#forwardedController?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#forwardedController?.resume();
  }

  // --- attempts ---

  #dispatch(host: Host, pool: PoolEntry): boolean {
    this.#attempts++;
    this.#route.record.observer?.attemptStarted(host, this.#attempts);
    if (this.#firstHost === undefined) this.#firstHost = host;
    else if (this.#otherHosts === undefined) this.#otherHosts = [host];
    else this.#otherHosts.push(host);
    this.#previousPriorities?.onHostAttempted(host);
    const attempt = new AttemptHandler(this, host);
    this.#attempt = attempt;
    startTry(this, attempt, this.#perTryTimeoutMs);
    return pool.dispatcher.dispatch(this.#route.options, attempt);
  }
  /** @internal An attempt's onRequestStart: undici is about to write the request. */
  attemptStarted(attempt: AttemptHandler, controller: Dispatcher.DispatchController): void {
    if (attempt !== this.#attempt) {
      controller.abort(ABANDONED);
      return;
    }
    this.#requestStarted = true;
    // per_try_idle_timeout starts once the attempt has its connection (Envoy: onPoolReady).
    const idleMs = this.#route.retry?.perTryIdleTimeoutMs ?? 0;
    if (idleMs > 0) this.#armIdle(attempt, idleMs);
  }

  #armIdle(attempt: AttemptHandler, idleMs: number): void {
    this.#idleAttempt = attempt;
    this.#idleTimer = this.clock.schedule(RouterRequest.#onPerTryIdleTimeout, idleMs, this);
  }

  /** The attempt showed activity: its idle timeout starts again. */
  #idleActivity(): void {
    if (this.#idleTimer !== undefined) this.clock.refresh(this.#idleTimer);
  }

  /** @internal */
  attemptHeaders(
    attempt: AttemptHandler,
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
    statusMessage: string | undefined,
  ): void {
    if (attempt !== this.#attempt) return;
    this.#idleActivity();
    if (status < 200) {
      // Informational (100 Continue, 103 Early Hints): passed on, never decided on.
      this.#caller.onResponseStart?.(this, status, headers, statusMessage);
      return;
    }
    const retry = this.#route.retry;
    if (
      retry !== undefined &&
      this.#route.retriesEnabled &&
      this.#forwardedController === undefined &&
      mayRetryResponse(retry, status, headers)
    ) {
      const lookup = (name: string) => headers[name];
      const decision = this.#decide({ kind: 'response', status, headers: lookup });
      if (decision.retry) {
        this.#route.record.observer?.attemptEnded(attempt.host, this.#attempts, status, undefined, true);
        // The response is dropped: a small body of known length is read to its end so the
        // HTTP/1.1 connection stays in the pool; any other is reset, closing its connection.
        this.#abandon(attempt, isDrainableResponse(this.#route.options.method, status, headers));
        this.#scheduleRetry(decision.backoffMs);
        return;
      }
      // Retries exhausted or not allowed: the caller gets this response, as from Envoy, which
      // flags it URX when the retry limit was the reason (Router::onUpstreamHeaders).
      if (decision.reason === 'retry-limit-exceeded')
        this.#forwardedFlags = ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED;
    }
    this.#forwardedController = controller;
    this.#status = status;
    this.#route.record.observer?.responseStarted(status, headers);
    clearPerTry(this);
    if (this.#paused) controller.pause();
    const ops = this.#route.responseHeaderMutations;
    if (this.#route.stripPeerMetadata === true) removePeerMetadataHeaders(headers);
    if (ops.length > 0) applyHeaderMutations(ops, headers as Record<string, string | string[]>);
    this.#caller.onResponseStart?.(this, status, headers, statusMessage);
  }

  /** @internal */
  attemptData(attempt: AttemptHandler, chunk: Buffer): void {
    if (attempt === this.#attempt) {
      this.#idleActivity();
      this.#responseBytes += chunk.length;
      this.#caller.onResponseData?.(this, chunk);
    }
  }

  /** @internal */
  attemptEnd(attempt: AttemptHandler, trailers: IncomingHttpHeaders): void {
    if (attempt !== this.#attempt) return;
    this.#complete(Verdict.Local);
    this.#caller.onResponseEnd?.(this, trailers);
  }

  /** @internal */
  attemptUpgrade(
    attempt: AttemptHandler,
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    if (attempt !== this.#attempt) return;
    this.#forwardedController = controller;
    this.#status = status;
    this.#complete(Verdict.Local);
    this.#caller.onRequestUpgrade?.(this, status, headers, socket);
  }

  /** @internal */
  attemptError(attempt: AttemptHandler, err: Error): void {
    if (attempt !== this.#attempt) return;
    if (this.#forwardedController !== undefined) {
      // Envoy reports any upstream reset to outlier detection, after the headers too
      // (Filter::onUpstreamReset); a local error is not the host's.
      const upstream = classifyAttemptError(err, true) !== 'local';
      if (upstream) this.outlier?.record(attempt.host, 'reset');
      // Reset after the response started: Envoy cannot retry either; the body fails.
      this.#complete(upstream ? Verdict.Upstream : Verdict.Local, err);
      this.#caller.onResponseError?.(this, err);
      return;
    }
    const kind = classifyAttemptError(err, attempt.started);
    // destroy() failed the pools with its own error: the request ends with it, never retried.
    if (kind === 'local' || err === this.#route.mesh.destroyedWith) {
      this.#fail(unsendable(err) ?? err, Verdict.Local);
      return;
    }
    this.outlier?.record(attempt.host, kind === 'connect-failure' ? 'connect-failure' : 'reset');
    this.#attemptFailed(attempt, { kind }, err);
  }

  /** An attempt ended without a response: retry it, or fail the request with Envoy's flags. */
  #attemptFailed(
    attempt: AttemptHandler,
    outcome: AttemptOutcome,
    err: Error | undefined,
    idle = false,
  ): void {
    const decision = this.#decide(outcome);
    if (decision.retry) {
      this.#route.record.observer?.attemptEnded(attempt.host, this.#attempts, 0, outcome.kind, true);
      this.#abandon(attempt);
      this.#scheduleRetry(decision.backoffMs);
      return;
    }
    this.#fail(
      attemptFailureError(
        this.#route,
        attempt.host.key,
        this.#attempts,
        outcome,
        decision.reason,
        err,
        idle,
        this.#perTryTimeoutMs,
      ),
      Verdict.Upstream,
    );
  }

  /**
   * decideRetry with this request's state, then the retry circuit breaker (Envoy checks it
   * after the retry limit: RetryStateImpl::shouldRetry). A retry holds its slot until the
   * retried attempt ends.
   */
  #decide(outcome: AttemptOutcome): RetryDecision {
    this.#releaseRetrySlot();
    const route = this.#route;
    const decision = decideRetry(route.retriesEnabled ? route.retry : undefined, outcome, this.#attempts, {
      random: route.random,
      bodyReplayable: route.bodyReplayable,
      retryAdmitted: true,
      requestStarted: this.#requestStarted,
      remainingMs: remainingMs(this),
      exponentialBackoffs: this.#exponentialBackoffs,
    });
    if (!decision.retry) return decision;
    const admission = route.state.requestAdmission().counters;
    if (!admission.tryStartRetry()) return { retry: false, reason: 'retry-overflow' };
    this.#retrySlot = admission;
    if (decision.backoff === 'exponential') this.#exponentialBackoffs++;
    return decision;
  }

  #scheduleRetry(backoffMs: number): void {
    // Referenced on purpose: during a backoff no socket may keep the process alive.
    this.#backoffTimer = this.clock.schedule(RouterRequest.#onBackoff, backoffMs, this, KEEP_ALIVE);
    this.#route.mesh.waiting(this);
  }

  #retry(): void {
    const route = this.#route;
    // close() lets a retry run (the pools stay open until every request ended); destroy() not.
    const destroyed = route.mesh.destroyedWith;
    if (destroyed !== undefined || route.mesh.closed) {
      this.#fail(destroyed ?? new MeshClosedError(), Verdict.Local);
      return;
    }
    const policy = route.retry!;
    const balancer = route.state.balancer;
    let host: Host | undefined;
    if (balancer !== undefined) {
      if (policy.retryPriority !== undefined) {
        this.#previousPriorities ??= previousPrioritiesOf(
          policy.retryPriority.updateFrequency,
          this.#firstHost,
          this.#otherHosts,
        );
      }
      host = pickRetryHost(
        balancer,
        policy,
        route.hash,
        this.#firstHost,
        this.#otherHosts,
        this.#previousPriorities,
      );
    }
    if (!host) {
      this.#fail(
        new NoHealthyUpstreamError({
          authority: route.requestAuthority,
          path: route.requestPath,
          cluster: route.cluster.name,
        }),
        Verdict.Local,
      );
      return;
    }
    this.#refreshExpectedTimeout();
    this.#dispatch(host, route.pools.get(host, route.cluster, route.authority, route.secure));
  }

  /**
   * A retry tells the upstream the time left (Envoy calls setTimeoutHeaders again with the
   * elapsed time). The header is in the record the Mesh built for this request; undici has
   * already copied the previous attempt's headers, so updating it in place is safe.
   */
  #refreshExpectedTimeout(): void {
    const elapsed = elapsedMs(this, this.#route.timeoutMs);
    if (elapsed === undefined) return;
    const headers = this.#route.options.headers as Record<string, string | string[]> | undefined;
    if (headers?.[EXPECTED_RQ_TIMEOUT_MS] === undefined) return;
    const expected = expectedTimeoutMs(this.#route.timeoutMs, this.#perTryTimeoutMs, elapsed);
    if (expected !== undefined) headers[EXPECTED_RQ_TIMEOUT_MS] = String(expected);
  }

  /** Detaches the current attempt and resets it; its later callbacks are ignored. */
  #abandon(attempt: AttemptHandler, drain = false): void {
    this.#attempt = undefined;
    clearPerTry(this);
    this.#clearIdle();
    attempt.finish();
    if (drain) attempt.drain();
    else attempt.controller?.abort(ABANDONED);
  }

  /** The request ended with a forwarded response (or its error): stop every timer. */
  #complete(verdict: Verdict, err?: Error): void {
    this.#done = true;
    const route = this.#route;
    // The status and flags the record hears: the forwarded status, else the local reply Envoy
    // would have sent; the error's response flags, else `DC` for a caller's abort and `UR` for
    // a reset after the response started.
    let status = this.#status;
    let flags = this.#forwardedFlags;
    if (err !== undefined) {
      flags = failureFlags(err, this.#aborted, status, verdict);
      if (status === 0) status = localReplyStatus(flags);
    }
    const forwarded = this.#forwardedController;
    const attempts = this.#attempts;
    route.record.endUpstream(
      status,
      flags,
      forwarded,
      this.#responseBytes,
      attempts,
      err,
      chargedStatus(status, flags, forwarded !== undefined, attempts),
      // RetryStateImpl::shouldRetry: a retried request whose last result was not retriable.
      attempts > 1 && forwarded !== undefined && flags === '-',
      err instanceof UpstreamTimeoutError && err.timeout === 'route',
    );
    this.#attempt?.finish();
    this.#attempt = undefined;
    this.#clearTimers();
    this.#releaseRetrySlot();
    route.mesh.requestEnded();
    if (this.#ticket !== undefined) {
      this.#admission!.release(this.#ticket);
      this.#ticket = undefined;
    }
    if (this.#breakerCall !== undefined) {
      const call = this.#breakerCall;
      this.#breakerCall = undefined;
      settleBreaker(call, verdict, this.#status);
    }
  }

  /** Ends the request with `err`: cancels the attempt, the backoff and the route timer. */
  #fail(err: Error, verdict: Verdict): void {
    if (this.#done) return;
    this.#reason = err;
    const attempt = this.#attempt;
    this.#complete(verdict, err);
    if (attempt !== undefined) attempt.controller?.abort(ABANDONED);
    this.#caller.onResponseError?.(this, err);
  }

  #clearIdle(): void {
    if (this.#idleTimer !== undefined) {
      this.clock.cancel(this.#idleTimer);
      this.#idleTimer = undefined;
      this.#idleAttempt = undefined;
    }
  }

  #clearTimers(): void {
    stopDeadlines(this);
    this.#clearIdle();
    if (this.#backoffTimer !== undefined) {
      this.clock.cancel(this.#backoffTimer);
      this.#backoffTimer = undefined;
      this.#route.mesh.notWaiting(this);
    }
  }

  #releaseRetrySlot(): void {
    if (this.#retrySlot !== undefined) {
      this.#retrySlot.endRetry();
      this.#retrySlot = undefined;
    }
  }

  static #onBackoff(router: RouterRequest): void {
    router.#backoffTimer = undefined;
    if (router.#done) return;
    router.#route.mesh.notWaiting(router);
    router.#retry();
  }

  /**
   * No response event for per_try_idle_timeout (RetryPolicy.per_try_idle_timeout): like a
   * per-try timeout before response headers (retried, `UT` when final), and unlike it still
   * enforced once the response streams: the body then fails (Envoy resets the stream).
   */
  static #onPerTryIdleTimeout(router: RouterRequest): void {
    const attempt = router.#idleAttempt!;
    router.#idleTimer = undefined;
    router.#idleAttempt = undefined;
    if (attempt !== router.#attempt || router.#done) return;
    router.outlier?.record(attempt.host, 'timeout');
    if (router.#forwardedController === undefined) {
      router.#attemptFailed(attempt, { kind: 'per-try-timeout' }, undefined, true);
      return;
    }
    const route = router.#route;
    router.#fail(
      new UpstreamTimeoutError({
        authority: route.requestAuthority,
        path: route.requestPath,
        cluster: route.cluster.name,
        endpoint: attempt.host.key,
        attempts: router.#attempts,
        responseFlags: [ResponseFlag.UPSTREAM_REQUEST_TIMEOUT],
        timeout: 'per-try-idle',
        timeoutMs: route.retry?.perTryIdleTimeoutMs ?? 0,
      }),
      Verdict.Upstream,
    );
  }

  /** @internal The per-try deadline of `attempt` passed (router-deadline.ts). */
  perTryTimedOut(attempt: AttemptHandler): void {
    if (this.#done || attempt !== this.#attempt || this.#forwardedController !== undefined) return;
    this.outlier?.record(attempt.host, 'timeout');
    this.#attemptFailed(attempt, { kind: 'per-try-timeout' }, undefined);
  }

  /** @internal The route deadline passed (router-deadline.ts). */
  routeTimedOut(): void {
    if (this.#done) return;
    const route = this.#route;
    // Only an attempt still awaiting headers timed out (Envoy: awaitingHeaders()); during a
    // backoff there is none, and its predecessor already reported its own failure.
    if (
      this.outlier !== undefined &&
      this.#attempt !== undefined &&
      this.#forwardedController === undefined
    ) {
      this.outlier.record(this.#attempt.host, 'timeout');
    }
    const last = this.#attempt?.host ?? this.#otherHosts?.at(-1) ?? this.#firstHost;
    this.#fail(
      new UpstreamTimeoutError({
        authority: route.requestAuthority,
        path: route.requestPath,
        cluster: route.cluster.name,
        endpoint: last?.key,
        attempts: this.#attempts,
        responseFlags: [ResponseFlag.UPSTREAM_REQUEST_TIMEOUT],
        timeout: 'route',
        timeoutMs: route.timeoutMs,
      }),
      Verdict.Upstream,
    );
  }
}
