/**
 * The `tracing` option of `createMesh()`: public shape, defaults and validation.
 */
import type { ConfigIssue } from '@dabba/discovery';
import type { TracerProvider } from '@opentelemetry/api';
import { checkOptionObject } from '../../option-shape.ts';

/** A trace-context format Dabba writes into outbound requests. */
export type PropagationFormat = 'w3c' | 'b3' | 'b3multi';

/** How the CLIENT span of a request is named. */
export type SpanNaming = 'istio' | 'otel';

/**
 * OpenTelemetry tracing of outbound requests, as an Envoy sidecar with Istio's tracing traces
 * them: one CLIENT span per logical request, and trace context written into every request sent.
 */
export interface TracingOptions {
  /** Default `true` when the `tracing` object is given. */
  readonly enabled?: boolean;
  /**
   * Percentage (0-100, two decimals) of requests without a sampling decision from their parent
   * that are traced: Envoy's `random_sampling`. Default 1, Istio's default
   * (`meshConfig.defaultConfig.tracing.sampling`). A parent's decision always wins.
   */
  readonly samplingPercent?: number;
  /**
   * Formats written into outbound requests. Default `['w3c', 'b3multi']`: W3C `traceparent`/
   * `tracestate` (read by Envoy's OpenTelemetry tracer) and the B3 multi headers (read and written
   * by Envoy's Zipkin tracer, Istio's long-standing default), so either kind of Envoy peer
   * continues the trace. `'b3'` is the single `b3` header.
   */
  readonly propagation?: readonly PropagationFormat[];
  /** Write the active context's W3C `baggage` when the request has none. Default `true`. */
  readonly baggage?: boolean;
  /** Add a UUIDv4 `x-request-id` when the request has none, as Envoy does. Default `true`. */
  readonly requestId?: boolean;
  /** Where spans go. Default: the global provider (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider;
  /**
   * Span names. `'istio'` (default): the operation Istio gives outbound routes,
   * `<service FQDN>:<port>/*`; `'otel'`: the HTTP method, as OTel's HTTP client conventions name
   * a span without a URL template.
   */
  readonly spanName?: SpanNaming;
}

export interface ResolvedTracingOptions {
  /** In ten-thousandths, as Envoy evaluates `random_sampling` (0..10000). */
  readonly samplingPerTenThousand: number;
  readonly w3c: boolean;
  readonly b3: boolean;
  readonly b3multi: boolean;
  readonly baggage: boolean;
  readonly requestId: boolean;
  readonly tracerProvider: TracerProvider | undefined;
  readonly spanName: SpanNaming;
}

export const TRACING_DEFAULTS = Object.freeze({
  samplingPercent: 1,
  propagation: Object.freeze(['w3c', 'b3multi'] as const),
  baggage: true,
  requestId: true,
  spanName: 'istio' as SpanNaming,
});

const KEYS = new Set([
  'enabled',
  'samplingPercent',
  'propagation',
  'baggage',
  'requestId',
  'tracerProvider',
  'spanName',
]);
const FORMATS = new Set<string>(['w3c', 'b3', 'b3multi']);

export function resolveTracingOptions(
  value: TracingOptions | undefined,
  source: string,
  issues: ConfigIssue[],
): ResolvedTracingOptions | undefined {
  if (value === undefined) return undefined;
  const base = 'tracing';
  if (!checkOptionObject(value, base, KEYS, source, issues)) return undefined;
  for (const key of ['enabled', 'baggage', 'requestId'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'boolean') {
      issues.push({ source, path: `${base}.${key}`, message: 'must be a boolean' });
    }
  }
  const percent = value.samplingPercent ?? TRACING_DEFAULTS.samplingPercent;
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    issues.push({
      source,
      path: `${base}.samplingPercent`,
      message: `must be a number from 0 to 100, got ${String(percent)}`,
    });
  }
  const formats = value.propagation ?? TRACING_DEFAULTS.propagation;
  if (!Array.isArray(formats)) {
    issues.push({
      source,
      path: `${base}.propagation`,
      message: "must be an array of 'w3c', 'b3', 'b3multi'",
    });
  } else {
    formats.forEach((f: unknown, i) => {
      if (typeof f !== 'string' || !FORMATS.has(f)) {
        issues.push({
          source,
          path: `${base}.propagation[${i}]`,
          message: `must be 'w3c', 'b3' or 'b3multi', got ${String(f)}`,
        });
      }
    });
  }
  const provider = value.tracerProvider;
  if (
    provider !== undefined &&
    (provider === null || typeof (provider as TracerProvider).getTracer !== 'function')
  ) {
    issues.push({
      source,
      path: `${base}.tracerProvider`,
      message: 'must be an OpenTelemetry TracerProvider',
    });
  }
  const spanName = value.spanName ?? TRACING_DEFAULTS.spanName;
  if (spanName !== 'istio' && spanName !== 'otel') {
    issues.push({
      source,
      path: `${base}.spanName`,
      message: `must be 'istio' or 'otel', got ${String(spanName)}`,
    });
  }
  if (value.enabled === false) return undefined;
  const list: readonly string[] = Array.isArray(formats) ? formats : [];
  return Object.freeze({
    samplingPerTenThousand: Math.round((typeof percent === 'number' ? percent : 0) * 100),
    w3c: list.includes('w3c'),
    b3: list.includes('b3'),
    b3multi: list.includes('b3multi'),
    baggage: value.baggage ?? TRACING_DEFAULTS.baggage,
    requestId: value.requestId ?? TRACING_DEFAULTS.requestId,
    tracerProvider: provider,
    spanName,
  });
}
