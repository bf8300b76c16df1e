/**
 * Envoy's router filter for one request: route timeout, per-try timeouts, retries with backoff
 * on another host, and the one response the caller sees (source/common/router/router.cc, as
 * described by the router filter docs). The decisions are the pure policies in `resilience/`;
 * this file holds the mechanics: attempts, timers and the caller's controller.
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
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ClusterOutlier } from '../compile/cluster-outlier.ts';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import type { EndpointPools, PoolEntry } from '../connection/endpoint-pools.ts';
import {
  CircuitOpenError,
  MeshClosedError,
  NoHealthyUpstreamError,
  OverflowError,
  ResponseFlag,
  UpstreamConnectError,
  UpstreamResetError,
  UpstreamTimeoutError,
} from '../errors.ts';
import type { Host } from '../lb/host.ts';
import type { PickContext } from '../lb/picker.ts';
import { PreviousPriorities } from '../lb/previous-priorities.ts';
import type { RandomSource } from '../lb/random-source.ts';
import type { ClusterAdmission } from '../resilience/circuit-breakers.ts';
import { type AttemptOutcome, decideRetry, type RetryDecision } from '../resilience/decide-retry.ts';
import type { BreakerCall, ClusterFailureBreaker } from '../resilience/failure-breaker.ts';
import { type AdmissionTicket, type RequestAdmission, thresholdOf } from '../resilience/request-admission.ts';
import { effectivePerTryTimeoutMs } from '../resilience/request-deadline.ts';
import type { CompiledRetryPolicy } from '../resilience/retry-policy.ts';
import { applyHeaderMutations, type HeaderMutations } from '../route/header-mutations.ts';
import { grpcStatusOf, httpToGrpcStatus } from '../telemetry/grpc-response-status.ts';
import type { IstioRequestMetrics } from '../telemetry/istio-request-metrics.ts';
import { removePeerMetadataHeaders } from '../telemetry/peer-metadata/peer-metadata-headers.ts';
import type { RequestObserver } from '../telemetry/request-observer.ts';
import { localReplyStatus, responseFlagsOf } from '../telemetry/response-outcome.ts';
import { responseHeadBytes } from '../telemetry/wire-size.ts';
import {
  classifyAttemptError,
  isDrainableResponse,
  mayRetryResponse,
  responseFlagOf,
} from './attempt-outcome.ts';
import { EXPECTED_RQ_TIMEOUT_MS, expectedTimeoutMs } from './envoy-request-headers.ts';
import { failLocally } from './local-response.ts';
import { admissionOf, retryAdmissionOf } from './retry-admission.ts';

/** How long a dropped response's small body may take to arrive before its stream is reset. */
const DRAIN_LIMIT_MS = 1000;

/** The abort reason given to an attempt the router abandons; never reaches the caller. */
const ABANDONED = new Error('dabba: upstream attempt abandoned (retry, timeout or abort)');

/** What the router needs from the routing decision; built once per request by the Mesh. */
export interface RouterRoute {
  readonly pools: EndpointPools;
  /** The mesh's state: no retry starts once it is closed. */
  readonly mesh: { readonly closed: boolean };
  readonly cluster: CompiledCluster;
  /** The options every attempt sends (path, headers and Host already rewritten). */
  readonly options: Dispatcher.DispatchOptions;
  /** The upstream authority (pools are keyed by it). */
  readonly authority: string;
  /** The request's authority and path, for errors. */
  readonly requestAuthority: string;
  readonly requestPath: string;
  readonly responseHeaderMutations: HeaderMutations;
  /** The route's retry policy (also the per-try timeout); `undefined` when none. */
  readonly retry: CompiledRetryPolicy | undefined;
  /** False when retriable_request_headers did not match: no retries, per-try timeout still applies. */
  readonly retriesEnabled: boolean;
  /** Route timeout in ms; 0 = none. */
  readonly timeoutMs: number;
  readonly hash: bigint | undefined;
  readonly random: RandomSource;
  /** Whether the request body can be sent again. */
  readonly bodyReplayable: boolean;
  /** The cluster's failure-rate breaker; `undefined` when the option is off or skips the cluster. */
  readonly failureBreaker: ClusterFailureBreaker | undefined;
  /**
   * Istio's request metrics; `undefined` when the `metrics` option is off (the request then
   * pays one property check at its end). The labels are the cluster's `metrics`.
   */
  readonly metrics: IstioRequestMetrics | undefined;
  /** Bytes of the request body when known (0 for a stream); read only with metrics on. */
  readonly requestBytes: number;
  /** A gRPC request (content-type application/grpc...): recorded with `request_protocol="grpc"`. */
  readonly grpc?: boolean;
  /**
   * The request carries Istio's metadata exchange headers: the peer's answer is removed from the
   * response before the caller sees it, as Envoy's peer_metadata filter does.
   */
  readonly stripPeerMetadata?: boolean;
  /** The request's tracing / access-log observer; `undefined` when both are off. */
  readonly observer?: RequestObserver | undefined;
}

