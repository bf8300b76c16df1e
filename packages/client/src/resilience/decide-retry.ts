import type { RandomSource } from '../lb/random-source.ts';
import { MatchContext } from '../route/match/index.ts';
import type { HeaderValue, RequestView } from '../route/match/request-view.ts';
import { jitteredBackoffMs, lowerBoundBackoffMs } from './backoff.ts';
import {
  type CompiledRetryPolicy,
  type RateLimitedRetryBackOff,
  RETRY_ON_GRPC,
  RetryOn,
} from './retry-policy.ts';

/** Reads a response header (or `:status`) by lowercase name. */
export type ResponseHeaderLookup = (lowercaseName: string) => HeaderValue;

/**
 * How one attempt ended, in the terms Envoy's router decides on (router.cc onUpstreamHeaders,
 * onUpstreamReset, onPerTryTimeoutCommon; Http::StreamResetReason).
 */
export type AttemptOutcome =
  /** Final response headers arrived and have not been passed to the caller yet. */
  | { readonly kind: 'response'; readonly status: number; readonly headers: ResponseHeaderLookup }
  /** No connection: refused, connect timeout, TLS handshake failure (Local/RemoteConnectionFailure, ConnectionTimeout). */
  | { readonly kind: 'connect-failure' }
  /** The stream or connection was reset, or the upstream closed, before response headers. */
  | { readonly kind: 'reset-before-response' }
  /** HTTP/2 RST_STREAM with REFUSED_STREAM: the server did not process the request. */
  | { readonly kind: 'refused-stream' }
  /** per_try_timeout or per_try_idle_timeout fired; Envoy resets the stream (LocalReset). */
  | { readonly kind: 'per-try-timeout' }
  /** The local circuit breaker refused the attempt (StreamResetReason::Overflow). */
  | { readonly kind: 'overflow' }
  /** A reset after response headers were passed to the caller. */
  | { readonly kind: 'reset-after-response-start' };

/** Why a failed attempt is final. */
export type NoRetryReason =
  /** No retry policy, no retry condition, or retriable_request_headers did not match. */
  | 'no-policy'
  /** The caller already has response headers; nothing can be replayed (Envoy: downstream_response_started_). */
  | 'response-started'
  /** The request body cannot be sent again (Envoy: retry buffer overflow abandons retries). */
  | 'body-not-replayable'
  /** The route timeout has fired: the request ends with UT/504, never a retry. */
  | 'route-timeout'
  /** No retry_on condition matches this outcome. */
  | 'not-retriable'
  /** num_retries used up: response flag URX. */
  | 'retry-limit-exceeded'
  /** The retry circuit breaker or retry budget refused: response flag UO. */
  | 'retry-overflow';

/**
 * A decision. `backoff` says which strategy produced `backoffMs`: only `exponential` advances
 * Envoy's exponential sequence, so the caller counts those and passes the count back as
 * {@link RetryContext.exponentialBackoffs}.
 */
export type RetryDecision =
  | {
      readonly retry: true;
      readonly backoffMs: number;
      readonly backoff: 'exponential' | 'rate-limited' | 'immediate';
    }
  | { readonly retry: false; readonly reason: NoRetryReason };

/** Request-side facts {@link decideRetry} needs besides the policy and the outcome. */
export interface RetryContext {
  /** Uniform [0, 1); injected so tests are deterministic. */
  readonly random: RandomSource;
  /** Whether the request body can be sent again (buffered, or empty). */
  readonly bodyReplayable: boolean;
  /** The retry circuit breaker / budget answer, from {@link retryAdmitted}. */
  readonly retryAdmitted: boolean;
  /**
   * Whether any attempt so far sent request bytes upstream. Sticky across attempts, as Envoy's
   * `upstream_request_started_ |=`; decides `reset-before-request`.
   */
  readonly requestStarted: boolean;
  /** Time left before the route timeout in ms; `undefined` when the route has none. */
  readonly remainingMs?: number | undefined;
  /** Exponential backoffs drawn so far for this request; defaults to `attemptNumber - 1`. */
  readonly exponentialBackoffs?: number;
  /** Wall-clock now in ms since the epoch, for UNIX_TIMESTAMP reset headers; defaults to `Date.now`. */
  readonly wallClockMs?: () => number;
  /** The request carries `early-data` (it arrived as TLS early data); blocks the 425 retry. */
  readonly earlyDataRequest?: boolean;
}

