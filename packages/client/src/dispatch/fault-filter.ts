/**
 * Envoy's HTTP fault filter (source/extensions/filters/http/fault/fault_filter.cc) on the request
 * path: draws the route's delay and abort, then either holds the request for the delay (a
 * {@link FaultDelay}; the request is routed afresh when it ends, or answered with the abort drawn
 * with it) or answers the abort at once. Called only for a route carrying a fault config that
 * targets the request, so other requests pay one property check before it.
 *
 * With metrics on, an abort is recorded once as the stats filter sees Envoy's local reply:
 * `response_flags="FI"` (`DI,FI` when a delay ran first), the abort's status, under the label
 * set of the route's cluster. It never reaches the router, so no cluster stat counts it. A
 * delayed request that goes on is recorded where it ends, with `DI` (fault-delay.ts).
 */
import type { Dispatcher } from 'undici';
import { type CompiledFault, decideFault } from '../resilience/fault.ts';
import { httpToGrpcStatus, isGrpcRequest } from '../telemetry/grpc-response-status.ts';
import type { ObservedRequest } from '../telemetry/observed-request.ts';
import { FaultDelay } from './fault-delay.ts';
import type { IncomingRequest } from './incoming-request.ts';
import { labelSetsOf, localResponseBytes, recordLocalAnswer } from './local-reply.ts';
import { FAULT_ABORT_BODY, respondFaultAbort } from './local-response.ts';
import type { MeshContext } from './mesh-context.ts';
import type { Decision } from './resolve-request.ts';

type Abort = { readonly httpStatus?: number; readonly grpcStatus?: number };

/** Applies `fault` to the request; true when the fault filter took it (delayed or aborted). */
export function injectFault(
  ctx: MeshContext,
  fault: CompiledFault,
  decision: Decision,
  request: IncomingRequest,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  observer: ObservedRequest | undefined,
): boolean {
  const injected = decideFault(fault, ctx.random, (name) => request.values(name)?.[0]);
  const abort = injected.abort;
  if (injected.delayMs !== undefined) {
    // After the delay the request is routed afresh (host pick, route timeout) as Envoy's
    // router only starts then; an abort drawn with the delay is answered when it ends.
    observer?.delayed();
    const metrics = ctx.metrics;
    new FaultDelay(handler, metrics === undefined ? 0 : performance.now(), ctx.clock, ctx.lifecycle).start(
      injected.delayMs,
      abort === undefined
        ? (resumed) => ctx.resume(options, resumed, observer)
        : (resumed) => {
            const contentType = request.values('content-type')?.[0];
            if (metrics !== undefined) recordFaultAbort(ctx, decision, abort, request, options, resumed);
            observer?.faultAborted(abort, contentType);
            respondFaultAbort(resumed, abort, request.method, contentType);
          },
      // The caller gave up during the delay: Envoy's stream ends with `DC` (and `DI`), no code.
      metrics === undefined
        ? undefined
        : (delay) => recordLocalAnswer(metrics, labelSetsOf(ctx, decision), 0, 'DC', '', options, 0, delay),
    );
    return true;
  }
  if (abort !== undefined) {
    // Read only when the abort fires: it may build the request's header index.
    const contentType = request.values('content-type')?.[0];
    if (ctx.metrics !== undefined) recordFaultAbort(ctx, decision, abort, request, options, handler);
    observer?.faultAborted(abort, contentType);
    respondFaultAbort(handler, abort, request.method, contentType);
    return true;
  }
  return false;
}

/**
 * Records a fault abort as respondFaultAbort answers it: to a gRPC request a trailers-only 200
 * with the configured gRPC status (else the HTTP status mapped), else the HTTP status (200 when
 * only a gRPC status is configured), with `FI`.
 */
function recordFaultAbort(
  ctx: MeshContext,
  decision: Decision,
  abort: Abort,
  request: IncomingRequest,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
): void {
  const status = abort.httpStatus ?? 200;
  const sets = labelSetsOf(ctx, decision);
  if (isGrpcRequest(options.headers)) {
    const grpcStatus =
      abort.grpcStatus === undefined ? httpToGrpcStatus(status) : grpcLabel(abort.grpcStatus);
    const headers = {
      'content-type': 'application/grpc',
      'grpc-status': String(abort.grpcStatus ?? grpcStatus),
      'grpc-message': FAULT_ABORT_BODY,
    };
    recordLocalAnswer(
      ctx.metrics!,
      sets,
      200,
      'FI',
      grpcStatus,
      options,
      localResponseBytes(200, headers, 0),
      handler,
    );
    return;
  }
  const bodyBytes = request.method === 'HEAD' ? 0 : FAULT_ABORT_BODY.length;
  const bytes = localResponseBytes(status, { 'content-type': 'text/plain' }, bodyBytes);
  recordLocalAnswer(ctx.metrics!, sets, status, 'FI', '', options, bytes, handler);
}

/** A configured gRPC status as the label holds it: 0-16, else Envoy's InvalidCode (-1). */
function grpcLabel(code: number): string {
  return Number.isInteger(code) && code >= 0 && code <= 16 ? String(code) : '-1';
}
