/**
 * One request's record, as Envoy's StreamInfo: made when the request enters the mesh, filled by
 * the stages that route and answer it, and ended exactly once, into every sink that is on:
 * Istio's request metrics and the cluster's Envoy stats (the `metrics` option), the observer
 * (tracing and access logs), and the `dabba:request:end` diagnostics channel. The stages say
 * how the request ended through one of the `end*` methods; what each sink records is decided
 * here, once, rather than at each place a request can end.
 *
 * What the metrics record follows Envoy's stats filter (istio_stats.cc) and router: a gRPC
 * request is recorded with `request_protocol="grpc"` and the gRPC status (a trailer, a header,
 * else the HTTP status mapped; a local reply to it is a trailers-only 200 carrying the mapped
 * status); a request an injected fault delayed carries `DI` and a duration from before the
 * delay; the cluster's stats are charged the code Envoy's router charges.
 */
import { channel } from 'node:diagnostics_channel';
import { type Clock, DabbaChannel, NO_RESPONSE_FLAGS } from '@dabba/core';
import type { Dispatcher } from 'undici';
import type { IncomingRequest } from '../dispatch/incoming-request.ts';
import type { RequestTarget } from '../dispatch/request-target.ts';
import type { Decision } from '../dispatch/resolve-request.ts';
import type { DabbaError } from '../errors.ts';
import { grpcStatusOf, httpToGrpcStatus, isGrpcRequest } from '../telemetry/grpc-response-status.ts';
import type { IstioRequestMetrics } from '../telemetry/istio-request-metrics.ts';
import type { ObservedRequest } from '../telemetry/observed-request.ts';
import { bodyBytes, requestBytes } from '../telemetry/request-bytes.ts';
import type { ResponseLabelSets } from '../telemetry/response-label-sets.ts';
import { localReplyStatus, responseFlagsOf, withFaultDelayFlag } from '../telemetry/response-outcome.ts';
import { responseHeadBytes } from '../telemetry/wire-size.ts';

const requestStart = channel(DabbaChannel.REQUEST_START);
const requestEnd = channel(DabbaChannel.REQUEST_END);

export class RequestRecord {
  /** The caller's dispatch options (after path normalization). */
  readonly options: Dispatcher.DispatchOptions;
  /** The request as routing sees it (headers, path, authority). */
  readonly request: IncomingRequest;
  /** Where the caller sent it (scheme, authority, port). */
  readonly target: RequestTarget;
  /** The routing decision, once routing ran. */
  decision: Decision | undefined = undefined;
  readonly clock: Clock;
  /** `clock.now()` when the request entered the mesh (before any injected delay). */
  readonly startedAt: number;
  /** Istio's request metrics; undefined when the `metrics` option is off. */
  readonly metrics: IstioRequestMetrics | undefined;
  /** Tracing and access logs; undefined when both are off. */
  readonly observer: ObservedRequest | undefined;
  /** The label sets the metrics record into: the cluster's, or those of no cluster; set by routing. */
  sets: ResponseLabelSets | undefined = undefined;
  /** The matched route's name, when a route matched. */
  routeName: string | undefined = undefined;
  /** The cluster the request was routed to, when one was. */
  cluster: string | undefined = undefined;
  /** An injected fault delay held the request: its flags carry `DI`. */
  delayed = false;
  /** The status the caller got: the forwarded one, else the local reply's (0 when none). */
  status = 0;
  /** Envoy's response flags (`-` when none), `DI` included. */
  responseFlags: string = NO_RESPONSE_FLAGS;
  /** Response body bytes the caller got. */
  responseBodyBytes = 0;
  /** Attempts sent to an endpoint. */
  attempts = 0;
  /** How the request failed, if it did. */
  error: Error | undefined = undefined;
  #ended = false;

