/**
 * One upstream attempt of a {@link RouterRequest}: the undici handler given to the endpoint pool.
 * It keeps the endpoint's in-flight count (LEAST_REQUEST reads it), tells the cluster's outlier
 * detection what it saw of the host, and forwards every event to its router, which ignores the
 * attempt once it is no longer the current one (given up for a retry, a timeout or an abort).
 *
 * A response the router drops for a retry is drained here: its body is read to the end so undici
 * keeps the HTTP/1.1 connection, within {@link DRAIN_LIMIT_MS}, after which the stream is reset.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Host } from '../lb/host.ts';
import type { RouterRequest } from './router-request.ts';

/** How long a dropped response's small body may take to arrive before its stream is reset. */
const DRAIN_LIMIT_MS = 1000;

/** The abort reason given to an attempt the router abandons; never reaches the caller. */
export const ABANDONED = new Error('dabba: upstream attempt abandoned (retry, timeout or abort)');

export class AttemptHandler implements Dispatcher.DispatchHandler {
  readonly router: RouterRequest;
  readonly host: Host;
  controller: Dispatcher.DispatchController | undefined;
  /** undici called onRequestStart: the request is being written. */
  started = false;
  #finished = false;
  /** Bounds the reading of a dropped response's body (see {@link drain}). */
  #drainTimer: NodeJS.Timeout | undefined;

  constructor(router: RouterRequest, host: Host) {
    this.router = router;
    this.host = host;
    host.activeRequests++;
  }

  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.host.activeRequests--;
  }

  /**
   * The router dropped this response: read its body to the end (the router ignores it) so undici
   * keeps the connection, but reset it if it has not ended within {@link DRAIN_LIMIT_MS}.
   */
  drain(): void {
    this.#drainTimer = setTimeout(AttemptHandler.#onDrainLimit, DRAIN_LIMIT_MS, this);
    this.#drainTimer.unref();
  }

  static #onDrainLimit(attempt: AttemptHandler): void {
    attempt.#drainTimer = undefined;
    attempt.controller?.abort(ABANDONED);
  }

  onRequestStart(controller: Dispatcher.DispatchController, _context: unknown): void {
    this.controller = controller;
    this.started = true;
    // undici starts the request once it has a connected socket: Envoy's LocalOriginConnectSuccess
    // (counted only when local-origin errors are split).
    this.router.outlier?.record(this.host, 'local-success');
    this.router.attemptStarted(this, controller);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.finish();
    this.router.attemptUpgrade(this, controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    // Every final status counts, retried or forwarded; 1xx is not a result.
    if (statusCode >= 200) this.router.outlier?.record(this.host, statusCode);
    this.router.attemptHeaders(this, controller, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.router.attemptData(this, chunk);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.finish();
    this.router.attemptEnd(this, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.finish();
    this.router.attemptError(this, error);
  }
}
