import type { RetryPolicyModel } from '@dabba/discovery';
import { compileHeaderMatcher, type MatchContext, type RequestMatch } from '../route/match/index.ts';

/**
 * Retry conditions as bit flags, parsed once from `retry_on`. Names and meanings are Envoy's
 * (router filter docs, `x-envoy-retry-on` and `x-envoy-retry-grpc-on`;
 * source/common/router/retry_state_impl.cc parseRetryOn / parseRetryGrpcOn).
 */
export const RetryOn = Object.freeze({
  /** Any 5xx response, and any reset, connect failure or per-try timeout. */
  FIVE_XX: 1 << 0,
  /** 502, 503, 504, and (like `5xx`) any reset, connect failure or per-try timeout. */
  GATEWAY_ERROR: 1 << 1,
  /** Any reset, connect failure or per-try timeout (no response at all). */
  RESET: 1 << 2,
  /** A reset before any request byte was sent upstream, on this or an earlier attempt. */
  RESET_BEFORE_REQUEST: 1 << 3,
  /** Connection failure or connect timeout. */
  CONNECT_FAILURE: 1 << 4,
  /** A response carrying `x-envoy-ratelimited` (from an upstream Envoy). */
  ENVOY_RATE_LIMITED: 1 << 5,
  /** 409. */
  RETRIABLE_4XX: 1 << 6,
  /** An HTTP/2 REFUSED_STREAM reset. */
  REFUSED_STREAM: 1 << 7,
  /** A status listed in `retriable_status_codes`. */
  RETRIABLE_STATUS_CODES: 1 << 8,
  /** A response header matching one of `retriable_headers`. */
  RETRIABLE_HEADERS: 1 << 9,
  /** A failure after connecting over HTTP/3 (Dabba speaks no HTTP/3, so this never fires). */
  HTTP3_POST_CONNECT_FAILURE: 1 << 10,
  /** grpc-status 1 in the response headers. */
  GRPC_CANCELLED: 1 << 11,
  /** grpc-status 4 in the response headers. */
  GRPC_DEADLINE_EXCEEDED: 1 << 12,
  /** grpc-status 13 in the response headers. */
  GRPC_INTERNAL: 1 << 13,
  /** grpc-status 8 in the response headers. */
  GRPC_RESOURCE_EXHAUSTED: 1 << 14,
  /** grpc-status 14 in the response headers. */
  GRPC_UNAVAILABLE: 1 << 15,
});

/** Every gRPC condition; a response is inspected for `grpc-status` only if one is set. */
export const RETRY_ON_GRPC =
  RetryOn.GRPC_CANCELLED |
  RetryOn.GRPC_DEADLINE_EXCEEDED |
  RetryOn.GRPC_INTERNAL |
  RetryOn.GRPC_RESOURCE_EXHAUSTED |
  RetryOn.GRPC_UNAVAILABLE;

const RETRY_ON_NAMES: ReadonlyMap<string, number> = new Map([
  ['5xx', RetryOn.FIVE_XX],
  ['gateway-error', RetryOn.GATEWAY_ERROR],
  ['reset', RetryOn.RESET],
  ['reset-before-request', RetryOn.RESET_BEFORE_REQUEST],
  ['connect-failure', RetryOn.CONNECT_FAILURE],
  ['envoy-ratelimited', RetryOn.ENVOY_RATE_LIMITED],
  ['retriable-4xx', RetryOn.RETRIABLE_4XX],
  ['refused-stream', RetryOn.REFUSED_STREAM],
  ['retriable-status-codes', RetryOn.RETRIABLE_STATUS_CODES],
  ['retriable-headers', RetryOn.RETRIABLE_HEADERS],
  ['http3-post-connect-failure', RetryOn.HTTP3_POST_CONNECT_FAILURE],
  ['cancelled', RetryOn.GRPC_CANCELLED],
  ['deadline-exceeded', RetryOn.GRPC_DEADLINE_EXCEEDED],
  ['internal', RetryOn.GRPC_INTERNAL],
  ['resource-exhausted', RetryOn.GRPC_RESOURCE_EXHAUSTED],
  ['unavailable', RetryOn.GRPC_UNAVAILABLE],
]);