  constructor(
    options: Dispatcher.DispatchOptions,
    request: IncomingRequest,
    target: RequestTarget,
    clock: Clock,
    metrics: IstioRequestMetrics | undefined,
    observer: ObservedRequest | undefined,
  ) {
    this.options = options;
    this.request = request;
    this.target = target;
    this.clock = clock;
    this.startedAt = clock.now();
    this.metrics = metrics;
    this.observer = observer;
    if (requestStart.hasSubscribers) requestStart.publish(this);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The request's own bytes as a sidecar counts `istio_request_bytes`. */
  get requestBytes(): number {
    return requestBytes(this.options, this.request.authority);
  }

  /** Its body's length when known up front (0 for a stream). */
  get requestBodyBytes(): number {
    return bodyBytes(this.options.body);
  }

  /**
   * The request went upstream (through the router or to its original destination) and ended:
   * with the `forwarded` response (its controller, for the head and gRPC status), or failed
   * with `error` (`status` then the local reply Envoy would have sent). The cluster's stats
   * count `attempts`, `chargedStatus` (the code Envoy's router charges; 0 for none), a retry
   * that succeeded and a route timeout.
   */
  endUpstream(
    status: number,
    flags: string,
    forwarded: Dispatcher.DispatchController | undefined,
    bodyBytes: number,
    attempts: number,
    error: Error | undefined,
    chargedStatus: number,
    retrySuccess: boolean,
    routeTimeout: boolean,
  ): void {
    if (this.#begin(status, flags, bodyBytes, attempts, error)) return;
    if (this.metrics !== undefined && this.sets !== undefined) {
      let code = status;
      let grpcStatus = '';
      const grpc = isGrpcRequest(this.options.headers);
      if (grpc) {
        if (forwarded !== undefined) {
          // Envoy's Grpc::Common::getGrpcStatus(trailers, headers, info): trailer, header, HTTP status.
          grpcStatus =
            grpcStatusOf(forwarded.rawTrailers) ??
            grpcStatusOf(forwarded.rawHeaders) ??
            (status !== 0 ? httpToGrpcStatus(status) : '');
        } else if (status !== 0) {
          // Envoy answers a gRPC request locally with a trailers-only 200 carrying the mapped status.
          code = 200;
          grpcStatus = httpToGrpcStatus(status);
        }
      }
      const responseBytes =
        forwarded === undefined ? 0 : responseHeadBytes(status, forwarded.rawHeaders) + bodyBytes;
      this.#record(code, grpc, grpcStatus, this.clock.now() - this.startedAt, responseBytes);
      this.sets.traffic?.requestEnded(attempts, chargedStatus, retrySuccess, routeTimeout);
    }
    // The observer merges the fault filter's `DI` itself.
    this.observer?.requestEnded(status, flags, bodyBytes, error);
    this.#published();
  }

  /**
   * The mesh failed the request itself with `error` and no response (`NR`, `NC`, `UH`): the
   * local reply Envoy would send. `chargeCluster`: the router's no-healthy-upstream 503 is
   * charged to the cluster (Filter::sendNoHealthyUpstreamResponse -> chargeUpstreamCode).
   */
  endFailedLocally(error: DabbaError, chargeCluster: boolean): void {
    const flags = responseFlagsOf(error);
    const status = localReplyStatus(flags);
    if (this.#begin(status, flags, 0, 0, error)) return;
    if (this.metrics !== undefined && this.sets !== undefined) {
      const grpc = status !== 0 && isGrpcRequest(this.options.headers);
      this.#recordLocal(grpc ? 200 : status, grpc, grpc ? httpToGrpcStatus(status) : '', 0);
      if (chargeCluster) this.sets.traffic?.requestEnded(0, status, false, false);
    }
    this.observer?.failedLocally(error, this.routeName);
    this.#published();
  }

  /**
   * The mesh answered with a response of its own: a route's direct response or redirect, a
   * refusal before routing, or a fault abort. `responseBytes` is the whole response as written
   * (local-reply.ts localResponseBytes); `grpcStatus` the gRPC status label ('' when not gRPC).
   */
  endAnswered(
    status: number,
    flags: string,
    grpcStatus: string,
    bodyBytes: number,
    responseBytes: number,
    tell: (observer: ObservedRequest) => void,
  ): void {
    if (this.#begin(status, flags, bodyBytes, 0, undefined)) return;
    if (this.metrics !== undefined && this.sets !== undefined)
      this.#recordLocal(status, grpcStatus !== '', grpcStatus, responseBytes);
    if (this.observer !== undefined) tell(this.observer);
    this.#published();
  }

  /** The caller gave up while an injected delay held the request: `DC` (with `DI`), no code. */
  endCancelled(reason: Error): void {
    if (this.#begin(0, 'DC', 0, 0, reason)) return;
    if (this.metrics !== undefined && this.sets !== undefined) this.#recordLocal(0, false, '', 0);
    this.observer?.requestEnded(0, 'DC', 0, reason);
    this.#published();
  }

  /** Sets the outcome; true when the record had ended already (it ends once). */
  #begin(
    status: number,
    flags: string,
    bodyBytes: number,
    attempts: number,
    error: Error | undefined,
  ): boolean {
    if (this.#ended) return true;
    this.#ended = true;
    this.status = status;
    this.responseFlags = this.delayed ? withFaultDelayFlag(flags) : flags;
    this.responseBodyBytes = bodyBytes;
    this.attempts = attempts;
    this.error = error;
    return false;
  }

  /**
   * A local answer's record: it took no time, unless an injected delay held it (Envoy's stream
   * info then times it from the downstream request).
   */
  #recordLocal(code: number, grpc: boolean, grpcStatus: string, responseBytes: number): void {
    const duration = this.delayed ? this.clock.now() - this.startedAt : 0;
    this.#record(code, grpc, grpcStatus, duration, responseBytes);
  }

  #record(code: number, grpc: boolean, grpcStatus: string, durationMs: number, responseBytes: number): void {
    const sets = this.sets!;
    const labels = grpc
      ? sets.grpc.get(code, this.responseFlags, grpcStatus)
      : sets.get(code, this.responseFlags);
    this.metrics!.record(labels, durationMs, this.requestBytes, responseBytes);
  }

  #published(): void {
    if (requestEnd.hasSubscribers) requestEnd.publish(this);
  }
}
