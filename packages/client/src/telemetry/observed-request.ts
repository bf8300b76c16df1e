/**
 * The telemetry of one logical request: its CLIENT span (when sampled and an SDK records it),
 * the trace context it propagates, and its access log line. Created by the mesh when tracing or
 * access logging is on, fed through the {@link RequestObserver} hooks, and finished once, in
 * `requestEnded`, where the span ends and the log line is rendered and written.
 *
 * Sampling is decided before the OpenTelemetry SDK is touched: a request that is not sampled
 * never calls `tracer.startSpan`, yet carries trace ids with the not-sampled flag upstream, as
 * Envoy propagates its decision. When the tracer records nothing (no SDK registered), the span
 * is dropped and Dabba's own span id is propagated, so downstream Envoy hops still join one trace.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  propagation,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type TraceState,
  trace,
} from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import type { IncomingRequest } from '../dispatch/incoming-request.ts';
import type { RequestTarget } from '../dispatch/request-target.ts';
import type { Host } from '../lb/host.ts';
import type { AccessLogEntry } from './access-log/access-log-entry.ts';
import { ENVOY_RESPONSE_FLAGS, NO_RESPONSE_FLAGS } from './istio-metric-names.ts';
import type { MeshTelemetry } from './mesh-telemetry.ts';
import { readTraceContext } from './propagation/extract.ts';
import { randomSpanId, randomTraceId } from './propagation/hex-ids.ts';
import { injectTraceContext, type OutboundTraceContext } from './propagation/inject.ts';
import { isSampledMark, type RequestIdGenerator } from './propagation/request-id.ts';
import {
  HAS_CLIENT_TRACE_ID,
  HAS_FORCE_TRACE,
  HAS_REQUEST_ID,
  HAS_TRACE_CONTEXT,
  traceHeadersPresent,
} from './propagation/trace-header-presence.ts';
import { BAGGAGE, CLIENT_TRACE_ID, FORCE_TRACE, REQUEST_ID } from './propagation/trace-headers.ts';
import { formatBaggage } from './propagation/w3c-baggage.ts';
import { FLAG_SAMPLED } from './propagation/w3c-trace-context.ts';
import { bodyBytes } from './request-bytes.ts';
import type { RequestObserver } from './request-observer.ts';
import { localReplyStatus, responseFlagsOf } from './response-outcome.ts';
import { decideSampling, sampleByRate } from './tracing/decide-sampling.ts';
import {
  FORCED_CLIENT,
  FORCED_SERVICE,
  forcedMark,
  traceableRequestId,
  withTraceMark,
} from './tracing/request-id-sampling.ts';
import { istioOperationName, istioSubset } from './tracing/span-naming.ts';
import type { ResolvedTracingOptions } from './tracing/tracing-options.ts';

const FLAG_ORDER = new Map<string, number>(ENVOY_RESPONSE_FLAGS.map((f, i) => [f, i]));

/** Envoy's `%RESPONSE_CODE_DETAILS%` for a request that ended with `flags` and no upstream response. */
function detailsOf(flags: string): string {
  if (flags.includes('FI')) return 'fault_filter_abort';
  if (flags.includes('NR')) return 'route_not_found';
  if (flags.includes('NC')) return 'cluster_not_found';
  if (flags.includes('UH')) return 'no_healthy_upstream';
  if (flags.includes('UO')) return 'overflow';
  if (flags.includes('UT')) return 'upstream_response_timeout';
  if (flags.includes('UF')) return 'upstream_reset_before_response_started{connection_failure}';
  if (flags.includes('UC')) return 'upstream_reset_before_response_started{connection_termination}';
  if (flags.includes('UR')) return 'upstream_reset_before_response_started{remote_reset}';
  if (flags.includes('DC')) return 'downstream_remote_disconnect';
  return '-';
}

