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
 * A copy goes through the mirror cluster like any request of that cluster (Envoy sends shadows
 * through its async client, whose router uses the cluster's connection pools): it takes a slot of
 * the cluster's circuit breakers (`max_requests`, `max_pending_requests`), and when one is full
 * the copy is dropped without a sound and counted as Envoy counts it
 * (`upstream_rq_pending_overflow`); its outcome is reported to the cluster's outlier detection
 * as an attempt's is (status, connect failure, reset, timeout); it counts as the host's active
 * request for LEAST_REQUEST. The pick carries no request hash: Envoy's shadow options set no
 * hash policy, so a RING_HASH or MAGLEV mirror cluster picks as without a hash (at random).
 *
 * Only a body that can be sent twice is mirrored: none, a string or bytes. An async iterable or
 * stream is consumed by the primary (Envoy tees it into a streaming shadow; Dabba does not
 * buffer streams), so such a request goes to the primary only. Upgrade requests are not mirrored.
 */
import type { Clock, TimerHandle } from '@dabba/core';
import type { Dispatcher } from 'undici';
import type { EndpointPools } from '../connection/endpoint-pools.ts';
import type { Host } from '../lb/host.ts';
import { type RandomSource, randomUint32 } from '../lb/random-source.ts';
import type { AdmissionTicket, RequestAdmission } from '../resilience/request-admission.ts';
import { applyHeaderMutations, type HeaderMutations } from '../route/header-mutations.ts';
import type { MirrorPolicy } from '../route/route-action.ts';
import type { ClusterOutlier } from '../runtime/cluster-outlier.ts';
import type { MeshRuntime } from '../runtime/mesh-runtime.ts';
import type { ClusterTraffic } from '../telemetry/cluster-traffic.ts';
import { classifyAttemptError, isReplayableBody } from './attempt-outcome.ts';
import type { IncomingRequest } from './incoming-request.ts';

/** What sending the mirrors of one forwarded request needs. */
export interface MirrorRequest {
  readonly pools: EndpointPools;
  /** The runtime state of the clusters of the mesh in force, by name. */
  readonly clusters: MeshRuntime;
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
  /** The clock of the copies' route timeout. */
  readonly clock: Clock;
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
    const state = req.clusters.get(m.cluster);
    if (state === undefined || state.cluster.kind !== 'endpoints') continue;
    const cluster = state.cluster;
    const host = state.balancer?.pick(undefined);
    if (!host) continue;
    // The mirror cluster's circuit breakers: over a limit the copy is dropped (admit() counts
    // the overflow in the cluster's stats, as Envoy's pool does for a shadow).
    let admission: RequestAdmission | undefined;
    let ticket: AdmissionTicket | undefined;
    const a = state.requestAdmission();
    if (a.counting) {
      const t = a.admit();
      if (typeof t === 'string') continue;
      admission = a;
      ticket = t;
    }
    const authority = m.keepAuthority ? req.authority : shadowAuthority(req.authority);
    const headers = req.request.toRecord();
    if (req.stripHeaders !== undefined) for (const name of req.stripHeaders) delete headers[name];
    if (req.requestHeaderMutations.length > 0) applyHeaderMutations(req.requestHeaderMutations, headers);
    headers.host = authority;
    const handler = new MirrorHandler(
      req.clock,
      req.timeoutMs,
      host,
      state.outlier,
      admission,
      ticket,
      state.metrics?.traffic,
    );
    try {
      const pool = req.pools.get(host, cluster, authority, req.request.scheme === 'https');
      pool.dispatcher.dispatch({ ...options, headers }, handler);
    } catch {
      // A pool closing under the mesh: the copy is dropped (never sent), the primary is unaffected.
      handler.end(false);
    }
  }
}

/** The abort reason of a copy the route timeout ended; it never reaches the caller. */
const MIRROR_TIMED_OUT = new Error('dabba: mirror timed out (route timeout)');

