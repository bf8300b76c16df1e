/**
 * What the request pipeline reads from its Mesh: the pools, the clock, each cluster's runtime
 * state, the lifecycle flag, the random source, the opt-in breakers and metrics (with the
 * interned label sets of requests that reach no configured cluster). One plain object per Mesh,
 * made at construction, so the pipeline's functions take one argument for all of it and
 * nothing is built per request.
 */
import type { Clock } from '@dabba/core';
import type { EndpointPools } from '../connection/endpoint-pools.ts';
import type { RandomSource } from '../lb/random-source.ts';
import type { FailureBreakers } from '../resilience/failure-breaker.ts';
import type { MatchContext } from '../route/match/index.ts';
import type { MeshRuntime } from '../runtime/mesh-runtime.ts';
import type { IstioRequestMetrics } from '../telemetry/istio-request-metrics.ts';
import type { LocalPeerMetadata } from '../telemetry/peer-metadata/encode-peer-metadata.ts';
import type { ResponseLabelSets } from '../telemetry/response-label-sets.ts';
import type { MeshLifecycle } from './mesh-lifecycle.ts';
import type { PassthroughRecording } from './passthrough-handler.ts';

export interface MeshContext {
  readonly pools: EndpointPools;
  /** Time: the router's timeouts and backoff, fault delays, mirrors' timeouts. */
  readonly clock: Clock;
  /** The runtime state of the clusters of the mesh in force, by name. */
  readonly runtime: MeshRuntime;
  /** Closing and destroying: requests in flight register here (mesh-lifecycle.ts). */
  readonly lifecycle: MeshLifecycle;
  readonly random: RandomSource;
  /** The match context of the request being routed (routing is synchronous: one is enough). */
  readonly matchContext: MatchContext;
  /** The opt-in failure-rate breakers by cluster; `undefined` when the option is off. */
  readonly breakers: FailureBreakers | undefined;
  /** Istio's request metrics (`reporter="source"`); `undefined` when the option is off. */
  readonly metrics: IstioRequestMetrics | undefined;
  /** Label sets of requests that reach no cluster (`NR`, `NC`); `undefined` when metrics are off. */
  readonly unroutedMetrics: ResponseLabelSets | undefined;
  /**
   * Label sets of requests Istio's `block_all` route refuses (`BlackHoleCluster`); `undefined`
   * when metrics are off.
   */
  readonly blackHoleMetrics: ResponseLabelSets | undefined;
  /**
   * The recorder and label sets of requests sent to their original destination
   * (`PassthroughCluster`); `undefined` when metrics are off.
   */
  readonly passthroughMetrics: PassthroughRecording | undefined;
  /** This workload's metadata exchange headers; `undefined` when metrics are off. */
  readonly peerMetadata: LocalPeerMetadata | undefined;
}
