/**
 * A request routed to a cluster, from the endpoint pick to the router: Envoy's router filter
 * picking the host (`UH` when there is none), applying the route's host and path rewrites and the
 * request's x-envoy-* overrides of timeouts and retries, building the upstream headers, starting
 * the {@link RouterRequest} (timeouts, retries, outcome), then sending the route's mirror copies.
 */
import type { Dispatcher } from 'undici';
import type { RequestRecord } from '../observe/request-record.ts';
import { effectivePerTryTimeoutMs } from '../resilience/request-deadline.ts';
import { withRetryHeaders } from '../resilience/retry-policy.ts';
import { UNKNOWN_DESTINATION } from '../telemetry/istio-peer-labels.ts';
import {
  CONSUMED_ENVOY_HEADERS,
  expectedTimeoutMs,
  mayHaveEnvoyHeaders,
  readEnvoyOverrides,
} from './envoy-request-headers.ts';
import { failNoHealthyUpstream } from './local-reply.ts';
import type { MeshContext } from './mesh-context.ts';
import { sendMirrors } from './mirror.ts';
import type { Decision } from './resolve-request.ts';
import { RouterRequest } from './router-request.ts';
import { routerRouteOf } from './router-route.ts';
import { upstreamOptions } from './upstream-options.ts';

/** Forwards `request` as `decision` says; the return value is undici's `dispatch()` answer. */
export function forwardUpstream(
  ctx: MeshContext,
  decision: Extract<Decision, { kind: 'upstream' }>,
  record: RequestRecord,
  handler: Dispatcher.DispatchHandler,
): boolean {
  const { cluster, state, policy } = decision;
  const { request, options, observer } = record;
  const host = state.balancer?.pick(decision.hash === undefined ? undefined : { hash: decision.hash });
  if (!host) {
    failNoHealthyUpstream(handler, state, record);
    return true;
  }
  // Envoy forwards the request's authority unless the route rewrites it.
  const authority = decision.entry?.hostRewriteLiteral ?? policy.hostRewriteLiteral ?? request.authority;
  const pool = ctx.pools.get(host, cluster, authority, request.scheme === 'https');
  const rewritten = policy.rewritePath(request);
  // The x-envoy-* headers Envoy's router consumes (timeouts, retries): read only when a header
  // name looks like one, so other requests pay one scan of their names.
  const overrides = mayHaveEnvoyHeaders(options.headers) ? readEnvoyOverrides(request) : undefined;
  const retry = overrides === undefined ? policy.retry : withRetryHeaders(policy.retry, overrides);
  const timeoutMs = overrides?.timeoutMs ?? policy.timeoutMs;
  // Envoy tells the upstream how long it will wait (setTimeoutHeaders, unless suppress_envoy_headers).
  const expectedTimeout =
    timeoutMs === 0 && (retry === undefined || retry.perTryTimeoutMs === 0)
      ? undefined
      : expectedTimeoutMs(timeoutMs, effectivePerTryTimeoutMs(timeoutMs, retry?.perTryTimeoutMs ?? 0), 0);
  observer?.routed(cluster.name, decision.selection.route.name, cluster.http2);
  // Istio's metadata exchange, only to clusters of a mesh service (with Istio service metadata);
  // Envoy's peer_metadata filter sets the headers before the router applies route mutations.
  const peerMetadata = cluster.istioDestination === UNKNOWN_DESTINATION ? undefined : ctx.peerMetadata;
  const upstream = upstreamOptions(
    options,
    request,
    authority,
    pool.writesAuthority,
    rewritten,
    decision.requestHeaderMutations,
    overrides !== undefined,
    expectedTimeout,
    peerMetadata,
    observer,
  );
  // Envoy's router: timeouts, retries and the typed failure of the last attempt. One router and
  // one attempt handler per request; timers only when a timeout is configured.
  const router = new RouterRequest(
    routerRouteOf(
      ctx,
      decision,
      request,
      options,
      upstream,
      authority,
      retry,
      timeoutMs,
      peerMetadata !== undefined,
      record,
    ),
    handler,
  );
  const started = router.start(host, pool);
  // Fire-and-forget copies (Envoy's shadow policies), sent after the primary has started.
  if (policy.mirrors !== undefined && !ctx.lifecycle.closing) {
    sendMirrors(policy.mirrors, {
      pools: ctx.pools,
      clusters: ctx.runtime,
      options: upstream,
      request,
      authority,
      requestHeaderMutations: decision.requestHeaderMutations,
      timeoutMs,
      stripHeaders: overrides === undefined ? undefined : CONSUMED_ENVOY_HEADERS,
      random: ctx.random,
      clock: ctx.clock,
    });
  }
  return started;
}
