/**
 * Istio's PassthroughCluster: a request to a port with no listener, when the mesh lets unknown
 * traffic out, goes to its original destination through one shared pool. With tracing or access
 * logs on, the trace headers are injected and the response observed.
 */
import type { Dispatcher } from 'undici';
import type { EndpointPools } from '../connection/endpoint-pools.ts';
import type { ObservedRequest } from '../telemetry/observed-request.ts';
import { ObservingHandler } from '../telemetry/observing-handler.ts';
import type { IncomingRequest } from './incoming-request.ts';

/** Sends the request to its original destination. */
export function passThrough(
  pools: EndpointPools,
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  request: IncomingRequest,
  observer: ObservedRequest | undefined,
  routeName: string | undefined,
): boolean {
  if (observer === undefined) return pools.passthrough().dispatch(options, handler);
  observer.routed('PassthroughCluster', routeName, false);
  let upstream = options;
  if (observer.injects) {
    const record = request.toRecord();
    observer.inject(record);
    upstream = { ...options, headers: record };
  }
  return pools.passthrough().dispatch(upstream, new ObservingHandler(handler, observer));
}
