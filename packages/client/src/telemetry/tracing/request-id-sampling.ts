/**
 * The tracing reason Envoy's connection manager derives from `x-request-id`
 * (ConnectionManagerUtility::mutateTracingRequestHeader, source/common/http/conn_manager_utility.cc,
 * with the UUID request-id extension, source/extensions/request_id/uuid/config.cc, at its defaults
 * `use_request_id_for_trace_sampling: true`, `pack_trace_reason: true`):
 *
 * - An id whose character 14 (the UUIDv4 version digit) is `9` (sampled), `a` (forced) or `b`
 *   (client) says a proxy before this one already decided to trace: it stays traceable, unchanged.
 * - Otherwise a request carrying `x-client-trace-id` is traced (client sampling, Envoy's default
 *   100%; mark `b`), else one carrying `x-envoy-force-trace` (mark `a`), else `random_sampling` is
 *   evaluated on the id's first 8 hex digits modulo 10000, so every hop with the same rate reaches
 *   the same decision for one request; when it samples, character 14 becomes `9`.
 * - An id that does not start with 8 hex digits is not traceable by reason (Envoy skips ids it
 *   cannot read as a number). With no id at all (the `requestId` option off and none sent) Dabba
 *   draws at random, where Envoy would have generated one.
 *
 * The tracer then starts from this reason: B3 debug and a caller's sampled flag still win.
 *
 * The id is read with character tests, not a regex: this runs for every traced request.
 */
import { sampleByRate } from './decide-sampling.ts';

const TRACE_BYTE_POSITION = 14;
const TRACE_SAMPLED = 0x39; // '9'
const TRACE_FORCED = 0x61; // 'a'
const TRACE_CLIENT = 0x62; // 'b'
const UUID_LENGTH = 36;

/** The reason for one request: whether it is traceable, and the id to forward. */
export interface RequestIdReason {
  readonly traceable: boolean;
  readonly requestId: string | undefined;
}

/** Headers besides the id that force tracing (Envoy's client and service forced reasons). */
export interface ForcedTrace {
  /** `x-client-trace-id` is present. */
  readonly clientTraceId: boolean;
  /** `x-envoy-force-trace` is present. */
  readonly forceTrace: boolean;
}

/** {@link ForcedTrace} as bits, for the request path: `x-client-trace-id` is present. */
export const FORCED_CLIENT = 1;
/** `x-envoy-force-trace` is present. */
export const FORCED_SERVICE = 2;

/**
 * The x-request-id to forward when the request is traceable by its id (already marked, forced by
 * `forced` bits, or sampled at `samplingPerTenThousand` from its first 8 hex digits), with the
 * mark packed in; `undefined` when it is not traceable (the id is then forwarded unchanged).
 */
export function traceableRequestId(
  requestId: string,
  samplingPerTenThousand: number,
  forced: number,
): string | undefined {
  const uuid = requestId.length === UUID_LENGTH;
  if (uuid) {
    const current = requestId.charCodeAt(TRACE_BYTE_POSITION);
    if (current === TRACE_SAMPLED || current === TRACE_FORCED || current === TRACE_CLIENT) return requestId;
  }
  const value = leadingHex8(requestId);
  if (value < 0) return undefined;
  let mark: string;
  if ((forced & FORCED_CLIENT) !== 0) mark = 'b';
  else if ((forced & FORCED_SERVICE) !== 0) mark = 'a';
  else if (value % 10_000 < samplingPerTenThousand) mark = '9';
  else return undefined;
  return uuid ? withTraceMark(requestId, mark) : requestId;
}

/** A UUID with `mark` at character 14 (Envoy's `pack_trace_reason`). */
export function withTraceMark(uuid: string, mark: string): string {
  return uuid.slice(0, TRACE_BYTE_POSITION) + mark + uuid.slice(TRACE_BYTE_POSITION + 1);
}

/** The mark of the first forced reason in `forced` (client before service, as Envoy checks). */
export function forcedMark(forced: number): string {
  return (forced & FORCED_CLIENT) !== 0 ? 'b' : 'a';
}

/** The value of the first 8 characters read as hex (either case), or -1 when they are not. */
function leadingHex8(value: string): number {
  if (value.length < 8) return -1;
  let n = 0;
  for (let i = 0; i < 8; i++) {
    const c = value.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return -1;
    n = n * 16 + d;
  }
  return n;
}

export function requestIdReason(
  requestId: string | undefined,
  samplingPerTenThousand: number,
  random: () => number,
  forced?: ForcedTrace,
): RequestIdReason {
  const bits =
    forced === undefined
      ? 0
      : (forced.clientTraceId ? FORCED_CLIENT : 0) | (forced.forceTrace ? FORCED_SERVICE : 0);
  if (requestId === undefined) {
    const traceable = bits !== 0 || sampleByRate(samplingPerTenThousand, random);
    return { traceable, requestId };
  }
  const marked = traceableRequestId(requestId, samplingPerTenThousand, bits);
  return marked === undefined ? { traceable: false, requestId } : { traceable: true, requestId: marked };
}
