/**
 * Reads the trace context a request carries, in any format a mesh peer may send, for the inbound
 * side (and for an outbound request the application propagated by hand, as it must behind a
 * sidecar). Precedence when several are present: W3C `traceparent` (with `tracestate`), then the
 * single `b3` header, then B3 multi headers (the B3 spec gives the single header priority over
 * the multi headers). `baggage` and `x-request-id` are read whatever the trace format.
 */
import { type Baggage, type Context, propagation, type SpanContext, trace } from '@opentelemetry/api';
import { type B3Context, parseB3Multi, parseB3Single } from './b3.ts';
import { randomSpanId, randomTraceId } from './hex-ids.ts';
import {
  B3_SINGLE,
  BAGGAGE,
  type HeaderGetter,
  type HeaderSource,
  headerGetter,
  REQUEST_ID,
  TRACEPARENT,
  TRACESTATE,
} from './trace-headers.ts';
import { parseBaggage } from './w3c-baggage.ts';
import { FLAG_SAMPLED, parseTraceparent, parseTracestate } from './w3c-trace-context.ts';

/** Where an extracted span context came from. */
export type TraceContextFormat = 'w3c' | 'b3' | 'b3multi';

/** The trace context of one request. */
export interface ExtractedTraceContext {
  /**
   * The caller's span (`isRemote: true`), to parent a SERVER span on; `undefined` when no
   * format carried valid ids.
   */
  readonly spanContext: SpanContext | undefined;
  /**
   * The caller's sampling decision: the span context's sampled flag, or a B3 decision sent
   * without ids; `undefined` when the caller deferred it (the receiver then decides).
   */
  readonly sampled: boolean | undefined;
  /** B3 debug (`x-b3-flags: 1`, `b3: ...-d`): sample regardless of rate. */
  readonly debug: boolean;
  /** The format `spanContext` was read from. */
  readonly format: TraceContextFormat | undefined;
  /** B3's parent span id of the caller's span, when it was sent. */
  readonly parentSpanId: string | undefined;
  /** W3C baggage, when the request carried any valid entry. */
  readonly baggage: Baggage | undefined;
  /** The request's `x-request-id`, when present and non-empty. */
  readonly requestId: string | undefined;
}

/**
 * The trace context, baggage and `x-request-id` a request carries.
 *
 * @example
 * const extracted = extractTraceContext(req.headers);
 * const parent = contextWithTraceContext(context.active(), extracted);
 * const span = tracer.startSpan('GET /reviews', { kind: SpanKind.SERVER }, parent);
 */
export function extractTraceContext(headers: HeaderSource): ExtractedTraceContext {
  const get = headerGetter(headers);
  const rawId = get(REQUEST_ID)?.trim();
  return {
    ...readTraceContext(get),
    baggage: parseBaggage(get(BAGGAGE)),
    requestId: rawId === undefined || rawId === '' ? undefined : rawId,
  };
}

/** The trace part of {@link ExtractedTraceContext}: what the outbound path needs, nothing more. */
export type RemoteTraceContext = Omit<ExtractedTraceContext, 'baggage' | 'requestId'>;

/** No trace context: shared, so a request without one allocates nothing here. */
const NONE: RemoteTraceContext = Object.freeze({
  spanContext: undefined,
  sampled: undefined,
  debug: false,
  format: undefined,
  parentSpanId: undefined,
});

/** The caller's span and sampling decision, in the precedence of {@link extractTraceContext}. */
export function readTraceContext(get: HeaderGetter): RemoteTraceContext {
  const parent = parseTraceparent(get(TRACEPARENT));
  if (parent !== undefined) {
    const traceState = parseTracestate(get(TRACESTATE));
    return {
      spanContext: traceState === undefined ? parent : { ...parent, traceState },
      sampled: (parent.traceFlags & FLAG_SAMPLED) !== 0,
      debug: false,
      format: 'w3c',
      parentSpanId: undefined,
    };
  }
  const single = parseB3Single(get(B3_SINGLE));
  if (single !== undefined) return fromB3(single, 'b3');
  const multi = parseB3Multi(get);
  if (multi !== undefined) return fromB3(multi, 'b3multi');
  return NONE;
}

function fromB3(b3: B3Context, format: TraceContextFormat): RemoteTraceContext {
  const spanContext: SpanContext | undefined =
    b3.traceId === undefined || b3.spanId === undefined
      ? undefined
      : {
          traceId: b3.traceId,
          spanId: b3.spanId,
          traceFlags: b3.sampled === true ? FLAG_SAMPLED : 0,
          isRemote: true,
        };
  return {
    spanContext,
    sampled: b3.sampled,
    debug: b3.debug,
    format: spanContext === undefined ? undefined : format,
    parentSpanId: b3.parentSpanId,
  };
}

/**
 * `ctx` with the extracted span context (as the remote parent) and baggage set, ready to parent
 * a SERVER span or to make active around a handler. A B3 sampling decision sent without ids
 * becomes a fresh remote parent carrying only that decision, so a not-sampled caller stays not
 * sampled downstream.
 */
export function contextWithTraceContext(ctx: Context, extracted: ExtractedTraceContext): Context {
  let out = ctx;
  let spanContext = extracted.spanContext;
  if (spanContext === undefined && extracted.sampled === false) {
    // No ids, only "do not sample": the trace starts here, unsampled.
    spanContext = { traceId: randomTraceId(), spanId: randomSpanId(), traceFlags: 0, isRemote: true };
  }
  if (spanContext !== undefined) out = trace.setSpanContext(out, spanContext);
  if (extracted.baggage !== undefined) out = propagation.setBaggage(out, extracted.baggage);
  return out;
}