/** How a request ended, for its failure-rate breaker. */
const Verdict = {
  /** Dabba's or the caller's end: the forwarded status decides, if any; otherwise no verdict. */
  Local: 0,
  /** An upstream failure (UF, UC, UR, UT, a reset body). */
  Upstream: 1,
} as const;
type Verdict = (typeof Verdict)[keyof typeof Verdict];

export class RouterRequest implements Dispatcher.DispatchController {
  /** @internal The cluster's outlier detection, read once per request; undefined when none. */
  readonly outlier: ClusterOutlier | undefined;
  readonly #route: RouterRoute;
  readonly #caller: Dispatcher.DispatchHandler;
  readonly #perTryTimeoutMs: number;
  #attempt: AttemptHandler | undefined;
  /** The controller of the attempt whose response was forwarded. */
  #forwardedController: Dispatcher.DispatchController | undefined;
  #attempts = 0;
  #firstHost: Host | undefined;
  #otherHosts: Host[] | undefined;
  /** previous_priorities state; created on the first retry of a route that configures it. */
  #previousPriorities: PreviousPriorities | undefined;
  /** The route deadline (`performance.now()` ms); undefined without a route timeout. */
  #deadline: number | undefined;
  /** The current attempt's per-try deadline; undefined when none is running. */
  #perTryDeadline: number | undefined;
  #perTryAttempt: AttemptHandler | undefined;
  /**
   * One timer for both deadlines, armed for the earlier one: most requests end before either,
   * and then pay one timer instead of two. A per-try deadline that no longer applies is left
   * armed; the timer finds nothing due and re-arms for what is left.
   */
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for. */
  #timerAt = 0;
  /** per_try_idle_timeout of the current attempt: re-armed by every response event. */
  #idleTimer: NodeJS.Timeout | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
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
  /** `performance.now()` at dispatch, when metrics are on. */
  readonly #startedAt: number;
  /** Body bytes forwarded to the caller (headers are not counted). */
  #responseBytes = 0;
  /** Response flags of the forwarded response: `URX` when retries were used up on it. */
  #forwardedFlags = '-';

  constructor(route: RouterRoute, caller: Dispatcher.DispatchHandler) {
    this.#route = route;
    this.#caller = caller;
    this.outlier = route.cluster.outlier;
    const perTry = route.retry?.perTryTimeoutMs ?? 0;
    this.#perTryTimeoutMs = perTry > 0 ? effectivePerTryTimeoutMs(route.timeoutMs, perTry) : 0;
    this.#startedAt = route.metrics === undefined ? 0 : performance.now();
  }

