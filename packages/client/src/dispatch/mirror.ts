/**
 * Request mirroring as Envoy's router does it for RouteAction.request_mirror_policies
 * (source/common/router/router.cc shadow policies, shadow_writer_impl.cc):
 *
 * - each policy is drawn on its own (`random % denominator < numerator`, FilterUtility
 *   shouldShadow); a policy whose cluster is not in the snapshot is skipped;
 * - the copy carries the request as it goes upstream (rewritten path, route header mutations,
 *   host rewrite) with `-shadow` appended to the host part of the authority, port kept
 *   (`reviews:9080` -> `reviews-shadow:9080`), unless disable_shadow_host_suffix_append;
 * - it is fire-and-forget: sent after the primary, bounded by the route timeout (Envoy sets the
 *   global timeout on the shadow's async client), never retried, its response body discarded
 *   and its errors ignored, so it can neither delay nor fail the primary.
 *
 * Only a body that can be sent twice is mirrored: none, a string or bytes. An async iterable or
 * stream is consumed by the primary (Envoy tees it into a streaming shadow; Dabba does not
 * buffer streams), so such a request goes to the primary only. Upgrade requests are not mirrored.
 */
import type { Dispatcher } from 'undici';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import type { EndpointPools } from '../connection/endpoint-pools.ts';
import { type RandomSource, randomUint32 } from '../lb/random-source.ts';
import { applyHeaderMutations, type HeaderMutations } from '../route/header-mutations.ts';
import type { MirrorPolicy } from '../route/route-action.ts';
import { isReplayableBody } from './attempt-outcome.ts';
import type { IncomingRequest } from './incoming-request.ts';

/** What sending the mirrors of one forwarded request needs. */
export interface MirrorRequest {
  readonly pools: EndpointPools;
  readonly clusters: ReadonlyMap<string, CompiledCluster>;
  /** The primary's upstream dispatch options (path already rewritten). */
  readonly options: Dispatcher.DispatchOptions;
  readonly request: IncomingRequest;
  /** The authority the primary sends (after host rewrite). */
  readonly authority: string;
  readonly requestHeaderMutations: HeaderMutations;
  /** The route timeout in ms (0 = none). */
  readonly timeoutMs: number;
  /** Request headers the router consumed (x-envoy-*), left out of the copy as of the primary. */
  readonly stripHeaders?: readonly string[] | undefined;
  readonly random: RandomSource;
}

/**
 * Envoy's shadowAppendedHost: `-shadow` goes before the port, found as HeaderUtility::getPortStart
 * does (the last `:` unless it is inside an IPv6 literal's brackets).
 */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(':');
  const bracket = authority.lastIndexOf(']');
  if (colon < 0 || bracket > colon) return `${authority}-shadow`;
  return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}

/** Sends the copies the policies draw. Never throws and never calls back into the primary. */
export function sendMirrors(mirrors: readonly MirrorPolicy[], req: MirrorRequest): void {
  const { options } = req;
  if (!isReplayableBody(options.body) || options.upgrade) return;
  for (const m of mirrors) {
    const { numerator, denominator } = m.fraction;
    if (numerator === 0 || randomUint32(req.random) % denominator >= numerator) continue;
    const cluster = req.clusters.get(m.cluster);
    if (cluster === undefined || cluster.kind !== 'endpoints') continue;
    const host = cluster.balancer?.pick(undefined);
    if (!host) continue;
    const authority = m.keepAuthority ? req.authority : shadowAuthority(req.authority);
    const headers = req.request.toRecord();
    if (req.stripHeaders !== undefined) for (const name of req.stripHeaders) delete headers[name];
    if (req.requestHeaderMutations.length > 0) applyHeaderMutations(req.requestHeaderMutations, headers);
    headers.host = authority;
    try {
      const pool = req.pools.get(host, cluster, authority);
      pool.dispatcher.dispatch({ ...options, headers }, new MirrorHandler(req.timeoutMs));
    } catch {
      // A pool closing under the mesh: the copy is dropped, the primary is unaffected.
    }
  }
}

/** Discards the mirror's response and swallows its errors; aborts it at the route timeout. */
class MirrorHandler implements Dispatcher.DispatchHandler {
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#timeoutMs > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => controller.abort(new Error('mirror timed out')), this.#timeoutMs);
      this.#timer.unref();
    }
  }

  // undici requires every callback; the status and body of a copy are of no interest.
  onResponseStart(): void {}

  onResponseData(): void {}

  onResponseEnd(): void {
    clearTimeout(this.#timer);
  }

  onResponseError(): void {
    clearTimeout(this.#timer);
  }
}
