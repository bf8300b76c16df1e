/**
 * The `x-envoy-*` request headers Envoy's router consumes from the application it fronts
 * (router filter docs, "HTTP headers (consumed from downstreams)"; source/common/router/
 * router.cc FilterUtility::finalTimeout and setTimeoutHeaders, retry_state_impl.cc
 * RetryStateImpl::create and its constructor). A sidecar honours them for its application's
 * outbound requests (loopback is an internal address), so Dabba honours them for its caller:
 *
 * - `x-envoy-upstream-rq-timeout-ms`: the route timeout for this request; 0 disables it.
 * - `x-envoy-upstream-rq-per-try-timeout-ms`: the per-try timeout, even without a retry policy;
 *   ignored when not below a non-zero route timeout.
 * - `x-envoy-retry-on`, `x-envoy-retry-grpc-on`: conditions added to the route's `retry_on`; they
 *   make the request retriable even on a route without a retry policy (Envoy's defaults then:
 *   1 retry, 25 ms base backoff).
 * - `x-envoy-max-retries`: replaces `num_retries` when some retry condition applies.
 * - `x-envoy-retriable-status-codes`, `x-envoy-retriable-header-names`: added to the policy's
 *   lists (header names as presence matchers).
 *
 * A value that does not parse (absl::SimpleAtoi: optional whitespace and `+`, decimal digits) is
 * ignored, as are unknown retry conditions. Every one of these headers is removed before the
 * request goes upstream, whether or not it parsed; `x-envoy-hedge-on-per-try-timeout` is removed
 * too (Dabba does not hedge). Requests carrying none of them pay one scan of the header names.
 */
import type { Dispatcher } from 'undici';
import type { IncomingRequest } from './incoming-request.ts';

export const UPSTREAM_RQ_TIMEOUT_MS = 'x-envoy-upstream-rq-timeout-ms';
export const UPSTREAM_RQ_PER_TRY_TIMEOUT_MS = 'x-envoy-upstream-rq-per-try-timeout-ms';
export const RETRY_ON = 'x-envoy-retry-on';
export const RETRY_GRPC_ON = 'x-envoy-retry-grpc-on';
export const MAX_RETRIES = 'x-envoy-max-retries';
export const RETRIABLE_STATUS_CODES = 'x-envoy-retriable-status-codes';
export const RETRIABLE_HEADER_NAMES = 'x-envoy-retriable-header-names';
export const HEDGE_ON_PER_TRY_TIMEOUT = 'x-envoy-hedge-on-per-try-timeout';
/** Set by Envoy on the upstream request when a timeout applies (unless suppress_envoy_headers). */
export const EXPECTED_RQ_TIMEOUT_MS = 'x-envoy-expected-rq-timeout-ms';

/** The headers the router consumes: never forwarded upstream. */
export const CONSUMED_ENVOY_HEADERS: readonly string[] = Object.freeze([
  UPSTREAM_RQ_TIMEOUT_MS,
  UPSTREAM_RQ_PER_TRY_TIMEOUT_MS,
  RETRY_ON,
  RETRY_GRPC_ON,
  MAX_RETRIES,
  RETRIABLE_STATUS_CODES,
  RETRIABLE_HEADER_NAMES,
  HEDGE_ON_PER_TRY_TIMEOUT,
]);

/** What the consumed headers of one request ask for; a field is absent when its header is. */
export interface EnvoyRequestOverrides {
  /** Route timeout in ms (0 = none). */
  readonly timeoutMs?: number;
  /** Per-try timeout in ms (0 = none). */
  readonly perTryTimeoutMs?: number;
  /** `x-envoy-retry-on` as given (parsed by the retry policy). */
  readonly retryOn?: string;
  /** `x-envoy-retry-grpc-on` as given. */
  readonly retryGrpcOn?: string;
  readonly maxRetries?: number;
  readonly retriableStatusCodes?: readonly number[];
  readonly retriableHeaderNames?: readonly string[];
}

const X = 0x78;
const DASH = 0x2d;

/**
 * Whether raw dispatch headers may hold an `x-envoy-` header, without indexing them: a scan of
 * the names for an `x-` prefix followed by `envoy-` in any case. An iterable of pairs cannot be
 * scanned without consuming it, so it answers yes and the index decides.
 */
