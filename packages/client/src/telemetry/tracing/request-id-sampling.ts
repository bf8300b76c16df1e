/**
 * The tracing reason Envoy's connection manager derives from `x-request-id`
 * (ConnectionManagerUtility::mutateTracingRequestHeader, source/common/http/conn_manager_utility.cc,
 * with the UUID request-id extension, source/extensions/request_id/uuid/config.cc, at its defaults
 * `use_request_id_for_trace_sampling: true`, `pack_trace_reason: true`):
 *
 * - An id whose character 14 (the UUIDv4 version digit) is `9` (sampled), `a` (forced) or `b`
 *   (client) says a proxy before this one already decided to trace: it stays traceable, unchanged.
 * - Otherwise `random_sampling` is evaluated on the id's first 8 hex digits modulo 10000, so every
 *   hop with the same rate reaches the same decision for one request; when it samples, character
 *   14 becomes `9`.
 * - An id that does not start with 8 hex digits is not traceable by rate (Envoy skips "corrupted"
 *   ids). With no id at all (the `requestId` option off and none sent) Dabba draws at random,
 *   where Envoy would have generated one.
 *
 * The tracer then starts from this reason: a caller's sampled flag, when present, still wins.
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

export function requestIdReason(
  requestId: string | undefined,
  samplingPerTenThousand: number,
  random: () => number,
): RequestIdReason {
  if (requestId === undefined) {
    return { traceable: Math.floor(random() * 10_000) < samplingPerTenThousand, requestId };
  }
  if (requestId.length === UUID_LENGTH) {
    const mark = requestId[TRACE_BYTE_POSITION];
    if (mark === TRACE_SAMPLED || mark === TRACE_FORCED || mark === TRACE_CLIENT)
      return { traceable: true, requestId };
  }
  if (!HEX8.test(requestId)) return { traceable: false, requestId };
  const draw = Number.parseInt(requestId.slice(0, 8), 16) % 10_000;
  if (draw >= samplingPerTenThousand) return { traceable: false, requestId };
  return {
    traceable: true,
    requestId:
      requestId.length === UUID_LENGTH
        ? requestId.slice(0, TRACE_BYTE_POSITION) + TRACE_SAMPLED + requestId.slice(TRACE_BYTE_POSITION + 1)
        : requestId,
  };
}
