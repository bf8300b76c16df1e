/**
 * Istio's PassthroughCluster: a request to a port with no listener, when the mesh lets unknown
 * traffic out, or one matching Istio's `allow_any` catch-all route, goes to its original
 * destination through one shared pool. With tracing or access logs on, the trace headers are
 * injected; with any sink on, the response is observed and the record ended with it (recorded
 * with `destination_service_name="PassthroughCluster"` as a sidecar's stats filter records it).
 * With every sink off the caller's handler is dispatched as it is.
 */
import { channel } from 'node:diagnostics_channel';
import { DabbaChannel } from '@dabba/core';
import type { Dispatcher } from 'undici';
import type { RequestRecord } from '../observe/request-record.ts';
import type { MeshContext } from './mesh-context.ts';
import { PassthroughHandler } from './passthrough-handler.ts';

const requestEnd = channel(DabbaChannel.REQUEST_END);

/** Sends the request to its original destination. */
export function passThrough(
  ctx: MeshContext,
  record: RequestRecord,
  handler: Dispatcher.DispatchHandler,
): boolean {
  const { observer, options } = record;
  if (observer === undefined && record.metrics === undefined && !requestEnd.hasSubscribers)
    return ctx.pools.passthrough().dispatch(options, handler);
  let upstream = options;
  if (observer !== undefined) {
    observer.routed('PassthroughCluster', record.routeName, false);
    if (observer.injects) {
      const headers = record.request.toRecord();
      observer.inject(headers);
      upstream = { ...options, headers };
    }
  }
  return ctx.pools.passthrough().dispatch(upstream, new PassthroughHandler(handler, record));
}