const STATUS_TOO_EARLY = 425;
const EMPTY_VIEW: RequestView = { method: '', scheme: '', authority: '', path: '', query: '', headers: {} };

/**
 * Decides whether the attempt numbered `attemptNumber` (1 = the first try) is retried, as
 * Envoy's router and RetryStateImpl do (source/common/router/retry_state_impl.cc
 * wouldRetryFromHeaders, wouldRetryFromReset, shouldRetry):
 *
 * 1. nothing is retried once the caller has response headers, or without a replayable body;
 * 2. the outcome must match a `retry_on` condition;
 * 3. then `num_retries` (URX), then the retry circuit breaker / budget (UO);
 * 4. the delay is Envoy's jittered exponential backoff, or the rate-limited backoff when a
 *    configured reset header answered, or none for the 425 Too Early retry.
 *
 * A backoff longer than the time left is still returned: Envoy arms the backoff timer anyway and
 * the route timeout ends the request with UT while it waits.
 *
 * @param policy the route's policy, or `undefined` when it has none or
 *   {@link retriesEnabledFor} said no for this request.
 */
export function decideRetry(
  policy: CompiledRetryPolicy | undefined,
  outcome: AttemptOutcome,
  attemptNumber: number,
  ctx: RetryContext,
): RetryDecision {
  if (policy === undefined || policy.retryOn === 0) return no('no-policy');
  if (outcome.kind === 'reset-after-response-start') return no('response-started');
  if (!ctx.bodyReplayable) return no('body-not-replayable');
  if (ctx.remainingMs !== undefined && ctx.remainingMs <= 0) return no('route-timeout');

  let kind: 'backoff' | 'immediate' | undefined;
  if (outcome.kind === 'response') {
    kind = wouldRetryFromHeaders(policy, outcome.status, outcome.headers, ctx.earlyDataRequest === true);
  } else {
    kind = wouldRetryFromReset(policy.retryOn, outcome.kind, ctx.requestStarted) ? 'backoff' : undefined;
  }
  if (kind === undefined) return no('not-retriable');
  if (attemptNumber - 1 >= policy.numRetries) return no('retry-limit-exceeded');
  if (!ctx.retryAdmitted) return no('retry-overflow');
  if (kind === 'immediate') return { retry: true, backoffMs: 0, backoff: 'immediate' };

  if (outcome.kind === 'response' && policy.rateLimitedBackOff !== undefined) {
    const interval = resetIntervalMs(policy.rateLimitedBackOff, outcome.headers, ctx.wallClockMs ?? Date.now);
    // Envoy uses the header only when it asks for more than 1 ms.
    if (interval !== undefined && interval > 1) {
      return { retry: true, backoffMs: lowerBoundBackoffMs(interval, ctx.random), backoff: 'rate-limited' };
    }
  }
  const retryNumber = (ctx.exponentialBackoffs ?? attemptNumber - 1) + 1;
  return {
    retry: true,
    backoffMs: jitteredBackoffMs(policy.baseIntervalMs, policy.maxIntervalMs, retryNumber, ctx.random),
    backoff: 'exponential',
  };
}

function no(reason: NoRetryReason): RetryDecision {
  return { retry: false, reason };
}

/** RetryStateImpl::wouldRetryFromHeaders; `undefined` = no retry. */
function wouldRetryFromHeaders(
  policy: CompiledRetryPolicy,
  status: number,
  headers: ResponseHeaderLookup,
  earlyDataRequest: boolean,
): 'backoff' | 'immediate' | undefined {
  const on = policy.retryOn;
  // A response from an upstream Envoy's rate limiter is retried only under envoy-ratelimited,
  // whatever else would have matched.
  if (headers('x-envoy-ratelimited') !== undefined) {
    return on & RetryOn.ENVOY_RATE_LIMITED ? 'backoff' : undefined;
  }
  if (on & RetryOn.FIVE_XX && status >= 500 && status < 600) return 'backoff';
  if (on & RetryOn.GATEWAY_ERROR && (status === 502 || status === 503 || status === 504)) return 'backoff';
  if (on & RetryOn.RETRIABLE_4XX && status === 409) return 'backoff';
  if (on & RetryOn.RETRIABLE_STATUS_CODES && policy.retriableStatusCodes.has(status)) {
    if (status !== STATUS_TOO_EARLY) return 'backoff';
    // 425: retried at once (no backoff) unless the request itself arrived as early data; then
    // Envoy falls through to the other conditions.
    if (!earlyDataRequest) return 'immediate';
  }
  if (on & RetryOn.RETRIABLE_HEADERS && policy.retriableHeaders.length > 0) {
    const ctx = new ResponseMatchContext(status, headers);
    if (policy.retriableHeaders.some((match) => match(ctx))) return 'backoff';
  }
  if (on & RETRY_ON_GRPC) {
    const grpc = grpcStatus(headers('grpc-status'));
    if (
      (grpc === 1 && on & RetryOn.GRPC_CANCELLED) ||
      (grpc === 4 && on & RetryOn.GRPC_DEADLINE_EXCEEDED) ||
      (grpc === 8 && on & RetryOn.GRPC_RESOURCE_EXHAUSTED) ||
      (grpc === 13 && on & RetryOn.GRPC_INTERNAL) ||
      (grpc === 14 && on & RetryOn.GRPC_UNAVAILABLE)
    ) {
      return 'backoff';
    }
  }
  return undefined;
}