/** Envoy's `upstream.base_retry_backoff_ms` default. */
export const DEFAULT_RETRY_BASE_INTERVAL_MS = 25;
/** The default max interval is this many times the base interval. */
export const DEFAULT_RETRY_MAX_INTERVAL_FACTOR = 10;
/** RetryPolicy.num_retries when a policy exists but leaves it unset. */
export const DEFAULT_NUM_RETRIES = 1;
/** RateLimitedRetryBackOff.max_interval default (300 s). */
export const DEFAULT_RATE_LIMITED_MAX_INTERVAL_MS = 300_000;

/** RetryPolicy.ResetHeader as plain data. */
export interface ResetHeader {
  /** Lowercase header name. */
  readonly name: string;
  /** ResetHeaderFormat: `seconds` (e.g. Retry-After) or `unixTimestamp` (X-RateLimit-Reset). */
  readonly format: 'seconds' | 'unixTimestamp';
}

/** RetryPolicy.RateLimitedRetryBackOff, kept for the backoff that follows server feedback. */
export interface RateLimitedRetryBackOff {
  readonly resetHeaders: readonly ResetHeader[];
  /** A reset header asking for longer than this is discarded; at least 1 ms. */
  readonly maxIntervalMs: number;
}

/** RetryPolicy.retry_priority: Dabba knows only Envoy's previous_priorities. */
export interface RetryPriority {
  readonly name: string;
  /** PreviousPrioritiesConfig `update_frequency`: attempts between two load recomputations (> 0). */
  readonly updateFrequency: number;
}

/**
 * A route's RetryPolicy compiled once per snapshot: conditions as flags, durations in ms,
 * header matchers compiled. Frozen; shared by every request on the route.
 */
export interface CompiledRetryPolicy {
  /** {@link RetryOn} flags. 0 means Envoy creates no retry state: the request is never retried. */
  readonly retryOn: number;
  /** Retries allowed after the first attempt. */
  readonly numRetries: number;
  /** Status codes for `retriable-status-codes`. */
  readonly retriableStatusCodes: ReadonlySet<number>;
  /** Matchers over response headers for `retriable-headers`; any match retries. */
  readonly retriableHeaders: readonly RequestMatch[];
  /** Matchers over request headers; when non-empty, one must match or the request is not retried. */
  readonly retriableRequestHeaders: readonly RequestMatch[];
  /** Per-attempt timeout in ms; 0 = none. Applies even when `retryOn` is 0. */
  readonly perTryTimeoutMs: number;
  /** Per-attempt idle timeout in ms; 0 = none. */
  readonly perTryIdleTimeoutMs: number;
  /** Backoff base interval in ms (>= 1). */
  readonly baseIntervalMs: number;
  /** Backoff max interval in ms (>= base). */
  readonly maxIntervalMs: number;
  readonly rateLimitedBackOff: RateLimitedRetryBackOff | undefined;
  /** The previous_hosts predicate is configured: retries avoid hosts already tried. */
  readonly previousHosts: boolean;
  /** Extra picks a host predicate may cause before the last host is used anyway (>= 1). */
  readonly hostSelectionRetryMaxAttempts: number;
  readonly retryPriority: RetryPriority | undefined;
}

/**
 * Parses a `retry_on` string into {@link RetryOn} flags. Envoy splits on `,`, trims each token,
 * and ignores tokens it does not know: RetryPolicyImpl keeps only `.first` of
 * parseRetryOn/parseRetryGrpcOn, so an unknown or misspelt condition is dropped, not rejected.
 */
