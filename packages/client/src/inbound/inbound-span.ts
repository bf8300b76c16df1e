import {
  type Attributes,
  type Context,
  context,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { TRACER_NAME } from '../telemetry/mesh-telemetry.ts';
import { contextWithTraceContext, extractTraceContext } from '../telemetry/propagation/extract.ts';
import { randomSpanId, randomTraceId } from '../telemetry/propagation/hex-ids.ts';
import { requestIdReason } from '../telemetry/tracing/request-id-sampling.ts';
import type { InboundNext, InboundRequest, InboundResponse } from './inbound-step.ts';

/** What the SERVER span step needs from the mesh's `tracing` option. */
export interface InboundTracingConfig {
  /** Where spans go; `undefined`: the global provider, looked up per request (it may be set later). */
  readonly tracerProvider: TracerProvider | undefined;
  /** `'istio'`: `<service FQDN>:<port>/*`, as Istio's inbound route decorator names it; `'otel'`: the method. */
  readonly spanName: 'istio' | 'otel';
  /** `tracing.samplingPercent` in ten-thousandths, as Envoy evaluates `random_sampling`. */
  readonly samplingPerTenThousand: number;
  /** The mesh's random source, for requests without an `x-request-id`. */
  readonly random: () => number;
  /** Tags Istio's proxies put on every span (`component`, `istio.namespace`, `istio.canonical_service`). */
  readonly tags: Attributes;
}

/** The inbound service for span names (`<host>:<port>/*`); `undefined` when not resolved. */
type InboundOperation = () => string | undefined;

// The global provider's stand-in when no SDK registered one: spans from it record nothing.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** OTel's well-known HTTP methods (semantic conventions `http.request.method`); others are `_OTHER`. */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/**
 * A SERVER span per inbound request, like the span an Envoy sidecar starts for an inbound request:
 * a child of the trace context the caller sent (W3C, B3 single or multi; `extractTraceContext`),
 * sampled as the caller decided (else by its `x-request-id`, else the configured percentage), active while the
 * application's listener runs (so its outbound mesh requests become CLIENT children), and ended
 * when the response closes, with OpenTelemetry's HTTP server attributes.
 *
 * With no tracer provider registered (the global one still the no-op), a request costs one
 * property read and nothing else. An unsampled request gets a non-recording span carrying the
 * caller's trace id, so the decision travels on to the next hop.
 */
export class InboundSpans {
  readonly #config: InboundTracingConfig;
  readonly #operation: InboundOperation;
  #provider: TracerProvider | undefined;
  #tracer: Tracer | undefined;

  constructor(config: InboundTracingConfig, operation: InboundOperation) {
    this.#config = config;
    this.#operation = operation;
  }

  /** The inbound step. */
  readonly step = (req: InboundRequest, res: InboundResponse, next: InboundNext): void => {
    const tracer = this.#currentTracer();
    if (tracer === undefined) {
      next(req, res);
      return;
    }
    const extracted = extractTraceContext(
      req.headers as Readonly<Record<string, string | string[] | undefined>>,
    );
    // Envoy's order: B3 debug forces it, the caller's decision wins, else the x-request-id reason
    // (traced mark, or the rate drawn from the id as the UUID extension does; random without one).
    const reason = requestIdReason(
      extracted.requestId,
      this.#config.samplingPerTenThousand,
      this.#config.random,
    );
    const sampled = extracted.debug || (extracted.sampled ?? reason.traceable);
    if (reason.requestId !== extracted.requestId && reason.requestId !== undefined) {
      // The id now carries the traced mark, as Envoy forwards it to the application.
      (req.headers as Record<string, string | string[] | undefined>)['x-request-id'] = reason.requestId;
    }
    let parent: Context = contextWithTraceContext(context.active(), extracted);
    let span: Span;
    if (!sampled) {
      // Not traced here: no SDK work, only the decision and the trace id passed on.
      span = trace.wrapSpanContext({
        traceId: extracted.spanContext?.traceId ?? randomTraceId(),
        spanId: randomSpanId(),
        traceFlags: 0,
      });
    } else {
      const remote = extracted.spanContext;
      // B3 debug samples a trace whose caller did not: the SDK's parent-based sampler reads the flag.
      if (remote !== undefined && (remote.traceFlags & 1) === 0) {
        parent = trace.setSpanContext(parent, { ...remote, traceFlags: remote.traceFlags | 1 });
      }
      const attributes = requestAttributes(req, this.#config.tags);
      if (reason.requestId !== undefined) attributes['guid:x-request-id'] = reason.requestId;
      span = tracer.startSpan(this.#spanName(req), { kind: SpanKind.SERVER, attributes }, parent);
      res.once('close', () => endSpan(span, res));
    }
    context.with(trace.setSpan(parent, span), next, undefined, req, res);
  };

  /** The tracer, or `undefined` while no provider is registered (then nothing is traced). */
  #currentTracer(): Tracer | undefined {
    const configured = this.#config.tracerProvider;
    let provider: TracerProvider;
    if (configured !== undefined) {
      provider = configured;
    } else {
      const global = trace.getTracerProvider();
      const delegate = (global as { getDelegate?: () => TracerProvider }).getDelegate?.() ?? global;
      if (delegate === NOOP_PROVIDER) return undefined;
      provider = delegate;
    }
    if (provider !== this.#provider) {
      this.#provider = provider;
      this.#tracer = provider.getTracer(TRACER_NAME);
    }
    return this.#tracer;
  }

  #spanName(req: InboundRequest): string {
    if (this.#config.spanName === 'otel') return methodOf(req.method).method;
    const operation = this.#operation();
    if (operation !== undefined) return operation;
    const host = req.headers.host ?? (req.headers as Record<string, string | undefined>)[':authority'];
    return `${host ?? 'unknown'}/*`;
  }
}

function methodOf(raw: string | undefined): { method: string; original: string | undefined } {
  const m = raw ?? 'GET';
  return KNOWN_METHODS.has(m) ? { method: m, original: undefined } : { method: '_OTHER', original: m };
}

/**
 * OpenTelemetry HTTP server span attributes (semantic conventions, "HTTP Server" spans, stable):
 * method, scheme, path and query, server address and port from the Host header, client address,
 * protocol version, user agent.
 */
function requestAttributes(req: InboundRequest, tags: Attributes): Attributes {
  const { method, original } = methodOf(req.method);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const socket = req.socket as
    | { encrypted?: boolean; remoteAddress?: string; remotePort?: number }
    | undefined;
  const attributes: Attributes = {
    ...tags,
    'http.request.method': method,
    'url.scheme': socket?.encrypted === true ? 'https' : 'http',
    'url.path': q < 0 ? url : url.slice(0, q),
    'network.protocol.version': req.httpVersionMajor === 2 ? '2' : req.httpVersion,
  };
  if (original !== undefined) attributes['http.request.method_original'] = original;
  if (q >= 0) attributes['url.query'] = url.slice(q + 1);
  const host = req.headers.host ?? (req.headers as Record<string, string | undefined>)[':authority'];
  if (host !== undefined) {
    // host[:port]; an IPv6 literal keeps its brackets out of server.address.
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
    if (m !== null) {
      attributes['server.address'] = m[1]!.replace(/^\[|\]$/g, '');
      if (m[2] !== undefined) attributes['server.port'] = Number(m[2]);
    }
  }
  if (socket?.remoteAddress !== undefined) {
    attributes['client.address'] = socket.remoteAddress;
    attributes['network.peer.address'] = socket.remoteAddress;
    if (socket.remotePort !== undefined) attributes['network.peer.port'] = socket.remotePort;
  }
  const agent = req.headers['user-agent'];
  if (typeof agent === 'string') attributes['user_agent.original'] = agent;
  return attributes;
}

/**
 * Ends a SERVER span when its response closes. Semantic conventions: 5xx is an error on the
 * server side (4xx is the client's). A response cut short by the client's disconnect is Envoy's
 * `DC`, with the error Envoy's tracer reports for it.
 */
function endSpan(span: Span, res: InboundResponse): void {
  const finished = res.writableFinished;
  if (res.headersSent) {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500 && finished) {
      span.setAttribute('error.type', String(res.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  span.setAttribute('response_flags', finished ? '-' : 'DC');
  if (!finished) {
    span.setAttribute('error.type', 'downstream_remote_disconnect');
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
