/**
 * Per-mesh state of the per-request telemetry (tracing, access logs): resolved once when the
 * mesh is created. The mesh asks it for one {@link ObservedRequest} per request, and only when
 * one of the two is on.
 */
import type { Workload } from '@dabba/discovery';
import {
  type Attributes,
  ProxyTracer,
  ProxyTracerProvider,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import type { IncomingRequest } from '../dispatch/incoming-request.ts';
import type { RequestTarget } from '../dispatch/request-target.ts';
import type { ResolvedAccessLogOptions } from './access-log/access-log-options.ts';
import { istioSourceLabels } from './istio-peer-labels.ts';
import { ObservedRequest } from './observed-request.ts';
import { RequestIdGenerator } from './propagation/request-id.ts';
import type { ResolvedTracingOptions } from './tracing/tracing-options.ts';

/** The instrumentation scope of Dabba's spans. */
export const TRACER_NAME = '@dabba/client';

/** The provider a global proxy delegates to while no SDK is registered (the API's no-op one). */
const NO_SDK: TracerProvider = new ProxyTracerProvider().getDelegate();

export class MeshTelemetry {
  readonly tracing: ResolvedTracingOptions | undefined;
  readonly tracer: Tracer | undefined;
  readonly accessLog: ResolvedAccessLogOptions | undefined;
  readonly random: () => number;
  /** Generates the x-request-id of requests without one (the `requestId` option). */
  readonly requestIds: RequestIdGenerator | undefined;
  /** Tags Istio's proxies put on every span (`component`, `istio.namespace`, `istio.canonical_*`). */
  readonly spanTags: Attributes;
  /** {@link spanTags} as key, value pairs: set one by one on each recorded span. */
  readonly spanTagList: readonly (readonly [string, string])[];
  #logFailed = false;
  /** The global proxy behind {@link tracer} when no SDK was registered yet at construction. */
  readonly #proxy: ProxyTracerProvider | undefined;

  constructor(
    tracing: ResolvedTracingOptions | undefined,
    accessLog: ResolvedAccessLogOptions | undefined,
    workload: Workload,
    random: () => number,
  ) {
    this.tracing = tracing;
    this.accessLog = accessLog;
    this.random = random;
    this.requestIds =
      tracing?.requestId === true ? new RequestIdGenerator(tracing.samplingPerTenThousand) : undefined;
    // The global provider is a proxy: an SDK registered after the mesh was created is used.
    const provider =
      tracing === undefined ? undefined : (tracing.tracerProvider ?? trace.getTracerProvider());
    this.tracer = provider?.getTracer(TRACER_NAME);
    this.#proxy =
      this.tracer instanceof ProxyTracer && provider instanceof ProxyTracerProvider ? provider : undefined;
    const labels = istioSourceLabels(workload);
    this.spanTags = Object.freeze({
      component: 'proxy',
      'istio.namespace': labels.source_workload_namespace,
      'istio.canonical_service': labels.source_canonical_service,
      'istio.canonical_revision': labels.source_canonical_revision,
    });
    this.spanTagList = Object.freeze(
      Object.entries(this.spanTags).map(([k, v]) => Object.freeze([k, String(v)] as const)),
    );
  }

  /**
   * Whether {@link tracer} may record a span: false while it is the global proxy and no SDK is
   * registered, when `startSpan` could only return a non-recording span carrying its parent's
   * context (and Dabba propagates its own ids instead). One property read per sampled request.
   */
  get mayRecord(): boolean {
    return this.#proxy === undefined || this.#proxy.getDelegate() !== NO_SDK;
  }

  /**
   * Writes one access log line. A stream that throws must not fail the request that just ended
   * (it runs inside the router's completion): the first failure becomes a process warning.
   */
  writeLog(line: string): void {
    try {
      this.accessLog!.stream.write(line);
    } catch (err) {
      if (this.#logFailed) return;
      this.#logFailed = true;
      process.emitWarning(`dabba: access log write failed: ${(err as Error).message}`);
    }
  }

  begin(
    request: IncomingRequest,
    target: RequestTarget,
    options: Dispatcher.DispatchOptions,
  ): ObservedRequest {
    return new ObservedRequest(this, request, target, options);
  }
}
