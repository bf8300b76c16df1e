/**
 * Header names of the trace-context formats Dabba reads and writes, lowercase as Node and undici
 * carry them. W3C Trace Context (https://www.w3.org/TR/trace-context/), W3C Baggage
 * (https://www.w3.org/TR/baggage/), B3 (https://github.com/openzipkin/b3-propagation) and
 * Envoy's `x-request-id`.
 */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';
export const BAGGAGE = 'baggage';
export const B3_SINGLE = 'b3';
export const B3_TRACE_ID = 'x-b3-traceid';
export const B3_SPAN_ID = 'x-b3-spanid';
export const B3_PARENT_SPAN_ID = 'x-b3-parentspanid';
export const B3_SAMPLED = 'x-b3-sampled';
export const B3_FLAGS = 'x-b3-flags';
export const REQUEST_ID = 'x-request-id';
/** Envoy: trace this request (client forced, subject to client sampling). */
export const CLIENT_TRACE_ID = 'x-client-trace-id';
/** Envoy: trace this request (service forced). */
export const FORCE_TRACE = 'x-envoy-force-trace';

/** A header read by name (lowercase); several values already joined or the first one. */
export type HeaderGetter = (name: string) => string | undefined;

/**
 * Headers as the inbound side holds them: Node's `IncomingHttpHeaders` (lowercase keys), a
 * Fetch `Headers`, or a lookup function.
 */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null | undefined }
  | ((name: string) => string | readonly string[] | undefined);

/** A getter over any {@link HeaderSource}; repeated values are joined with `,` (RFC 9110 5.3). */
export function headerGetter(source: HeaderSource): HeaderGetter {
  if (typeof source === 'function') return (name) => joinValues(source(name));
  if (typeof (source as { get?: unknown }).get === 'function') {
    const headers = source as { get(name: string): string | null | undefined };
    return (name) => headers.get(name) ?? undefined;
  }
  const record = source as Readonly<Record<string, string | readonly string[] | undefined>>;
  return (name) => joinValues(record[name]);
}

function joinValues(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 0 ? undefined : value.join(',');
}
