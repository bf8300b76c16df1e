/**
 * The one handler wrapper a request gets on its way upstream: it keeps the endpoint's in-flight
 * count (which LEAST_REQUEST reads) and applies the route's response header mutations, then
 * forwards every callback unchanged.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Host } from '../lb/host.ts';
import { applyHeaderMutations, type HeaderMutations } from '../route/header-mutations.ts';

export class UpstreamHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #host: Host;
  readonly #responseOps: HeaderMutations;
  #done = false;

  constructor(inner: Dispatcher.DispatchHandler, host: Host, responseOps: HeaderMutations) {
    this.#inner = inner;
    this.#host = host;
    this.#responseOps = responseOps;
    host.activeRequests++;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#host.activeRequests--;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.#finish();
    this.#inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (this.#responseOps.length > 0)
      applyHeaderMutations(this.#responseOps, headers as Record<string, string | string[]>);
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#finish();
    this.#inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#finish();
    this.#inner.onResponseError?.(controller, error);
  }
}
