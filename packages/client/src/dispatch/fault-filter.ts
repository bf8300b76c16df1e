/**
 * Envoy's HTTP fault filter (source/extensions/filters/http/fault/fault_filter.cc) on the request
 * path: draws the route's delay and abort, then either holds the request for the delay (a
 * {@link FaultDelay}; the request is routed afresh when it ends, or answered with the abort drawn
 * with it) or answers the abort at once. Called only for a route carrying a fault config that
 * targets the request, so other requests pay one property check before it.
 */
import type { Dispatcher } from 'undici';
import { type CompiledFault, decideFault } from '../resilience/fault.ts';
import type { ObservedRequest } from '../telemetry/observed-request.ts';
import { FaultDelay } from './fault-delay.ts';
import type { IncomingRequest } from './incoming-request.ts';
import { respondFaultAbort } from './local-response.ts';
import type { MeshContext } from './mesh-context.ts';

/** Applies `fault` to the request; true when the fault filter took it (delayed or aborted). */
export function injectFault(
  ctx: MeshContext,
  fault: CompiledFault,
  request: IncomingRequest,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  observer: ObservedRequest | undefined,
): boolean {
  const injected = decideFault(fault, ctx.random, (name) => request.values(name)?.[0]);
  const abort = injected.abort;
  const contentType = request.values('content-type')?.[0];
  if (injected.delayMs !== undefined) {
    // After the delay the request is routed afresh (host pick, route timeout) as Envoy's
    // router only starts then; an abort drawn with the delay is answered when it ends.
    observer?.delayed();
    new FaultDelay(handler).start(
      injected.delayMs,
      abort === undefined
        ? (resumed) => ctx.resume(options, resumed, observer)
        : (resumed) => {
            observer?.faultAborted(abort, contentType);
            respondFaultAbort(resumed, abort, request.method, contentType);
          },
    );
    return true;
  }
  if (abort !== undefined) {
    observer?.faultAborted(abort, contentType);
    respondFaultAbort(handler, abort, request.method, contentType);
    return true;
  }
  return false;
}