/**
 * Discards the mirror's response and swallows its errors; aborts it at the route timeout. Reports
 * the outcome to the cluster's outlier detection as the router does for an attempt, counts it in
 * the mirror cluster's Envoy stats (a shadow is an upstream request of that cluster:
 * `upstream_rq_total`, `upstream_rq_<N>xx`, `upstream_rq_timeout`; never in Istio's request
 * metrics, as in Envoy), and gives the circuit-breaker slot and the host's active count back
 * exactly once.
 */
class MirrorHandler implements Dispatcher.DispatchHandler {
  readonly #host: Host;
  readonly #outlier: ClusterOutlier | undefined;
  readonly #admission: RequestAdmission | undefined;
  readonly #ticket: AdmissionTicket | undefined;
  /** The mirror cluster's stats; undefined when metrics are off. */
  readonly #traffic: ClusterTraffic | undefined;
  /** What Envoy's router would charge the cluster: the status, or its local reply's (503, 504). */
  #charged = 0;
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #started = false;
  #responded = false;
  #timedOut = false;
  #ended = false;

  constructor(
    clock: Clock,
    timeoutMs: number,
    host: Host,
    outlier: ClusterOutlier | undefined,
    admission: RequestAdmission | undefined,
    ticket: AdmissionTicket | undefined,
    traffic: ClusterTraffic | undefined,
  ) {
    this.#clock = clock;
    this.#traffic = traffic;
    this.#host = host;
    this.#outlier = outlier;
    this.#admission = admission;
    this.#ticket = ticket;
    host.activeRequests++;
    // From dispatch, as the router's route timer: connecting counts against the route timeout.
    if (timeoutMs > 0) this.#timer = clock.schedule(MirrorHandler.#onTimeout, timeoutMs, this);
  }

  static #onTimeout(mirror: MirrorHandler): void {
    mirror.#timer = undefined;
    mirror.#timedOut = true;
    const controller = mirror.#controller;
    if (controller !== undefined) {
      controller.abort(MIRROR_TIMED_OUT);
      return;
    }
    // Still connecting: the copy ends now; the connection, if it comes, is aborted at once.
    mirror.#charged = 504;
    mirror.#outlier?.record(mirror.#host, 'timeout');
    mirror.end();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#ended) {
      controller.abort(MIRROR_TIMED_OUT);
      return;
    }
    this.#controller = controller;
    this.#started = true;
    this.#outlier?.record(this.#host, 'local-success');
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number): void {
    if (status < 200 || this.#ended) return;
    this.#responded = true;
    this.#charged = status;
    this.#outlier?.record(this.#host, status);
  }

  // undici requires the callback; the body of a copy is of no interest.
  onResponseData(): void {}

  onResponseEnd(): void {
    this.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    if (this.#ended) return;
    if (!this.#responded) {
      // Envoy's router: 504 for its timeout, 503 for an upstream failure; nothing for our own abort.
      this.#charged = this.#timedOut ? 504 : classifyAttemptError(err, this.#started) === 'local' ? 0 : 503;
    }
    const outlier = this.#outlier;
    if (outlier !== undefined) {
      if (this.#timedOut) {
        // Envoy reports a timeout only for an upstream request still awaiting headers.
        if (!this.#responded) outlier.record(this.#host, 'timeout');
      } else {
        const kind = classifyAttemptError(err, this.#started || this.#responded);
        if (kind === 'connect-failure') outlier.record(this.#host, 'connect-failure');
        else if (kind !== 'local') outlier.record(this.#host, 'reset');
      }
    }
    this.end();
  }

  /** Ends the copy: its timer, its circuit-breaker slot, the host's active count; `sent` for stats. */
  end(sent = true): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#timer !== undefined) this.#clock.cancel(this.#timer);
    this.#host.activeRequests--;
    if (sent) this.#traffic?.requestEnded(1, this.#charged, false, this.#timedOut && !this.#responded);
    if (this.#ticket !== undefined) this.#admission!.release(this.#ticket);
  }
}
