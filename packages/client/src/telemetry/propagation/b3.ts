/**
 * B3 propagation (https://github.com/openzipkin/b3-propagation), as Envoy's Zipkin tracer reads
 * and writes it: the multi-header form (`x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`,
 * `x-b3-sampled`, `x-b3-flags`) and the single header `b3: {traceid}-{spanid}-{sampling}-{parent}`.
 *
 * A 64-bit trace id is left-padded with zeros to 128 bits (the B3 spec's rule for
 * interoperating with 128-bit systems, and what OpenTelemetry's B3 propagator does). Hex is
 * accepted in either case and lowercased. Debug (`x-b3-flags: 1`, sampling state `d`) implies
 * sampled. A sampling decision may travel without ids (`b3: 0`, a lone `x-b3-sampled`).
 */
import { HEX_NONZERO, hexRange } from './hex-ids.ts';
import {
  B3_FLAGS,
  B3_PARENT_SPAN_ID,
  B3_SAMPLED,
  B3_SPAN_ID,
  B3_TRACE_ID,
  type HeaderGetter,
} from './trace-headers.ts';

/** What one B3 form carried. */
export interface B3Context {
  /** 128-bit, lowercase; `undefined` when only a sampling decision was sent. */
  readonly traceId: string | undefined;
  readonly spanId: string | undefined;
  readonly parentSpanId: string | undefined;
  /** `undefined` when the sender deferred the decision. */
  readonly sampled: boolean | undefined;
  readonly debug: boolean;
}

const PAD_64 = '0000000000000000';

/** A B3 trace id (16 or 32 hex) as 128-bit lowercase, or `undefined` when invalid or zero. */
export function normalizeB3TraceId(value: string): string | undefined {
  const n = value.length;
  if (n !== 16 && n !== 32) return undefined;
  // Checked before padding: the characters of a concatenation cost more to read (hex-ids.ts).
  const lower = value.toLowerCase();
  if (lower.length !== n || hexRange(lower, 0, n) !== HEX_NONZERO) return undefined;
  return n === 16 ? PAD_64 + lower : lower;
}

function normalizeSpanId(value: string): string | undefined {
  if (value.length !== 16) return undefined;
  const lower = value.toLowerCase();
  return lower.length === 16 && hexRange(lower, 0, 16) === HEX_NONZERO ? lower : undefined;
}

/** A sampling-state value: `1`/`0` (and the legacy `true`/`false`), `d` for debug. */
function parseSampling(value: string): { sampled: boolean | undefined; debug: boolean } | undefined {
  switch (value) {
    case '1':
    case 'true':
      return { sampled: true, debug: false };
    case '0':
    case 'false':
      return { sampled: false, debug: false };
    case 'd':
      return { sampled: true, debug: true };
    default:
      return undefined;
  }
}

/** The single `b3` header, or `undefined` when it is malformed. */
export function parseB3Single(value: string | undefined): B3Context | undefined {
  if (value === undefined) return undefined;
  const header = value.trim();
  const parts = header.split('-');
  if (parts.length === 1) {
    // Only a sampling decision (the spec allows `0`, `1` or `d` alone).
    const s = parseSampling(parts[0]!);
    if (s === undefined) return undefined;
    return { traceId: undefined, spanId: undefined, parentSpanId: undefined, ...s };
  }
  if (parts.length > 4) return undefined;
  const [rawTrace, rawSpan, rawSampling, rawParent] = parts as [string, string, string?, string?];
  const traceId = normalizeB3TraceId(rawTrace);
  const spanId = normalizeSpanId(rawSpan);
  if (traceId === undefined || spanId === undefined) return undefined;
  let sampling: { sampled: boolean | undefined; debug: boolean } = { sampled: undefined, debug: false };
  if (rawSampling !== undefined) {
    const s = parseSampling(rawSampling);
    if (s === undefined) return undefined;
    sampling = s;
  }
  let parentSpanId: string | undefined;
  if (rawParent !== undefined) {
    parentSpanId = normalizeSpanId(rawParent);
    if (parentSpanId === undefined) return undefined;
  }
  return { traceId, spanId, parentSpanId, ...sampling };
}

/** The B3 multi headers, or `undefined` when none is present or the ids are malformed. */
export function parseB3Multi(get: HeaderGetter): B3Context | undefined {
  const rawTrace = get(B3_TRACE_ID)?.trim();
  const rawSpan = get(B3_SPAN_ID)?.trim();
  const rawSampled = get(B3_SAMPLED)?.trim();
  const debug = get(B3_FLAGS)?.trim() === '1';
  let sampled: boolean | undefined = debug ? true : undefined;
  if (!debug && rawSampled !== undefined) sampled = parseSampling(rawSampled)?.sampled;
  if (rawTrace === undefined && rawSpan === undefined) {
    if (sampled === undefined && !debug) return undefined;
    return { traceId: undefined, spanId: undefined, parentSpanId: undefined, sampled, debug };
  }
  if (rawTrace === undefined || rawSpan === undefined) return undefined;
  const traceId = normalizeB3TraceId(rawTrace);
  const spanId = normalizeSpanId(rawSpan);
  if (traceId === undefined || spanId === undefined) return undefined;
  const rawParent = get(B3_PARENT_SPAN_ID)?.trim();
  const parentSpanId = rawParent === undefined ? undefined : normalizeSpanId(rawParent);
  return { traceId, spanId, parentSpanId, sampled, debug };
}

/** The single `b3` header for a span: `{traceid}-{spanid}-{1|0|d}[-{parentspanid}]`. */
export function formatB3Single(
  traceId: string,
  spanId: string,
  sampled: boolean,
  debug: boolean,
  parentSpanId: string | undefined,
): string {
  const state = debug ? 'd' : sampled ? '1' : '0';
  return parentSpanId === undefined
    ? `${traceId}-${spanId}-${state}`
    : `${traceId}-${spanId}-${state}-${parentSpanId}`;
}