/** Two flag lists merged in Envoy's order (`DI` from the fault filter with the router's). */
function mergeFlags(a: string, b: string): string {
  if (a === NO_RESPONSE_FLAGS) return b;
  if (b === NO_RESPONSE_FLAGS) return a;
  const all = [...new Set([...a.split(','), ...b.split(',')])];
  all.sort((x, y) => (FLAG_ORDER.get(x) ?? 99) - (FLAG_ORDER.get(y) ?? 99));
  return all.join(',');
}

export class ObservedRequest implements RequestObserver, AccessLogEntry {
  readonly #telemetry: MeshTelemetry;
  readonly #request: IncomingRequest;
  readonly #target: RequestTarget;
  readonly #body: Dispatcher.DispatchOptions['body'];
  /** `Date.now()` at dispatch when access logs are on, for the log's START_TIME; 0 otherwise. */
  readonly startTime: number;
  /**
   * `performance.now()` at dispatch when access logs are on (durations) or a span may record
   * (its start: a performance timestamp gives the SDK sub-millisecond span times); 0 otherwise.
   */
  readonly #startedAt: number;
  /** Access logs are on: time the request. */
  readonly #timed: boolean;
  readonly method: string;
  readonly pathAndQuery: string;
  readonly authority: string;
  protocol = 'HTTP/1.1';
  status = 0;
  responseFlags = NO_RESPONSE_FLAGS;
  responseCodeDetails = '-';
  bytesSent = 0;
  durationMs = 0;
  upstreamServiceTimeMs: number | undefined;
  attempts = 0;
  upstreamCluster: string | undefined;
  routeName: string | undefined;
  #lastHost: Host | undefined;
  #firstAttemptAt = 0;
  #responseHeaders: IncomingHttpHeaders | undefined;
  /** Flags raised before the router (`DI`). */
  #extraFlags = NO_RESPONSE_FLAGS;
  #ended = false;
  /** The x-request-id sent upstream (the caller's, or one generated); read when tracing is on. */
  #requestId: string | undefined;
  /** Set when tracing is on. */
  #trace: OutboundTraceContext | undefined;
  /** The active context at dispatch (the span's parent unless the request carried one). */
  #activeContext: Context | undefined;
  /** The caller's span read from the request's headers, when no span was active. */
  #remoteParent: SpanContext | undefined;
  #span: Span | undefined;
  #spanStarted = false;

  constructor(
    telemetry: MeshTelemetry,
    request: IncomingRequest,
    target: RequestTarget,
    options: Dispatcher.DispatchOptions,
  ) {
    this.#telemetry = telemetry;
    // Clocks are read only for what needs them: a request traced but not sampled reads none.
    this.#timed = telemetry.accessLog !== undefined;
    this.#request = request;
    this.#target = target;
    this.#body = options.body;
    this.method = request.method;
    this.pathAndQuery = options.path;
    this.authority = request.authority;
    const tracing = telemetry.tracing;
    if (tracing !== undefined) this.#decide(tracing, telemetry.requestIds);
    this.startTime = this.#timed ? Date.now() : 0;
    // A sampled request reads the clock only when a span may record it (an SDK is registered).
    this.#startedAt =
      this.#timed || (this.#trace?.sampled === true && telemetry.mayRecord) ? performance.now() : 0;
  }

