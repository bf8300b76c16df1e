/**
 * Writes the trace context of an outbound request into its headers, as Envoy's tracers do: the
 * formats configured are set (replacing what the application put there, as Envoy replaces them
 * with its own span's), the others are left as they are.
 */
import type { TraceState } from '@opentelemetry/api';
import { formatB3Single } from './b3.ts';
import {
  B3_FLAGS,
  B3_PARENT_SPAN_ID,
  B3_SAMPLED,
  B3_SINGLE,
  B3_SPAN_ID,
  B3_TRACE_ID,
  TRACEPARENT,
  TRACESTATE,
} from './trace-headers.ts';
import { formatTraceparent } from './w3c-trace-context.ts';

/** The span an outbound request carries: Dabba's CLIENT span, or the ids it would have had. */
export interface OutboundTraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  /** B3 debug, kept from the parent. */
  readonly debug: boolean;
  /** The span's parent, for `x-b3-parentspanid`. */
  readonly parentSpanId: string | undefined;
  readonly traceState: TraceState | undefined;
}

export interface InjectFormats {
  readonly w3c: boolean;
  readonly b3: boolean;
  readonly b3multi: boolean;
}

/** Sets the configured formats' headers in `headers` (lowercase names). */
export function injectTraceContext(
  headers: Record<string, string | string[]>,
  t: OutboundTraceContext,
  formats: InjectFormats,
): void {
  if (formats.w3c) {
    headers[TRACEPARENT] = formatTraceparent(t.traceId, t.spanId, t.sampled);
    const state = t.traceState?.serialize();
    if (state) headers[TRACESTATE] = state;
    else if (headers[TRACESTATE] !== undefined) delete headers[TRACESTATE];
  }
  if (formats.b3multi) {
    headers[B3_TRACE_ID] = t.traceId;
    headers[B3_SPAN_ID] = t.spanId;
    if (t.parentSpanId !== undefined) headers[B3_PARENT_SPAN_ID] = t.parentSpanId;
    else if (headers[B3_PARENT_SPAN_ID] !== undefined) delete headers[B3_PARENT_SPAN_ID];
    // B3: debug implies sampled, and X-B3-Sampled is not sent with X-B3-Flags: 1.
    if (t.debug) {
      headers[B3_FLAGS] = '1';
      if (headers[B3_SAMPLED] !== undefined) delete headers[B3_SAMPLED];
    } else {
      headers[B3_SAMPLED] = t.sampled ? '1' : '0';
      // Deletes only what is there: the usual request carries none of these headers.
      if (headers[B3_FLAGS] !== undefined) delete headers[B3_FLAGS];
    }
  }
  if (formats.b3)
    headers[B3_SINGLE] = formatB3Single(t.traceId, t.spanId, t.sampled, t.debug, t.parentSpanId);
}