export function mayHaveEnvoyHeaders(raw: Dispatcher.DispatchOptions['headers']): boolean {
  if (raw == null) return false;
  if (Array.isArray(raw)) {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (typeof name === 'string' && isEnvoyName(name)) return true;
    }
    return false;
  }
  if (typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') return true;
  for (const k in raw as Record<string, unknown>) if (isEnvoyName(k)) return true;
  return false;
}

function isEnvoyName(name: string): boolean {
  return (
    name.length > 8 &&
    name.charCodeAt(1) === DASH &&
    (name.charCodeAt(0) | 0x20) === X &&
    name.charCodeAt(7) === DASH &&
    name.slice(2, 7).toLowerCase() === 'envoy'
  );
}

/**
 * Reads the consumed headers of a request; `undefined` when it carries none of them. A header
 * given several times is read from its first value, as Envoy's inline header lookup does.
 */
export function readEnvoyOverrides(request: IncomingRequest): EnvoyRequestOverrides | undefined {
  let out:
    | {
        timeoutMs?: number;
        perTryTimeoutMs?: number;
        retryOn?: string;
        retryGrpcOn?: string;
        maxRetries?: number;
        retriableStatusCodes?: number[];
        retriableHeaderNames?: string[];
      }
    | undefined;
  for (const name of CONSUMED_ENVOY_HEADERS) {
    const value = request.values(name)?.[0];
    if (value === undefined) continue;
    out ??= {};
    switch (name) {
      case UPSTREAM_RQ_TIMEOUT_MS: {
        const ms = parseUint(value);
        if (ms !== undefined) out.timeoutMs = ms;
        break;
      }
      case UPSTREAM_RQ_PER_TRY_TIMEOUT_MS: {
        const ms = parseUint(value);
        if (ms !== undefined) out.perTryTimeoutMs = ms;
        break;
      }
      case RETRY_ON:
        out.retryOn = value;
        break;
      case RETRY_GRPC_ON:
        out.retryGrpcOn = value;
        break;
      case MAX_RETRIES: {
        const n = parseUint(value);
        if (n !== undefined) out.maxRetries = n;
        break;
      }
      case RETRIABLE_STATUS_CODES:
        out.retriableStatusCodes = splitTokens(value)
          .map(parseUint)
          .filter((c): c is number => c !== undefined && c <= 0xffff_ffff);
        break;
      case RETRIABLE_HEADER_NAMES:
        out.retriableHeaderNames = splitTokens(value)
          .map((t) => t.trim().toLowerCase())
          .filter((t) => t !== '');
        break;
      default:
        // x-envoy-hedge-on-per-try-timeout: consumed (stripped), not honoured.
        break;
    }
  }
  return out;
}

/** StringUtil::splitToken(value, ","): empty tokens dropped. */
function splitTokens(value: string): string[] {
  return value.split(',').filter((t) => t !== '');
}

/**
 * absl::SimpleAtoi into an unsigned integer: optional surrounding ASCII whitespace and one `+`,
 * then decimal digits; anything else, or a value past 2^53, is `undefined`.
 */
export function parseUint(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*\+?([0-9]+)[ \t\n\v\f\r]*$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * FilterUtility::setTimeoutHeaders: the `x-envoy-expected-rq-timeout-ms` value for an attempt
 * starting `elapsedMs` after the route timer started, or `undefined` when none is sent (no
 * timeout at all). The per-try timeout when there is one, else the route timeout, never more
 * than the route time left, and 1 when that is used up (0 would read as "no timeout").
 */
export function expectedTimeoutMs(
  routeTimeoutMs: number,
  perTryTimeoutMs: number,
  elapsedMs: number,
): number | undefined {
  let expected = perTryTimeoutMs === 0 ? routeTimeoutMs : perTryTimeoutMs;
  if (expected === 0) return undefined;
  if (routeTimeoutMs > 0) {
    expected = elapsedMs >= routeTimeoutMs ? 1 : Math.min(expected, routeTimeoutMs - elapsedMs);
  }
  return Math.floor(expected);
}
