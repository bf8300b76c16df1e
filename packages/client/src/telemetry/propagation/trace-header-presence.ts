/**
 * Which tracing headers a request may carry, from one pass over its raw header names, so that the
 * usual request (no trace context, no `x-request-id`) is not looked up header by header. The
 * answer is a hint: a bit set means "look it up" (the lookup gives the value, as the header index
 * joins it); a bit clear means the header is certainly absent. Names are compared
 * case-insensitively, as HTTP names are.
 */
import type { RawHeaders } from '../../dispatch/incoming-request.ts';

/** `x-request-id`. */
export const HAS_REQUEST_ID = 1;
/** `traceparent` or a B3 header (`b3`, `x-b3-*`). */
export const HAS_TRACE_CONTEXT = 2;
/** `x-client-trace-id`. */
export const HAS_CLIENT_TRACE_ID = 4;
/** `x-envoy-force-trace`. */
export const HAS_FORCE_TRACE = 8;
const ALL = HAS_REQUEST_ID | HAS_TRACE_CONTEXT | HAS_CLIENT_TRACE_ID | HAS_FORCE_TRACE;

/** The bits of the tracing headers `raw` may carry. */
export function traceHeadersPresent(raw: RawHeaders): number {
  if (raw == null) return 0;
  let bits = 0;
  if (Array.isArray(raw)) {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (raw[i + 1] == null) continue;
      // A non-string name is stringified by the header index: let the lookups decide.
      bits |= typeof name === 'string' ? classify(name) : ALL;
    }
    return bits;
  }
  // Headers, Map or another iterable: its names are not enumerable here.
  if (typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') return ALL;
  const record = raw as Record<string, unknown>;
  for (const name in record) if (record[name] != null) bits |= classify(name);
  return bits;
}

/** The bit of one header name; most names fail the length and first-letter tests. */
function classify(name: string): number {
  const n = name.length;
  if (n !== 2 && n !== 10 && n !== 11 && n !== 12 && n !== 17 && n !== 19) return 0;
  const first = name.charCodeAt(0) | 0x20;
  if (first !== 0x78 /* x */ && first !== 0x74 /* t */ && first !== 0x62 /* b */) return 0;
  switch (name.toLowerCase()) {
    case 'x-request-id':
      return HAS_REQUEST_ID;
    case 'traceparent':
    case 'b3':
    case 'x-b3-traceid':
    case 'x-b3-spanid':
    case 'x-b3-parentspanid':
    case 'x-b3-sampled':
    case 'x-b3-flags':
      return HAS_TRACE_CONTEXT;
    case 'x-client-trace-id':
      return HAS_CLIENT_TRACE_ID;
    case 'x-envoy-force-trace':
      return HAS_FORCE_TRACE;
    default:
      return 0;
  }
}
