/**
 * Observes a request the mesh forwards without its router (PassthroughCluster): wraps the
 * caller's handler and reports the response and the end to the request's observer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestObserver } from './request-observer.ts';
import { localReplyStatus, responseFlagsOf } from './response-outcome.ts';

export class ObservingHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #observer: RequestObserver;
  #status = 0;
  #bytes = 0;
  #controller: Dispatcher.DispatchController | undefined;

  constructor(inner: Dispatcher.DispatchHandler, observer: RequestObserver) {
    this.#inner = inner;
    this.#observer = observer;
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
    this.#observer.requestEnded(status, '-', 0, undefined);
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
      this.#observer.responseStarted(status, headers);
    }
    this.#inner.onResponseStart?.(controller, status, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bytes += chunk.length;
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#observer.requestEnded(this.#status, '-', this.#bytes, undefined);
    this.#inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController | null, error: Error): void {
    const flags = responseFlagsOf(error, this.#status === 0 ? 'UF' : 'UR');
    this.#observer.requestEnded(
      this.#status === 0 ? localReplyStatus(flags) : this.#status,
      flags,
      this.#bytes,
      error,
    );
    // undici may report an error before any controller exists; the caller's API wants one.
    this.#inner.onResponseError?.((controller ?? this.#controller)!, error);
  }
}