  /** The request body's length when known up front (a string or bytes); 0 otherwise. */
  get bytesReceived(): number {
    return bodyBytes(this.#body);
  }

  /** `address:port` of the last attempt's host. */
  get upstreamHost(): string | undefined {
    const host = this.#lastHost;
    return host === undefined ? undefined : `${host.address}:${host.port}`;
  }

  /**
   * Picks the parent (the active OTel span, else the trace context the request carries), the
   * x-request-id and the sampling decision. Nothing of the SDK runs here, and a request carrying
   * no tracing header is not searched for one (one pass over its header names).
   */
  #decide(tracing: ResolvedTracingOptions, requestIds: RequestIdGenerator | undefined): void {
    const request = this.#request;
    const present = traceHeadersPresent(request.raw);
    const active = context.active();
    this.#activeContext = active;
    let parent = trace.getSpanContext(active);
    let debug = false;
    let parentSampled: boolean | undefined;
    if (parent !== undefined && isSpanContextValid(parent)) {
      parentSampled = (parent.traceFlags & FLAG_SAMPLED) !== 0;
    } else if ((present & HAS_TRACE_CONTEXT) !== 0) {
      const extracted = readTraceContext((name) => request.get(name));
      parent = extracted.spanContext;
      debug = extracted.debug;
      parentSampled = extracted.sampled;
      this.#remoteParent = parent;
    } else {
      parent = undefined;
    }
    // Envoy's connection manager first derives a reason from x-request-id (and marks the id);
    // the tracer then honours B3 debug and a caller's sampled flag over it.
    let forced = 0;
    if ((present & HAS_CLIENT_TRACE_ID) !== 0 && request.get(CLIENT_TRACE_ID) !== undefined)
      forced |= FORCED_CLIENT;
    if ((present & HAS_FORCE_TRACE) !== 0 && request.get(FORCE_TRACE) !== undefined) forced |= FORCED_SERVICE;
    const rate = tracing.samplingPerTenThousand;
    let requestId = (present & HAS_REQUEST_ID) !== 0 ? request.get(REQUEST_ID) : undefined;
    let traceable: boolean;
    if (requestId !== undefined && requestId !== '') {
      const marked = traceableRequestId(requestId, rate, forced);
      traceable = marked !== undefined;
      if (traceable) requestId = marked;
    } else if (requestIds !== undefined) {
      // Generated with the random_sampling decision already packed in (request-id.ts); a forced
      // reason replaces it, as Envoy marks a fresh id that carries no reason yet.
      requestId = requestIds.next();
      traceable = forced !== 0 || isSampledMark(requestId);
      if (forced !== 0) requestId = withTraceMark(requestId, forcedMark(forced));
    } else {
      requestId = undefined;
      traceable = forced !== 0 || sampleByRate(rate, this.#telemetry.random);
    }
    this.#requestId = requestId;
    this.#trace = {
      traceId: parent?.traceId ?? randomTraceId(),
      spanId: randomSpanId(),
      sampled: decideSampling(parentSampled, debug, traceable),
      debug,
      parentSpanId: parent?.spanId,
      traceState: parent?.traceState,
    };
  }

