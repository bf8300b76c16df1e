/**
 * Observes a request the mesh forwards without its router (PassthroughCluster): wraps the
 * caller's handler, tells the observer (tracing, access logs) of the response, and ends the
 * request's record once with how it ended: one attempt, charged to the PassthroughCluster's
 * stats with the status the caller got. Made only when a sink is on, so requests with every
 * sink off are dispatched with the caller's handler as it is.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestRecord } from '../observe/request-record.ts';
import type { IstioRequestMetrics } from '../telemetry/istio-request-metrics.ts';
import type { ResponseLabelSets } from '../telemetry/response-label-sets.ts';
import { localReplyStatus, responseFlagsOf } from '../telemetry/response-outcome.ts';
import { classifyAttemptError, responseFlagOf } from './attempt-outcome.ts';

/** How a passed-through request is recorded in Istio's request metrics. */
export interface PassthroughRecording {
  readonly metrics: IstioRequestMetrics;
  /** PassthroughCluster's label sets (their `traffic` the cluster's Envoy stats, if configured). */
  readonly sets: ResponseLabelSets;
}

export class PassthroughHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #record: RequestRecord;
  #status = 0;
  #bytes = 0;
  #controller: Dispatcher.DispatchController | undefined;

  constructor(inner: Dispatcher.DispatchHandler, record: RequestRecord) {
    this.#inner = inner;
    this.#record = record;
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
      this.#record.observer?.responseStarted(status, headers);
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

  /** The request ended with `status` and `flags`: its record ends (once). */
  #end(
    status: number,
    flags: string,
    error: Error | undefined,
    forwarded: Dispatcher.DispatchController | undefined,
  ): void {
    // A caller's abort before any response is charged no code (Envoy's chargeUpstreamAbort skips DC).
    const charged = flags === 'DC' && this.#status === 0 ? 0 : status;
    this.#record.endUpstream(status, flags, forwarded, this.#bytes, 1, error, charged, false, false);
  }
}