/** RetryStateImpl::wouldRetryFromReset without the HTTP/3 branches (Dabba has no HTTP/3). */
function wouldRetryFromReset(
  on: number,
  kind: Exclude<AttemptOutcome['kind'], 'response' | 'reset-after-response-start'>,
  requestStarted: boolean,
): boolean {
  if (kind === 'overflow') return false;
  if (kind === 'connect-failure' && on & RetryOn.CONNECT_FAILURE) return true;
  if (on & RetryOn.RESET_BEFORE_REQUEST && !requestStarted) return true;
  // `5xx` and `gateway-error` count any reset, connect failure and per-try timeout, because
  // Envoy would answer them with a 5xx itself.
  if (on & (RetryOn.RESET | RetryOn.FIVE_XX | RetryOn.GATEWAY_ERROR)) return true;
  return kind === 'refused-stream' && (on & RetryOn.REFUSED_STREAM) !== 0;
}

/**
 * Grpc::Common::getGrpcStatus on the response headers: the first value as a decimal integer,
 * `undefined` when absent or unparsable. Only headers count (router docs: "gRPC status codes
 * in trailers will not trigger retry logic"); a trailers-only error carries it in headers.
 */
function grpcStatus(v: HeaderValue): number | undefined {
  const s = typeof v === 'string' ? v : v?.[0];
  if (s === undefined) return undefined;
  const t = s.trim();
  return /^\+?[0-9]+$/.test(t) ? Number(t) : undefined;
}

/**
 * ResetHeaderParserImpl::parseInterval over the configured headers, in order: the first value
 * of the first header that parses to an interval no longer than max_interval.
 */
function resetIntervalMs(
  cfg: RateLimitedRetryBackOff,
  headers: ResponseHeaderLookup,
  wallClockMs: () => number,
): number | undefined {
  for (const h of cfg.resetHeaders) {
    const v = headers(h.name);
    const raw = (typeof v === 'string' ? v : v?.[0])?.trim();
    if (raw === undefined || !/^\+?[0-9]+$/.test(raw)) continue;
    const seconds = Number(raw);
    let intervalMs: number;
    if (h.format === 'seconds') {
      intervalMs = seconds * 1000;
    } else {
      const now = Math.floor(wallClockMs() / 1000);
      if (seconds < now) continue;
      intervalMs = (seconds - now) * 1000;
    }
    if (intervalMs <= cfg.maxIntervalMs) return intervalMs;
  }
  return undefined;
}

/**
 * The matcher context over a response: compiled HeaderMatchers read headers through
 * `header()`, so retriable_headers reuse the route matchers, `:status` included.
 */
class ResponseMatchContext extends MatchContext {
  readonly #status: number;
  readonly #headers: ResponseHeaderLookup;

  constructor(status: number, headers: ResponseHeaderLookup) {
    super(EMPTY_VIEW);
    this.#status = status;
    this.#headers = headers;
  }

  override header(lowercaseName: string): string | undefined {
    if (lowercaseName === ':status') return String(this.#status);
    const v = this.#headers(lowercaseName);
    if (v === undefined || typeof v === 'string') return v;
    // Several values are joined with ',' (HeaderUtility::getAllOfHeaderAsString), none = absent.
    return v.length === 0 ? undefined : v.join(',');
  }
}