  /** The request was routed to `cluster` by the route named `routeName`. */
  routed(cluster: string, routeName: string | undefined, http2: boolean): void {
    this.upstreamCluster = cluster;
    this.routeName = routeName;
    if (http2) this.protocol = 'HTTP/2';
    if (this.#trace?.sampled === true) this.#startSpan();
  }

  /**
   * Writes the trace context, `x-request-id` and baggage into the upstream request's headers
   * (a copy the mesh owns). Call after `routed`.
   */
  inject(headers: Record<string, string | string[]>): void {
    const tracing = this.#telemetry.tracing;
    if (tracing === undefined || this.#trace === undefined) return;
    injectTraceContext(headers, this.#trace, tracing);
    if (this.#requestId !== undefined) headers[REQUEST_ID] = this.#requestId;
    if (tracing.baggage && headers[BAGGAGE] === undefined) {
      // The context the request was dispatched in (the same one unless a fault delay ran between).
      const baggage = propagation.getBaggage(this.#activeContext!);
      const value = baggage === undefined ? undefined : formatBaggage(baggage);
      if (value !== undefined) headers[BAGGAGE] = value;
    }
  }

  /** Whether `inject` has anything to write (tracing is on). */
  get injects(): boolean {
    return this.#trace !== undefined;
  }

  /** The fault filter delayed the request (`DI`). */
  delayed(): void {
    this.#extraFlags = 'DI';
  }

  #startSpan(): void {
    if (this.#spanStarted) return;
    this.#spanStarted = true;
    const telemetry = this.#telemetry;
    if (!telemetry.mayRecord) return;
    const t = this.#trace!;
    const name =
      telemetry.tracing!.spanName === 'otel'
        ? this.method
        : istioOperationName(this.upstreamCluster, this.authority);
    const target = this.#target;
    const remote = this.#remoteParent;
    const parentContext =
      remote === undefined ? this.#activeContext! : trace.setSpanContext(this.#activeContext!, remote);
    // Only what OTel's HTTP conventions list as sampling inputs is given at creation ("SHOULD be
    // provided at span creation time"); the rest is set once the span is known to record, so a
    // span the SDK's sampler drops costs no attribute work.
    const span = telemetry.tracer!.startSpan(
      name,
      {
        kind: SpanKind.CLIENT,
        // 0 when the SDK was registered after this request began: its start is now.
        startTime: this.#startedAt === 0 ? performance.now() : this.#startedAt,
        attributes: {
          'http.request.method': this.method,
          'url.full': `${target.scheme}://${this.authority}${this.pathAndQuery}`,
          'server.address': target.hostname,
          'server.port': target.port,
        },
      },
      parentContext,
    );
    const sc = span.spanContext();
    // A no-op tracer returns the parent's context (or an invalid one): nothing records, so
    // Dabba's own ids are propagated instead.
    if (!isSpanContextValid(sc) || sc.spanId === t.parentSpanId) return;
    this.#span = span;
    this.#trace = {
      traceId: sc.traceId,
      spanId: sc.spanId,
      sampled: (sc.traceFlags & FLAG_SAMPLED) !== 0,
      debug: t.debug,
      parentSpanId: t.parentSpanId,
      traceState: sc.traceState as TraceState | undefined,
    };
    if (span.isRecording()) this.#setSpanAttributes(span);
  }

  /** Envoy's and Istio's span tags and Dabba's own, set one by one on a span that records. */
  #setSpanAttributes(span: Span): void {
    for (const [key, value] of this.#telemetry.spanTagList) span.setAttribute(key, value);
    if (this.#requestId !== undefined) span.setAttribute('guid:x-request-id', this.#requestId);
    const userAgent = this.#request.get('user-agent');
    if (userAgent !== undefined) span.setAttribute('user_agent.original', userAgent);
    const cluster = this.upstreamCluster;
    if (cluster !== undefined) {
      span.setAttribute('upstream_cluster', cluster);
      span.setAttribute('upstream_cluster.name', cluster);
      const subset = istioSubset(cluster);
      if (subset !== undefined) span.setAttribute('dabba.subset', subset);
    }
    if (this.routeName) span.setAttribute('dabba.route.name', this.routeName);
  }

  // --- RequestObserver ---

  attemptStarted(host: Host, attempt: number): void {
    if (attempt === 1 && this.#timed) this.#firstAttemptAt = performance.now();
    this.attempts = attempt;
    this.#lastHost = host;
  }

  attemptEnded(
    host: Host,
    attempt: number,
    status: number,
    failure: string | undefined,
    retried: boolean,
  ): void {
    const span = this.#span;
    if (span === undefined) return;
    const attributes: Attributes = {
      'dabba.attempt': attempt,
      'network.peer.address': host.address,
      'network.peer.port': host.port,
      'dabba.retried': retried,
    };
    if (status > 0) attributes['http.response.status_code'] = status;
    if (failure !== undefined) attributes['error.type'] = failure;
    span.addEvent('dabba.attempt', attributes);
  }

  responseStarted(status: number, headers: IncomingHttpHeaders): void {
    this.#responseHeaders = headers;
    if (this.#firstAttemptAt > 0)
      this.upstreamServiceTimeMs = Math.round(performance.now() - this.#firstAttemptAt);
    this.status = status;
  }

  requestEnded(status: number, responseFlags: string, responseBytes: number, error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.status = status;
    this.responseFlags = mergeFlags(this.#extraFlags, responseFlags);
    this.bytesSent = responseBytes;
    if (this.#timed) this.durationMs = Math.round(performance.now() - this.#startedAt);
    if (this.responseCodeDetails === '-') {
      this.responseCodeDetails =
        this.#responseHeaders !== undefined ? 'via_upstream' : detailsOf(responseFlags);
    }
    if (this.#trace?.sampled === true) this.#endSpan(error);
    const log = this.#telemetry.accessLog;
    if (log !== undefined) this.#telemetry.writeLog(log.render(this));
  }

  /** The mesh answered with a direct response or a redirect (`direct_response`). */
  answeredLocally(status: number, bodyBytes: number, routeName: string | undefined): void {
    this.routeName = routeName;
    this.responseCodeDetails = 'direct_response';
    this.requestEnded(status, NO_RESPONSE_FLAGS, bodyBytes, undefined);
  }

  /** The codec or connection manager refused the request before routing (431 `DPE`, 400). */
  refusedDownstream(status: number, responseFlags: string, details: string, bodyBytes: number): void {
    this.responseCodeDetails = details;
    this.requestEnded(status, responseFlags, bodyBytes, undefined);
  }

  /** The fault filter aborted the request (`FI`) with `status` and a body of `bodyBytes`. */
  faultAborted(status: number, bodyBytes: number): void {
    this.responseCodeDetails = 'fault_filter_abort';
    this.requestEnded(status, 'FI', bodyBytes, undefined);
  }

  /** The mesh failed the request itself (`NR`, `NC`, `UH`...) with `error`. */
  failedLocally(error: Error, routeName: string | undefined): void {
    this.routeName = routeName;
    const flags = responseFlagsOf(error);
    this.requestEnded(localReplyStatus(flags), flags, 0, error);
  }

  #endSpan(error: Error | undefined): void {
    this.#startSpan();
    const span = this.#span;
    if (span === undefined) return;
    const status = this.status;
    const host = this.#lastHost;
    if (status > 0) span.setAttribute('http.response.status_code', status);
    span.setAttribute('response_flags', this.responseFlags);
    if (host !== undefined) {
      span.setAttribute('network.peer.address', host.address);
      span.setAttribute('network.peer.port', host.port);
      const l = host.locality;
      if (l.region !== '' || l.zone !== '')
        span.setAttribute('dabba.upstream.locality', `${l.region}/${l.zone}/${l.subZone}`);
    }
    if (this.attempts > 1) span.setAttribute('http.request.resend_count', this.attempts - 1);
    const bytesReceived = this.bytesReceived;
    if (bytesReceived > 0) span.setAttribute('http.request.body.size', bytesReceived);
    span.setAttribute('http.response.body.size', this.bytesSent);
    // Envoy marks a span `error` for 5xx and for requests with no response; 4xx stays unset.
    if (status >= 500 || (status === 0 && error !== undefined)) {
      const type =
        status >= 500 && error === undefined ? String(status) : errorType(error, this.responseFlags);
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message ?? '' });
    }
    // The same clock as the start (the API's TimeInput takes a performance.now() value).
    span.end(performance.now());
  }

  // --- AccessLogEntry ---

  requestHeader(name: string): string | undefined {
    if (name !== REQUEST_ID) return this.#request.get(name);
    if (this.#trace !== undefined) return this.#requestId;
    // Tracing off: the caller's id, an empty one counting as none.
    const id = this.#request.get(REQUEST_ID);
    return id === '' ? undefined : id;
  }

  responseHeader(name: string): string | undefined {
    const v = this.#responseHeaders?.[name];
    return Array.isArray(v) ? v.join(',') : v;
  }
}

/** `error.type`: the Dabba error code when there is one, else the response flags. */
function errorType(error: Error | undefined, flags: string): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return flags === NO_RESPONSE_FLAGS ? '_OTHER' : flags;
}