export function parseRetryOn(text: string): number {
  let flags = 0;
  for (const raw of text.split(',')) {
    const bit = RETRY_ON_NAMES.get(raw.trim());
    if (bit !== undefined) flags |= bit;
  }
  return flags;
}

/**
 * Compiles a decoded RetryPolicy (route_components.proto RetryPolicy; defaults from
 * source/common/router/retry_policy_impl.cc). `undefined` in, `undefined` out: without a
 * policy Envoy neither retries nor applies a per-try timeout.
 */
export function compileRetryPolicy(policy: RetryPolicyModel | undefined): CompiledRetryPolicy | undefined {
  if (policy === undefined) return undefined;
  const selectionAttempts = policy.hostSelectionRetryMaxAttempts;
  const priority = policy.retryPriority;
  return Object.freeze({
    retryOn: parseRetryOn(policy.retryOn),
    numRetries: policy.numRetries ?? DEFAULT_NUM_RETRIES,
    retriableStatusCodes: new Set(policy.retriableStatusCodes),
    retriableHeaders: Object.freeze(policy.retriableHeaders.map((h) => compileHeaderMatcher(h))),
    retriableRequestHeaders: Object.freeze(
      policy.retriableRequestHeaders.map((h) => compileHeaderMatcher(h)),
    ),
    perTryTimeoutMs: policy.perTryTimeoutMs ?? 0,
    perTryIdleTimeoutMs: policy.perTryIdleTimeoutMs ?? 0,
    ...backOff(policy),
    rateLimitedBackOff: rateLimited(policy),
    previousHosts: policy.retryHostPredicates.some((p) => p.kind === 'previousHosts'),
    // 0 (unset) means Envoy's default of one extra selection.
    hostSelectionRetryMaxAttempts: selectionAttempts > 0 ? selectionAttempts : 1,
    retryPriority:
      priority === undefined
        ? undefined
        : Object.freeze({ name: priority.name, updateFrequency: priority.updateFrequency }),
  });
}

/**
 * Whether retries apply to this request at all. Envoy clears every retry condition when
 * `retriable_request_headers` is set and none matches the request (RetryStateImpl constructor).
 * Evaluate once, when the request starts.
 */
export function retriesEnabledFor(policy: CompiledRetryPolicy, request: MatchContext): boolean {
  if (policy.retryOn === 0) return false;
  const m = policy.retriableRequestHeaders;
  return m.length === 0 || m.some((match) => match(request));
}

function backOff(policy: RetryPolicyModel): { baseIntervalMs: number; maxIntervalMs: number } {
  const b = policy.retryBackOff;
  if (b === undefined) {
    return {
      baseIntervalMs: DEFAULT_RETRY_BASE_INTERVAL_MS,
      maxIntervalMs: DEFAULT_RETRY_BASE_INTERVAL_MS * DEFAULT_RETRY_MAX_INTERVAL_FACTOR,
    };
  }
  // Sub-millisecond values round up to 1 ms (RetryPolicyImpl), for both bounds.
  const baseIntervalMs = Math.max(1, b.baseIntervalMs);
  if (b.maxIntervalMs === undefined) {
    return { baseIntervalMs, maxIntervalMs: baseIntervalMs * DEFAULT_RETRY_MAX_INTERVAL_FACTOR };
  }
  return { baseIntervalMs, maxIntervalMs: Math.max(1, b.maxIntervalMs) };
}

function rateLimited(policy: RetryPolicyModel): RateLimitedRetryBackOff | undefined {
  const r = policy.rateLimitedRetryBackOff;
  if (r === undefined) return undefined;
  return Object.freeze({
    resetHeaders: Object.freeze(
      r.resetHeaders.map(
        (h): ResetHeader => ({
          name: h.name.toLowerCase(),
          format: h.format === 'UNIX_TIMESTAMP' ? 'unixTimestamp' : 'seconds',
        }),
      ),
    ),
    maxIntervalMs:
      r.maxIntervalMs === undefined ? DEFAULT_RATE_LIMITED_MAX_INTERVAL_MS : Math.max(1, r.maxIntervalMs),
  });
}

