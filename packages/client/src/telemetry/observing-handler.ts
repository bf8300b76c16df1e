/**
 * Observes a request the mesh forwards without its router (PassthroughCluster): wraps the
 * caller's handler, reports the response and the end to the request's observer (tracing, access
 * logs) and, with metrics on, records the request once in Istio's request metrics and the
 * PassthroughCluster's Envoy cluster stats. Made only when one of them is on, so requests with
 * both off are dispatched with the caller's handler as it is.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { classifyAttemptError, responseFlagOf } from '../dispatch/attempt-outcome.ts';
import { grpcStatusOf, httpToGrpcStatus } from './grpc-response-status.ts';
import type { IstioRequestMetrics } from './istio-request-metrics.ts';
import type { RequestObserver } from './request-observer.ts';
import type { ResponseLabelSets } from './response-label-sets.ts';
import { localReplyStatus, responseFlagsOf, withFaultDelayFlag } from './response-outcome.ts';
import { responseHeadBytes } from './wire-size.ts';

/** How a passed-through request is recorded in Istio's request metrics. */
export interface PassthroughRecording {
  readonly metrics: IstioRequestMetrics;
  /** PassthroughCluster's label sets (their `traffic` the cluster's Envoy stats, if configured). */
  readonly sets: ResponseLabelSets;
}

export class ObservingHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #observer: RequestObserver | undefined;
  readonly #recording: PassthroughRecording | undefined;
  /** `performance.now()` when the request reached the mesh (before any injected delay). */
  readonly #startedAt: number;
  readonly #requestBytes: number;
  readonly #grpc: boolean;
  /** An injected fault delay held the request: its record carries `DI`. */
  readonly #delayed: boolean;
  #status = 0;
  #bytes = 0;
  #ended = false;
  #controller: Dispatcher.DispatchController | undefined;

  /**
   * @param recording - `undefined` when metrics are off; then `startedAt`, `requestBytes`,
   *   `grpc` and `delayed` are not read.
   */
  constructor(
    inner: Dispatcher.DispatchHandler,
    observer: RequestObserver | undefined,
    recording: PassthroughRecording | undefined,
    startedAt: number,
    requestBytes: number,
    grpc: boolean,
    delayed: boolean,
  ) {
    this.#inner = inner;
    this.#observer = observer;
    this.#recording = recording;
    this.#startedAt = startedAt;
    this.#requestBytes = requestBytes;
    this.#grpc = grpc;
    this.#delayed = delayed;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#controller = controller;
    this.#inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.#status = status;
    this.#end(status, '-', undefined, controller);
    this.#inner.onRequestUpgrade?.(controller, status, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (status >= 200) {
      this.#status = status;
      this.#observer?.responseStarted(status, headers);
    }
    this.#inner.onResponseStart?.(controller, status, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bytes += chunk.length;
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#end(this.#status, '-', undefined, controller);
    this.#inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController | null, error: Error): void {
    const aborted = (controller ?? this.#controller)?.aborted === true;
    const flags = responseFlagsOf(error, this.#failureFlag(error, aborted));
    const forwarded = this.#status === 0 ? undefined : (controller ?? this.#controller);
    this.#end(this.#status === 0 ? localReplyStatus(flags) : this.#status, flags, error, forwarded);
    // undici may report an error before any controller exists; the caller's API wants one.
    this.#inner.onResponseError?.((controller ?? this.#controller)!, error);
  }

  /**
   * The flag of a failure, as the router gives it (attempt-outcome.ts): `DC` for a caller's
   * abort; `UR` for an upstream reset after the response started; before it, `UF` for a refused
   * or failed connect and `UC`/`UR` for a connection closed under the request; `-` for a local error.
   */
  #failureFlag(error: Error, aborted: boolean): string {
    if (aborted) return 'DC';
    const responded = this.#status !== 0;
    const kind = classifyAttemptError(error, responded || this.#controller !== undefined);
    if (kind === 'local') return '-';
    return responded ? 'UR' : responseFlagOf(kind, error);
  }

  /** The request ended with `status` and `flags`: told once to the observer and the metrics. */
  #end(
    status: number,
    flags: string,
    error: Error | undefined,
    forwarded: Dispatcher.DispatchController | undefined,
  ): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#observer?.requestEnded(status, flags, this.#bytes, error);
    const recording = this.#recording;
    if (recording !== undefined) this.#record(recording, status, flags, forwarded);
  }

  /**
   * One record in Istio's request metrics, as istio_stats.cc writes it for PassthroughCluster,
   * and the cluster's `upstream_rq_*` (one attempt, charged with the status the caller got).
   */
  #record(
    recording: PassthroughRecording,
    status: number,
    flags: string,
    forwarded: Dispatcher.DispatchController | undefined,
  ): void {
    let sets = recording.sets;
    let code = status;
    let grpcStatus = '';
    if (this.#grpc) {
      sets = sets.grpc;
      if (forwarded !== undefined) {
        grpcStatus =
          grpcStatusOf(forwarded.rawTrailers) ??
          grpcStatusOf(forwarded.rawHeaders) ??
          (status !== 0 ? httpToGrpcStatus(status) : '');
      } else if (status !== 0 && this.#status === 0) {
        // Envoy's local reply to a gRPC request: a trailers-only 200 with the mapped status.
        code = 200;
        grpcStatus = httpToGrpcStatus(status);
      }
    }
    const responseBytes =
      this.#status === 0 ? 0 : responseHeadBytes(this.#status, this.#controller?.rawHeaders) + this.#bytes;
    recording.metrics.record(
      sets.get(code, this.#delayed ? withFaultDelayFlag(flags) : flags, grpcStatus),
      performance.now() - this.#startedAt,
      this.#requestBytes,
      responseBytes,
    );
    // A caller's abort before any response is charged no code (Envoy's chargeUpstreamAbort skips DC).
    sets.traffic?.requestEnded(1, flags === 'DC' && this.#status === 0 ? 0 : status, false, false);
  }
}
