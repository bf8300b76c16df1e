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
 */

const TRACE_BYTE_POSITION = 14;
const TRACE_SAMPLED = '9';
const TRACE_FORCED = 'a';
const TRACE_CLIENT = 'b';
const UUID_LENGTH = 36;
const HEX8 = /^[0-9a-fA-F]{8}/;

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

const NOT_FORCED: ForcedTrace = Object.freeze({ clientTraceId: false, forceTrace: false });

export function requestIdReason(
  requestId: string | undefined,
  samplingPerTenThousand: number,
  random: () => number,
  forced: ForcedTrace = NOT_FORCED,
): RequestIdReason {
  if (requestId === undefined) {
    const traceable =
      forced.clientTraceId || forced.forceTrace || Math.floor(random() * 10_000) < samplingPerTenThousand;
    return { traceable, requestId };
  }
  if (requestId.length === UUID_LENGTH) {
    const current = requestId[TRACE_BYTE_POSITION];
    if (current === TRACE_SAMPLED || current === TRACE_FORCED || current === TRACE_CLIENT) {
      return { traceable: true, requestId };
    }
  }
  if (!HEX8.test(requestId)) return { traceable: false, requestId };
  let mark: string;
  if (forced.clientTraceId) mark = TRACE_CLIENT;
  else if (forced.forceTrace) mark = TRACE_FORCED;
  else if (Number.parseInt(requestId.slice(0, 8), 16) % 10_000 < samplingPerTenThousand) mark = TRACE_SAMPLED;
  else return { traceable: false, requestId };
  return {
    traceable: true,
    requestId:
      requestId.length === UUID_LENGTH
        ? requestId.slice(0, TRACE_BYTE_POSITION) + mark + requestId.slice(TRACE_BYTE_POSITION + 1)
        : requestId,
  };
}