  /** Starts the request on `host` through `pool` (the first pick, already made). */
  start(host: Host, pool: PoolEntry): boolean {
    const cluster = this.#route.cluster;
    const admission = admissionOf(cluster);
    if (admission.counting) {
      const ticket = admission.admit();
      if (typeof ticket === 'string') {
        // Fail fast, as a local reply: no timer, no attempt, nothing to release.
        this.#record(503, ResponseFlag.UPSTREAM_OVERFLOW);
        this.#route.observer?.requestEnded(503, ResponseFlag.UPSTREAM_OVERFLOW, 0, undefined);
        failLocally(
          this.#caller,
          new OverflowError({
            authority: this.#route.requestAuthority,
            path: this.#route.requestPath,
            cluster: cluster.name,
            limit: ticket,
            threshold: thresholdOf(admission.counters.limits, ticket),
          }),
        );
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
        // Dabba's own breaker has no Envoy flag: a 503 local reply without one.
        this.#record(503, '-');
        this.#route.observer?.requestEnded(503, '-', 0, undefined);
        failLocally(
          this.#caller,
          new CircuitOpenError({
            authority: this.#route.requestAuthority,
            path: this.#route.requestPath,
            cluster: cluster.name,
            state: breaker.state === 'open' ? 'open' : 'half-open',
            resetTimeoutMs: breaker.resetTimeoutMs,
          }),
        );
        return true;
      }
      this.#breakerCall = call;
    }
    const timeoutMs = this.#route.timeoutMs;
    if (timeoutMs > 0) {
      this.#deadline = performance.now() + timeoutMs;
      // With a per-try timeout, the first attempt arms the timer for its earlier deadline.
      if (this.#perTryTimeoutMs === 0) this.#arm(this.#deadline);
    }
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
    this.#route.observer?.attemptStarted(host, this.#attempts);
    if (this.#firstHost === undefined) this.#firstHost = host;
    else if (this.#otherHosts === undefined) this.#otherHosts = [host];
    else this.#otherHosts.push(host);
    this.#previousPriorities?.onHostAttempted(host);
    const attempt = new AttemptHandler(this, host);
    this.#attempt = attempt;
    if (this.#perTryTimeoutMs > 0) {
      this.#perTryDeadline = performance.now() + this.#perTryTimeoutMs;
      this.#perTryAttempt = attempt;
      this.#arm(this.#perTryDeadline);
    }
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
    if (idleMs > 0) {
      this.#idleTimer = setTimeout(RouterRequest.#onPerTryIdleTimeout, idleMs, this, attempt);
      this.#idleTimer.unref();
    }
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
    this.#idleTimer?.refresh();
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
        this.#route.observer?.attemptEnded(attempt.host, this.#attempts, status, undefined, true);
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
    this.#route.observer?.responseStarted(status, headers);
    this.#clearPerTry();
    if (this.#paused) controller.pause();
    const ops = this.#route.responseHeaderMutations;
    if (this.#route.stripPeerMetadata === true) removePeerMetadataHeaders(headers);
    if (ops.length > 0) applyHeaderMutations(ops, headers as Record<string, string | string[]>);
    this.#caller.onResponseStart?.(this, status, headers, statusMessage);
  }

  /** @internal */
  attemptData(attempt: AttemptHandler, chunk: Buffer): void {
    if (attempt === this.#attempt) {
      this.#idleTimer?.refresh();
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
    if (kind === 'local') {
      this.#fail(err, Verdict.Local);
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
      this.#route.observer?.attemptEnded(attempt.host, this.#attempts, 0, outcome.kind, true);
      this.#abandon(attempt);
      this.#scheduleRetry(decision.backoffMs);
      return;
    }
    const flags: string[] = [];
    const ctx = {
      authority: this.#route.requestAuthority,
      path: this.#route.requestPath,
      cluster: this.#route.cluster.name,
      endpoint: attempt.host.key,
      attempts: this.#attempts,
      responseFlags: flags,
      cause: err,
    };
    // The errors copy `responseFlags` when constructed, so the retry flag goes in first (in
    // Envoy's order, the failure's own flag precedes URX / UO; responseFlagsOf sorts for metrics).
    const retryFlag =
      decision.reason === 'retry-limit-exceeded'
        ? ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED
        : decision.reason === 'retry-overflow'
          ? ResponseFlag.UPSTREAM_OVERFLOW
          : undefined;
    let error: Error;
    if (outcome.kind === 'per-try-timeout') {
      flags.push(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
      if (retryFlag !== undefined) flags.push(retryFlag);
      error = idle
        ? new UpstreamTimeoutError({
            ...ctx,
            timeout: 'per-try-idle',
            timeoutMs: this.#route.retry?.perTryIdleTimeoutMs ?? 0,
          })
        : new UpstreamTimeoutError({ ...ctx, timeout: 'per-try', timeoutMs: this.#perTryTimeoutMs });
    } else if (outcome.kind === 'connect-failure') {
      flags.push(responseFlagOf('connect-failure', err));
      if (retryFlag !== undefined) flags.push(retryFlag);
      error = new UpstreamConnectError(ctx);
    } else {
      flags.push(
        responseFlagOf(outcome.kind === 'refused-stream' ? 'refused-stream' : 'reset-before-response', err),
      );
      if (retryFlag !== undefined) flags.push(retryFlag);
      error = new UpstreamResetError(ctx);
    }
    this.#fail(error, Verdict.Upstream);
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
      remainingMs: this.#deadline === undefined ? undefined : Math.max(0, this.#deadline - performance.now()),
      exponentialBackoffs: this.#exponentialBackoffs,
    });
    if (!decision.retry) return decision;
    const admission = retryAdmissionOf(route.cluster);
    if (!admission.tryStartRetry()) return { retry: false, reason: 'retry-overflow' };
    this.#retrySlot = admission;
    if (decision.backoff === 'exponential') this.#exponentialBackoffs++;
    return decision;
  }

  #scheduleRetry(backoffMs: number): void {
    // Referenced on purpose: during a backoff no socket may keep the process alive.
    this.#backoffTimer = setTimeout(RouterRequest.#onBackoff, backoffMs, this);
  }

  #retry(): void {
    const route = this.#route;
    if (route.mesh.closed) {
      this.#fail(new MeshClosedError(), Verdict.Local);
      return;
    }
    const policy = route.retry!;
    const balancer = route.cluster.balancer;
    const priorityBuckets =
      policy.retryPriority !== undefined && balancer !== undefined
        ? this.#retryPriority(policy.retryPriority.updateFrequency).priorityBuckets(balancer.plan)
        : undefined;
    const ctx: PickContext = {
      ...(route.hash === undefined ? {} : { hash: route.hash }),
      ...(policy.previousHosts
        ? {
            exclude: (h: Host) => h === this.#firstHost || this.#otherHosts?.includes(h) === true,
            hostSelectionRetryCount: policy.hostSelectionRetryMaxAttempts,
          }
        : {}),
      ...(priorityBuckets === undefined ? {} : { priorityBuckets }),
    };
    const host = balancer?.pick(ctx);
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
    if (this.#deadline !== undefined) this.#refreshExpectedTimeout();
    this.#dispatch(host, route.pools.get(host, route.cluster, route.authority));
  }

  /**
   * A retry tells the upstream the time left (Envoy calls setTimeoutHeaders again with the
   * elapsed time). The header is in the record the Mesh built for this request; undici has
   * already copied the previous attempt's headers, so updating it in place is safe.
   */
  #refreshExpectedTimeout(): void {
    const headers = this.#route.options.headers as Record<string, string | string[]> | undefined;
    if (headers?.[EXPECTED_RQ_TIMEOUT_MS] === undefined) return;
    const timeoutMs = this.#route.timeoutMs;
    const elapsed = performance.now() - (this.#deadline! - timeoutMs);
    const expected = expectedTimeoutMs(timeoutMs, this.#perTryTimeoutMs, elapsed);
    if (expected !== undefined) headers[EXPECTED_RQ_TIMEOUT_MS] = String(expected);
  }

  /**
   * The request's retry priority state, created on its first retry and told every host
   * attempted so far (Envoy calls onHostAttempted for each attempt, the first included).
   */
  #retryPriority(updateFrequency: number): PreviousPriorities {
    let state = this.#previousPriorities;
    if (state === undefined) {
      state = new PreviousPriorities(updateFrequency);
      if (this.#firstHost !== undefined) state.onHostAttempted(this.#firstHost);
      for (const h of this.#otherHosts ?? []) state.onHostAttempted(h);
      this.#previousPriorities = state;
    }
    return state;
  }

  /** Detaches the current attempt and resets it; its later callbacks are ignored. */
  #abandon(attempt: AttemptHandler, drain = false): void {
    this.#attempt = undefined;
    this.#clearPerTry();
    this.#clearIdle();
    attempt.finish();
    if (drain) attempt.drain();
    else attempt.controller?.abort(ABANDONED);
  }

  /** The request ended with a forwarded response (or its error): stop every timer. */
  #complete(verdict: Verdict, err?: Error): void {
    this.#done = true;
    if (this.#route.metrics !== undefined) this.#recordEnd(verdict, err);
    if (this.#route.observer !== undefined) this.#observeEnd(this.#route.observer, verdict, err);
    this.#attempt?.finish();
    this.#attempt = undefined;
    this.#clearTimers();
    this.#releaseRetrySlot();
    if (this.#ticket !== undefined) {
      this.#admission!.release(this.#ticket);
      this.#ticket = undefined;
    }
    if (this.#breakerCall !== undefined) this.#settleBreaker(this.#breakerCall, verdict);
  }

  /** Tells the observer how the request ended, with the status and flags `#recordEnd` records. */
  #observeEnd(observer: RequestObserver, verdict: Verdict, err: Error | undefined): void {
    let status = this.#status;
    let flags = this.#forwardedFlags;
    if (err !== undefined) {
      const fallback = this.#aborted ? 'DC' : status !== 0 && verdict === Verdict.Upstream ? 'UR' : '-';
      flags = responseFlagsOf(err, fallback);
      if (status === 0) status = localReplyStatus(flags);
    }
    observer.requestEnded(status, flags, this.#responseBytes, err);
  }

  /**
   * Records the logical request once, as Envoy's stats filter would: the forwarded status, else
   * the local reply Envoy would have sent; the error's response flags, else `DC` for a caller's
   * abort and `UR` for a reset after the response started.
   */
  #recordEnd(verdict: Verdict, err: Error | undefined): void {
    let status = this.#status;
    let flags = this.#forwardedFlags;
    if (err !== undefined) {
      const fallback = this.#aborted ? 'DC' : status !== 0 && verdict === Verdict.Upstream ? 'UR' : '-';
      flags = responseFlagsOf(err, fallback);
      if (status === 0) status = localReplyStatus(flags);
    }
    this.#record(status, flags);
  }

  #record(status: number, flags: string): void {
    const metrics = this.#route.metrics;
    let sets = this.#route.cluster.metrics;
    if (metrics === undefined || sets === undefined) return;
    const forwarded = this.#forwardedController;
    let code = status;
    let grpcStatus = '';
    if (this.#route.grpc === true) {
      sets = sets.grpc;
      if (forwarded !== undefined) {
        // Envoy's Grpc::Common::getGrpcStatus(trailers, headers, info): trailer, header, HTTP status.
        grpcStatus =
          grpcStatusOf(forwarded.rawTrailers) ??
          grpcStatusOf(forwarded.rawHeaders) ??
          (status !== 0 ? httpToGrpcStatus(status) : '');
      } else if (status !== 0) {
        // Envoy answers a gRPC request locally with a trailers-only 200 carrying the mapped status.
        code = 200;
        grpcStatus = httpToGrpcStatus(status);
      }
    }
    metrics.record(
      sets.get(code, flags, grpcStatus),
      performance.now() - this.#startedAt,
      this.#route.requestBytes,
      forwarded === undefined
        ? 0
        : responseHeadBytes(this.#status, forwarded.rawHeaders) + this.#responseBytes,
    );
    const traffic = sets.traffic;
    if (traffic !== undefined) {
      const attempts = this.#attempts;
      const reason = this.#reason;
      traffic.requestEnded(
        attempts,
        // The code Envoy's router charges: the forwarded status, or the local reply of an upstream
        // failure or overflow (chargeUpstreamAbort); not Dabba's own breaker, not a caller's abort.
        forwarded !== undefined || attempts > 0 || flags === ResponseFlag.UPSTREAM_OVERFLOW ? status : 0,
        // RetryStateImpl::shouldRetry: a retried request whose last result was not retriable.
        attempts > 1 && forwarded !== undefined && flags === '-',
        reason instanceof UpstreamTimeoutError && reason.timeout === 'route',
      );
    }
  }

  #settleBreaker(call: BreakerCall, verdict: Verdict): void {
    this.#breakerCall = undefined;
    if (verdict === Verdict.Upstream || this.#status >= 500) call.fail();
    else if (this.#status !== 0) call.succeed();
    else call.abstain();
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

  /** The per-try deadline no longer applies (the timer, if armed for it, re-arms when it fires). */
  #clearPerTry(): void {
    this.#perTryDeadline = undefined;
    this.#perTryAttempt = undefined;
  }

  /** Makes the timer fire by `at` (a `performance.now()` time); an earlier arming stands. */
  #arm(at: number): void {
    if (this.#timer !== undefined) {
      if (this.#timerAt <= at) return;
      clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = setTimeout(RouterRequest.#onTimer, Math.max(0, at - performance.now()), this);
    this.#timer.unref();
  }

  #clearIdle(): void {
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
  }

  #clearTimers(): void {
    this.#clearPerTry();
    this.#clearIdle();
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#backoffTimer !== undefined) {
      clearTimeout(this.#backoffTimer);
      this.#backoffTimer = undefined;
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
    if (!router.#done) router.#retry();
  }

  /**
   * No response event for per_try_idle_timeout (RetryPolicy.per_try_idle_timeout): like a
   * per-try timeout before response headers (retried, `UT` when final), and unlike it still
   * enforced once the response streams: the body then fails (Envoy resets the stream).
   */
  static #onPerTryIdleTimeout(router: RouterRequest, attempt: AttemptHandler): void {
    router.#idleTimer = undefined;
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

  /**
   * The timer reached the deadline it was armed for. Deadlines are compared with that, not with
   * the clock, which Node's millisecond timers may leave a fraction short. The route deadline
   * wins a tie: a retry after it could not run anyway.
   */
  static #onTimer(router: RouterRequest): void {
    router.#timer = undefined;
    if (router.#done) return;
    const at = router.#timerAt;
    if (router.#deadline !== undefined && router.#deadline <= at) {
      router.#onRouteTimeout();
      return;
    }
    const perTry = router.#perTryDeadline;
    if (perTry !== undefined && perTry <= at) {
      const attempt = router.#perTryAttempt!;
      router.#clearPerTry();
      router.#onPerTryTimeout(attempt);
      if (router.#done) return;
    }
    // Whatever is still ahead: the route deadline, or a later attempt's per-try deadline.
    const next =
      router.#perTryDeadline === undefined
        ? router.#deadline
        : router.#deadline === undefined
          ? router.#perTryDeadline
          : Math.min(router.#deadline, router.#perTryDeadline);
    if (next !== undefined && router.#timer === undefined) router.#arm(next);
  }

  #onPerTryTimeout(attempt: AttemptHandler): void {
    if (attempt !== this.#attempt || this.#forwardedController !== undefined) return;
    this.outlier?.record(attempt.host, 'timeout');
    this.#attemptFailed(attempt, { kind: 'per-try-timeout' }, undefined);
  }

  #onRouteTimeout(): void {
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

/**
 * The handler of one attempt: keeps the endpoint's in-flight count (LEAST_REQUEST reads it)
 * and reports to its router, which ignores it once it is no longer the current attempt.
 */
export class AttemptHandler implements Dispatcher.DispatchHandler {
  readonly router: RouterRequest;
  readonly host: Host;
  controller: Dispatcher.DispatchController | undefined;
  /** undici called onRequestStart: the request is being written. */
  started = false;
  #finished = false;
  /** Bounds the reading of a dropped response's body (see {@link drain}). */
  #drainTimer: NodeJS.Timeout | undefined;

  constructor(router: RouterRequest, host: Host) {
    this.router = router;
    this.host = host;
    host.activeRequests++;
  }

  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.host.activeRequests--;
  }

  /**
   * The router dropped this response: read its body to the end (the router ignores it) so undici
   * keeps the connection, but reset it if it has not ended within {@link DRAIN_LIMIT_MS}.
   */
  drain(): void {
    this.#drainTimer = setTimeout(AttemptHandler.#onDrainLimit, DRAIN_LIMIT_MS, this);
    this.#drainTimer.unref();
  }

  static #onDrainLimit(attempt: AttemptHandler): void {
    attempt.#drainTimer = undefined;
    attempt.controller?.abort(ABANDONED);
  }

  onRequestStart(controller: Dispatcher.DispatchController, _context: unknown): void {
    this.controller = controller;
    this.started = true;
    // undici starts the request once it has a connected socket: Envoy's LocalOriginConnectSuccess
    // (counted only when local-origin errors are split).
    this.router.outlier?.record(this.host, 'local-success');
    this.router.attemptStarted(this, controller);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.finish();
    this.router.attemptUpgrade(this, controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    // Every final status counts, retried or forwarded; 1xx is not a result.
    if (statusCode >= 200) this.router.outlier?.record(this.host, statusCode);
    this.router.attemptHeaders(this, controller, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.router.attemptData(this, chunk);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.finish();
    this.router.attemptEnd(this, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.finish();
    this.router.attemptError(this, error);
  }
}
