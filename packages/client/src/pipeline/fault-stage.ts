/**
 * Envoy's HTTP fault filter (source/extensions/filters/http/fault/fault_filter.cc) as a stage:
 * draws the route's delay and abort, then either holds the request for the delay and hands it
 * to the next stage when it ends, with the routing decision it had (Envoy's router runs on the
 * route cached before the filter, and looks its cluster up when it starts), or answers the abort
 * at once. A route without a fault config, or one that does not target the request, costs one
 * property check.
 *
 * An abort is recorded once as the stats filter sees Envoy's local reply: `response_flags="FI"`
 * (`DI,FI` when a delay ran first), the abort's status, under the label set of the route's
 * cluster; it never reaches the router, so no cluster stat counts it. A delayed request that
 * goes on is recorded where it ends, with `DI`.
 */
import type { Dispatcher } from 'undici';
import { FaultDelay } from '../dispatch/fault-delay.ts';
import { localResponseBytes } from '../dispatch/local-reply.ts';
import { FAULT_ABORT_BODY, respondFaultAbort } from '../dispatch/local-response.ts';
import type { MeshContext } from '../dispatch/mesh-context.ts';
import { type Decision, faultTargets } from '../dispatch/resolve-request.ts';
import { ClusterNotFoundError } from '../errors.ts';
import type { RequestRecord } from '../observe/request-record.ts';
import { decideFault } from '../resilience/fault.ts';
import { httpToGrpcStatus, isGrpcRequest } from '../telemetry/grpc-response-status.ts';
import type { Stage } from './stage.ts';

type Abort = { readonly httpStatus?: number; readonly grpcStatus?: number };

/** The fault filter, before `next`. */
export function faultStage(ctx: MeshContext, next: Stage): Stage {
  return (record, handler) => {
    const decision = record.decision!;
    const fault = decision.selection?.action.fault;
    if (fault === undefined || !faultTargets(fault, decision, record.request)) return next(record, handler);
    const request = record.request;
    const injected = decideFault(fault, ctx.random, (name) => request.values(name)?.[0]);
    const abort = injected.abort;
    if (injected.delayMs !== undefined) {
      // Routing stands; the router (host pick, route timeout) only starts when the delay ends,
      // and an abort drawn with the delay is answered then.
      record.delayed = true;
      record.observer?.delayed();
      new FaultDelay(handler, ctx.clock, ctx.lifecycle).start(
        injected.delayMs,
        abort === undefined
          ? (resumed) => resume(ctx, next, record, resumed)
          : (resumed) => answerAbort(record, abort, resumed),
        // The caller gave up during the delay: Envoy's stream ends with `DC` (and `DI`), no code.
        (_delay, reason) => record.endCancelled(reason),
      );
      return true;
    }
    if (abort !== undefined) {
      answerAbort(record, abort, handler);
      return true;
    }
    return next(record, handler);
  };
}

/**
 * Hands a delayed request on. Its cluster is looked up again by name, as Envoy's router looks
 * up the route's cluster when it starts: a configuration applied during the delay serves it,
 * and a cluster removed meanwhile fails it with `NC`.
 */
function resume(ctx: MeshContext, next: Stage, record: RequestRecord, handler: FaultDelay): void {
  const decision = record.decision!;
  if (decision.kind === 'upstream') {
    const state = ctx.runtime.get(decision.cluster.name);
    if (state === undefined) {
      const request = record.request;
      record.decision = {
        kind: 'error',
        error: new ClusterNotFoundError({
          authority: request.authority,
          path: request.path,
          cluster: decision.cluster.name,
        }),
        selection: decision.selection,
      } satisfies Decision;
    } else if (state.cluster !== decision.cluster) {
      record.decision = { ...decision, cluster: state.cluster, state };
    }
  }
  // The match context is shared by the requests the mesh routes; this one needs it again.
  ctx.matchContext.reset(record.request);
  next(record, handler);
}

/**
 * Answers an abort as respondFaultAbort does: to a gRPC request a trailers-only 200 with the
 * configured gRPC status (else the HTTP status mapped), else the HTTP status (200 when only a
 * gRPC status is configured), with `FI`.
 */
function answerAbort(record: RequestRecord, abort: Abort, handler: Dispatcher.DispatchHandler): void {
  const request = record.request;
  // Read only when the abort fires: it may build the request's header index.
  const contentType = request.values('content-type')?.[0];
  const status = abort.httpStatus ?? 200;
  if (isGrpcRequest(record.options.headers)) {
    const grpcStatus =
      abort.grpcStatus === undefined ? httpToGrpcStatus(status) : grpcLabel(abort.grpcStatus);
    const headers = {
      'content-type': 'application/grpc',
      'grpc-status': String(abort.grpcStatus ?? grpcStatus),
      'grpc-message': FAULT_ABORT_BODY,
    };
    // A trailers-only 200: no body.
    record.endAnswered(200, 'FI', grpcStatus, 0, localResponseBytes(200, headers, 0), (observer) =>
      observer.faultAborted(200, 0),
    );
  } else {
    const bodyBytes = request.method === 'HEAD' ? 0 : FAULT_ABORT_BODY.length;
    const bytes = localResponseBytes(status, { 'content-type': 'text/plain' }, bodyBytes);
    record.endAnswered(status, 'FI', '', bodyBytes, bytes, (observer) =>
      observer.faultAborted(status, bodyBytes),
    );
  }
  respondFaultAbort(handler, abort, request.method, contentType);
}

/** A configured gRPC status as the label holds it: 0-16, else Envoy's InvalidCode (-1). */
function grpcLabel(code: number): string {
  return Number.isInteger(code) && code >= 0 && code <= 16 ? String(code) : '-1';
}
