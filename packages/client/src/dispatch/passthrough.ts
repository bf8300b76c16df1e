/**
 * Istio's PassthroughCluster: a request to a port with no listener, when the mesh lets unknown
 * traffic out, or one matching Istio's `allow_any` catch-all route, goes to its original
 * destination through one shared pool. With tracing or access logs on, the trace headers are
 * injected and the response observed; with metrics on, the request is recorded with
 * `destination_service_name="PassthroughCluster"` as a sidecar's stats filter records it.
 * With all of them off the caller's handler is dispatched as it is.
 */
import type { Dispatcher } from 'undici';
import { isGrpcRequest } from '../telemetry/grpc-response-status.ts';
import type { ObservedRequest } from '../telemetry/observed-request.ts';
import { ObservingHandler } from '../telemetry/observing-handler.ts';
import { FaultDelay } from './fault-delay.ts';
import type { IncomingRequest } from './incoming-request.ts';
import type { MeshContext } from './mesh-context.ts';
import { requestBytes } from './request-bytes.ts';

/** Sends the request to its original destination. */
export function passThrough(
  ctx: MeshContext,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  request: IncomingRequest,
  observer: ObservedRequest | undefined,
  routeName: string | undefined,
): boolean {
  const metrics = ctx.metrics;
  if (observer === undefined && metrics === undefined)
    return ctx.pools.passthrough().dispatch(options, handler);
  let upstream = options;
  if (observer !== undefined) {
    observer.routed('PassthroughCluster', routeName, false);
    if (observer.injects) {
      const record = request.toRecord();
      observer.inject(record);
      upstream = { ...options, headers: record };
    }
  }
  if (metrics === undefined) {
    return ctx.pools
      .passthrough()
      .dispatch(upstream, new ObservingHandler(handler, observer, undefined, 0, 0, false, false));
  }
  // A request resumed after an injected delay: its duration runs from before the delay (DI).
  const delayed = handler instanceof FaultDelay;
  return ctx.pools
    .passthrough()
    .dispatch(
      upstream,
      new ObservingHandler(
        handler,
        observer,
        ctx.passthroughMetrics,
        delayed ? handler.startedAt : performance.now(),
        requestBytes(options, request.authority),
        isGrpcRequest(options.headers),
        delayed,
      ),
    );
}