/**
 * The retry policy of a route without one, as Envoy's default RetryPolicyImpl: no condition, so
 * nothing is retried until a request header adds one (then 1 retry, 25 ms base backoff).
 */
const EMPTY_POLICY: CompiledRetryPolicy = Object.freeze({
  retryOn: 0,
  numRetries: DEFAULT_NUM_RETRIES,
  retriableStatusCodes: new Set<number>(),
  retriableHeaders: Object.freeze([]),
  retriableRequestHeaders: Object.freeze([]),
  perTryTimeoutMs: 0,
  perTryIdleTimeoutMs: 0,
  baseIntervalMs: DEFAULT_RETRY_BASE_INTERVAL_MS,
  maxIntervalMs: DEFAULT_RETRY_BASE_INTERVAL_MS * DEFAULT_RETRY_MAX_INTERVAL_FACTOR,
  rateLimitedBackOff: undefined,
  previousHosts: false,
  hostSelectionRetryMaxAttempts: 1,
  retryPriority: undefined,
});

/** The retry-related `x-envoy-*` request headers of one request, already parsed. */
export interface RetryHeaderOverrides {
  readonly perTryTimeoutMs?: number;
  readonly retryOn?: string;
  readonly retryGrpcOn?: string;
  readonly maxRetries?: number;
  readonly retriableStatusCodes?: readonly number[];
  readonly retriableHeaderNames?: readonly string[];
}

/**
 * The route's policy with a request's `x-envoy-*` overrides applied, as RetryStateImpl and
 * FilterUtility::finalTimeout apply them: retry conditions from the headers are OR-ed into the
 * route's, `x-envoy-max-retries` replaces
 * num_retries, status codes and header names are appended, the per-try timeout header replaces
 * the route's. A route without a policy starts from Envoy's default one. Built per request, only
 * for requests that carry such a header.
 *
 * Envoy applies `x-envoy-max-retries` only when some condition is left after
 * retriable_request_headers; with no condition nothing is retried anyway, so it is applied here
 * unconditionally with the same result.
 */
export function withRetryHeaders(
  route: CompiledRetryPolicy | undefined,
  o: RetryHeaderOverrides,
): CompiledRetryPolicy {
  const base = route ?? EMPTY_POLICY;
  let retryOn = base.retryOn;
  // Envoy parses each header with its own name list: HTTP conditions from x-envoy-retry-on,
  // gRPC ones from x-envoy-retry-grpc-on (the route's retry_on accepts both).
  if (o.retryOn !== undefined) retryOn |= parseRetryOn(o.retryOn) & ~RETRY_ON_GRPC;
  if (o.retryGrpcOn !== undefined) retryOn |= parseRetryOn(o.retryGrpcOn) & RETRY_ON_GRPC;
  let retriableStatusCodes = base.retriableStatusCodes;
  if (o.retriableStatusCodes !== undefined && o.retriableStatusCodes.length > 0) {
    retriableStatusCodes = new Set([...base.retriableStatusCodes, ...o.retriableStatusCodes]);
  }
  let retriableHeaders = base.retriableHeaders;
  if (o.retriableHeaderNames !== undefined && o.retriableHeaderNames.length > 0) {
    retriableHeaders = [
      ...base.retriableHeaders,
      // Name-only HeaderMatchers: presence, as Envoy builds them from the header.
      ...o.retriableHeaderNames.map((name) => compileHeaderMatcher({ name })),
    ];
  }
  return {
    ...base,
    retryOn,
    numRetries: o.maxRetries ?? base.numRetries,
    retriableStatusCodes,
    retriableHeaders,
    perTryTimeoutMs: o.perTryTimeoutMs ?? base.perTryTimeoutMs,
  };
}
