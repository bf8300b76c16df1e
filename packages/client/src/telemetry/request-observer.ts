/**
 * The seam between the request path and per-request telemetry (spans, access logs). The router
 * and the mesh call these hooks when an observer is attached to the request; with none attached
 * each hook costs one `undefined` check and nothing is allocated.
 *
 * One logical request (what the caller dispatched) has one observer; attempts are numbered from
 * 1 in the order the router starts them. `requestEnded` is called exactly once.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Host } from '../lb/host.ts';

export interface RequestObserver {
  /** Attempt number `attempt` is dispatched to `host`. */
  attemptStarted(host: Host, attempt: number): void;
  /**
   * An attempt ended without its response being forwarded: with a `status` the router dropped
   * (0 when none arrived) or a `failure` (`connect-failure`, `reset`, `per-try-timeout`...);
   * `retried` tells whether another attempt follows.
   */
  attemptEnded(
    host: Host,
    attempt: number,
    status: number,
    failure: string | undefined,
    retried: boolean,
  ): void;
  /** Final response headers are forwarded to the caller. */
  responseStarted(status: number, headers: IncomingHttpHeaders): void;
  /**
   * The logical request ended. `status` is the forwarded status, else the status of the local
   * reply Envoy would have sent (0 when none); `responseFlags` Envoy's flags (`-` when none);
   * `responseBytes` the body bytes forwarded; `error` how it failed, if it did.
   */
  requestEnded(status: number, responseFlags: string, responseBytes: number, error: Error | undefined): void;
}
