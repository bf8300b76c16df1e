/**
 * The Mesh: an undici Dispatcher that routes, balances and forwards each request the way an Envoy
 * sidecar configured by the same Istio/xDS configuration would. `fetch(url, { dispatcher: mesh })`,
 * `undici.request()` and `setGlobalDispatcher(mesh)` all go through `dispatch()`.
 *
 * Mechanics only: the routing decision is `resolveRequest()` (pure), the endpoint pick is the
 * cluster's load balancer, connections are the endpoint pools, and timeouts and retries are the
 * per-request router (`dispatch/router-request.ts`) driven by the pure retry policies.
 *
 * This file keeps the mesh's lifecycle, configuration apply, events and public API. `dispatch()`
 * makes the routing decision and hands each outcome to its step in `dispatch/`: the fault filter
 * (`fault-filter.ts`), the mesh's own answers (`local-reply.ts`), PassthroughCluster
 * (`passthrough.ts`) and the upstream request (`forward-upstream.ts`), all reading this mesh
 * through one {@link MeshContext}.
 */

import { channel } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DabbaChannel, SYSTEM_CLOCK } from '@dabba/core';
import type {
  ConfigError,
  ConfigIssue,
  ConfigSubscription,
  Snapshot,
  SnapshotOutcome,
  Workload,
} from '@dabba/discovery';
import { formatIssue, type JsonValue, resourceToJson, snapshotToConfigDump } from '@dabba/discovery';
import { Dispatcher, Dispatcher1Wrapper } from 'undici';

import { type CompiledMesh, compileSnapshotAsync } from './compile/compile-snapshot.ts';
import { EndpointPools } from './connection/endpoint-pools.ts';
import { checkDownstream, type DownstreamRefusal } from './dispatch/downstream-checks.ts';
import { IncomingRequest } from './dispatch/incoming-request.ts';
import { labelSetsOf, refuseDownstream } from './dispatch/local-reply.ts';
import { failLocally } from './dispatch/local-response.ts';
import type { MeshContext } from './dispatch/mesh-context.ts';
import { MeshLifecycle } from './dispatch/mesh-lifecycle.ts';
import type { PassthroughRecording } from './dispatch/passthrough-handler.ts';
import { parseTarget, type RequestTarget } from './dispatch/request-target.ts';
import { resolveRequest } from './dispatch/resolve-request.ts';
import {
  ConfigError as ConfigErrorClass,
  MeshClosedError,
  MeshDestroyedError,
  MeshNotReadyError,
} from './errors.ts';
import { type ExplainRequest, type Explanation, explainRequest } from './explain.ts';
import { inboundSteps } from './inbound/inbound-chain.ts';
import { type InboundOptions, resolveInboundOptions } from './inbound/inbound-options.ts';
import type { InboundTracingConfig } from './inbound/inbound-span.ts';
import {
  composeInbound,
  type InboundListener,
  type InboundNext,
  type InboundRequest,
  type InboundResponse,
} from './inbound/inbound-step.ts';
import { initHash } from './lb/hash.ts';
import { RequestRecord } from './observe/request-record.ts';
import { type MeshOptions, type ResolvedMeshOptions, resolveMeshOptions } from './options.ts';
import { composeOutbound } from './pipeline/outbound-pipeline.ts';
import type { Stage } from './pipeline/stage.ts';
import { FailureBreakers } from './resilience/failure-breaker.ts';
import { MatchContext, type RequestView } from './route/match/index.ts';
import { MeshRuntime } from './runtime/mesh-runtime.ts';
import { type ClusterStats, createClusterStats } from './telemetry/cluster-stats.ts';
import { type ControlPlaneStats, createControlPlaneStats } from './telemetry/control-plane-stats.ts';
import {
  BLACKHOLE_DESTINATION,
  type IstioSourceLabels,
  istioOutboundPeerLabels,
  istioSourceLabels,
  PASSTHROUGH_DESTINATION,
  UNKNOWN_DESTINATION,
} from './telemetry/istio-peer-labels.ts';
import {
  createIstioMetrics,
  type IstioRequestMetrics,
  type MetricsRegistry,
} from './telemetry/istio-request-metrics.ts';
import { MeshTelemetry } from './telemetry/mesh-telemetry.ts';
import {
  encodePeerMetadata,
  type LocalPeerMetadata,
  localInstance,
} from './telemetry/peer-metadata/encode-peer-metadata.ts';
import type { ResponseLabelSets } from './telemetry/response-label-sets.ts';

/** Events a Mesh emits (it is an EventEmitter, like every undici Dispatcher). */
export interface MeshEvents {
  /** A new snapshot is serving. */
  snapshot: [snapshot: Snapshot];
  /** Configuration was rejected; the previous snapshot keeps serving. */
  configError: [error: ConfigError];
  /** Configuration was accepted with something skipped or ignored. */
  notice: [notice: ConfigIssue];
  /** The `failureBreaker` of this cluster opened: its requests now fail with `DABBA_CIRCUIT_OPEN`. */
  breakerOpen: [cluster: string];
  /** `resetTimeoutMs` passed: the cluster's next request goes through as a trial. */
  breakerHalfOpen: [cluster: string];
  /** A request succeeded while half-open: the cluster's breaker closed. */
  breakerClose: [cluster: string];
}

/** undici's adapter from the v1 handler API (onConnect/onHeaders/...) to the current one; untyped upstream. */
const toCurrentHandler = (
  Dispatcher1Wrapper as unknown as { wrapHandler(h: object): Dispatcher.DispatchHandler }
).wrapHandler;

const EMPTY_VIEW: RequestView = { method: '', scheme: '', authority: '', path: '', query: '', headers: {} };

/**
 * A service mesh client in this process. Create one with {@link createMesh}.
 */
/**
 * Published on `dabba:config:applied` when a snapshot starts serving (`node:diagnostics_channel`).
 */
export interface ConfigAppliedMessage {
  readonly mesh: Mesh;
  readonly snapshot: Snapshot;
}

/**
 * Published on `dabba:config:rejected` when a configuration will not serve: the source refused
 * it, or the data plane could not apply it. The previous snapshot keeps serving.
 */
export interface ConfigRejectedMessage {
  readonly mesh: Mesh;
  readonly error: ConfigError;
}

const configApplied = channel(DabbaChannel.CONFIG_APPLIED);
const configRejected = channel(DabbaChannel.CONFIG_REJECTED);

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below only adds typed overloads of EventEmitter methods
export class Mesh extends Dispatcher {
  readonly workload: Workload;
  /** Resolves with the first snapshot; rejects if the first configuration is invalid. */
  readonly ready: Promise<Snapshot>;
  readonly #options: ResolvedMeshOptions;
  readonly #pools = new EndpointPools();
  readonly #subscription: ConfigSubscription;
  #compiled: CompiledMesh | undefined;
  /** Each cluster's runtime state, by name, carried across snapshots. */
  readonly #runtime = new MeshRuntime();
  /** One match context, reset per request: routing is synchronous, so one is enough. */
  readonly #matchContext: MatchContext;
  #appliedAt = new Date();
  #applying: AbortController | undefined;
  #closed = false;
  /** close() and destroy(): requests in flight register here, so close() can wait for them. */
  readonly #lifecycle = new MeshLifecycle();
  /** The opt-in failure-rate breakers by cluster; `undefined` when the option is off. */
  readonly #breakers: FailureBreakers | undefined;
  /** Tracing and access logs; `undefined` when both are off (requests then pay one check). */
  readonly #telemetry: MeshTelemetry | undefined;
  /** Istio's request metrics (`reporter="source"`); `undefined` when the option is off. */
  readonly #metrics: IstioRequestMetrics | undefined;
  /** Envoy's cluster stats (`envoy_cluster_*`) in the metrics registry; `undefined` when off. */
  readonly #clusterStats: ClusterStats | undefined;
  /** Configuration stats (`dabba_config_*`) in the metrics registry; `undefined` when off. */
  readonly #controlPlaneStats: ControlPlaneStats | undefined;
  /** The same metrics with `reporter="destination"`, made by the first `inbound()`. */
  #inboundMetrics: IstioRequestMetrics | undefined;
  /** This workload's `source_*` labels, for each cluster's label sets. */
  readonly #sourceLabels: IstioSourceLabels | undefined;
  /**
   * This workload's Istio metadata exchange headers, encoded once; sent to in-mesh clusters
   * and answered on inbound requests. `undefined` when metrics are off.
   */
  readonly #peerMetadata: LocalPeerMetadata | undefined;
  /** What the request pipeline (`dispatch/`) reads from this mesh; one object, made once. */
  readonly #context: MeshContext;
  /** The outbound path after routing: stages composed once (pipeline/). */
  readonly #outbound: Stage;
  /** Security warnings already logged (resource, path and message). */
  readonly #warned = new Set<string>();

  constructor(options: MeshOptions) {
    super();
    this.#options = resolveMeshOptions(options);
    this.workload = this.#options.workload;
    const breakerOptions = this.#options.failureBreaker;
    this.#breakers =
      breakerOptions === undefined
        ? undefined
        : new FailureBreakers(breakerOptions, (event, cluster) => this.emit(event, cluster));
    const { tracing, accessLog } = this.#options;
    if (tracing !== undefined || accessLog !== undefined) {
      this.#telemetry = new MeshTelemetry(tracing, accessLog, this.workload, this.#options.random);
    }
    const metricsOptions = this.#options.metrics;
    // Label sets of requests that reach no cluster (`NR`, `NC`): destination all `unknown`.
    let unroutedMetrics: ResponseLabelSets | undefined;
    // Istio's catch-all routes: `block_all` (BlackHoleCluster) and PassthroughCluster.
    let blackHoleMetrics: ResponseLabelSets | undefined;
    let passthroughMetrics: PassthroughRecording | undefined;
    if (metricsOptions !== undefined) {
      const metrics = createIstioMetrics({ registry: metricsOptions.registry, reporter: 'source' });
      this.#metrics = metrics;
      this.#sourceLabels = istioSourceLabels(this.workload);
      unroutedMetrics = metrics.forPeer(istioOutboundPeerLabels(this.#sourceLabels, UNKNOWN_DESTINATION));
      blackHoleMetrics = metrics.forPeer(istioOutboundPeerLabels(this.#sourceLabels, BLACKHOLE_DESTINATION));
      this.#peerMetadata = encodePeerMetadata(this.workload, localInstance());
      this.#clusterStats = createClusterStats({
        registry: metrics.registry,
        clusters: () => this.#runtime.values(),
        connections: (c) => this.#pools.connectionsOf(c.cluster),
      });
      const passthroughSets = metrics.forPeer(
        istioOutboundPeerLabels(this.#sourceLabels, PASSTHROUGH_DESTINATION),
      );
      // Exported while the configuration has a PassthroughCluster (ALLOW_ANY), as Envoy's.
      passthroughSets.traffic = this.#clusterStats.traffic('PassthroughCluster');
      passthroughMetrics = { metrics, sets: passthroughSets };
      const controlPlane = createControlPlaneStats({
        registry: metrics.registry,
        activeClusters: () => this.#compiled?.clusters.size ?? 0,
      });
      this.#controlPlaneStats = controlPlane;
      // Both outcomes are already events; counting them needs no hook in the apply path.
      this.on('snapshot', (s) => controlPlane.accepted(s.version, this.#appliedAt.getTime()));
      this.on('configError', () => controlPlane.rejected());
    }
    const random = this.#options.random;
    // Envoy's per-request random value: a uniform 32-bit integer (route tables scale the same way).
    this.#matchContext = new MatchContext(EMPTY_VIEW, () => Math.floor(random() * 0x1_0000_0000));
    this.#context = {
      pools: this.#pools,
      clock: SYSTEM_CLOCK,
      runtime: this.#runtime,
      lifecycle: this.#lifecycle,
      random,
      matchContext: this.#matchContext,
      breakers: this.#breakers,
      metrics: this.#metrics,
      unroutedMetrics,
      blackHoleMetrics,
      passthroughMetrics,
      peerMetadata: this.#peerMetadata,
    };
    this.#outbound = composeOutbound(this.#context);
    const { promise, resolve, reject } = Promise.withResolvers<Snapshot>();
    this.ready = promise;
    // A consumer that never awaits `ready` must not get an unhandled rejection from it.
    promise.catch(() => {});
    const hashReady = initHash();
    const logger = this.#options.logger;
    this.#subscription = this.#options.config.subscribe(this.workload, {
      onSnapshot: (snapshot, settle) => {
        void this.#apply(snapshot, hashReady, resolve, reject, settle);
      },
      onError: (error) => {
        logger?.error(`${this.#options.config.name}: ${error.message}`);
        // Only a listener-less emitter throws on 'error'; this event has its own name on purpose.
        this.#configRejected(error);
        if (!this.#compiled) reject(error);
      },
      onNotice: (notice) => {
        if (notice.severity === 'warning') this.#warnOnce(notice);
        else logger?.notice(formatIssue(notice));
        this.emit('notice', notice);
      },
    });
  }

  /**
   * Compiles a snapshot in slices (a big configuration must not stall requests in flight) and
   * swaps it in. A newer snapshot aborts an older one still compiling, so configurations apply
   * in order and a stale one never replaces a newer one; each compile starts from the mesh that
   * is serving, never from an unfinished compile.
   */
  async #apply(
    snapshot: Snapshot,
    hashReady: Promise<void>,
    resolve: (s: Snapshot) => void,
    reject: (e: unknown) => void,
    settle: ((outcome: SnapshotOutcome) => void) | undefined,
  ): Promise<void> {
    this.#applying?.abort();
    const controller = new AbortController();
    this.#applying = controller;
    const superseded = () => {
      settle?.({ status: 'superseded' });
    };
    try {
      await hashReady;
      if (controller.signal.aborted || this.#closed) return superseded();
      const compiled = await compileSnapshotAsync(snapshot, this.#compiled, this.#options.random, {
        signal: controller.signal,
      });
      if (controller.signal.aborted || this.#closed) return superseded();
      this.#compiled = compiled;
      // Balancers, outlier detectors, admission counters and label sets of unchanged clusters
      // carry over; the states of removed clusters stop their timers.
      this.#runtime.apply(compiled);
      const metrics = this.#metrics;
      if (metrics !== undefined) {
        // One label-set table per cluster, kept while its destination labels are the same;
        // series carry over anyway, as they are interned by label values in the recorder.
        for (const state of this.#runtime.values()) {
          state.metrics ??= metrics.forPeer(
            istioOutboundPeerLabels(this.#sourceLabels!, state.cluster.istioDestination),
          );
          state.metrics.traffic ??= this.#clusterStats!.traffic(state.name);
        }
      }
      this.#appliedAt = new Date();
      this.#pools.retainOnly(compiled.clusters);
      // Breakers carry over by cluster name; those of removed clusters stop their timers.
      this.#breakers?.retainOnly(compiled.clusters);
      this.emit('snapshot', snapshot);
      if (configApplied.hasSubscribers)
        configApplied.publish({ mesh: this, snapshot } satisfies ConfigAppliedMessage);
      settle?.({ status: 'applied' });
      resolve(snapshot);
    } catch (err) {
      if (controller.signal.aborted || this.#closed) return superseded();
      const error = err as ConfigError;
      this.#options.logger?.error(error.message);
      settle?.({ status: 'rejected', error });
      this.#configRejected(error);
      if (!this.#compiled) reject(error);
    } finally {
      if (this.#applying === controller) this.#applying = undefined;
    }
  }

  /** A configuration that will not serve: the event, and the diagnostics channel. */
  #configRejected(error: ConfigError): void {
    this.emit('configError', error);
    if (configRejected.hasSubscribers)
      configRejected.publish({ mesh: this, error } satisfies ConfigRejectedMessage);
  }

  /** A security warning, logged once per resource and message (every reload repeats them). */
  #warnOnce(notice: ConfigIssue): void {
    const logger = this.#options.logger;
    if (logger === null) return;
    const r = notice.resource;
    const key = `${r === undefined ? notice.source : `${r.kind}/${r.namespace ?? ''}/${r.name}`}|${notice.path}|${notice.message}`;
    if (this.#warned.has(key)) return;
    if (this.#warned.size >= 10_000) this.#warned.clear();
    this.#warned.add(key);
    const text = formatIssue(notice);
    if (logger.warn !== undefined) logger.warn(text);
    else logger.error(text);
  }

  /** The snapshot currently serving, if any. */
  get snapshot(): Snapshot | undefined {
    return this.#compiled?.snapshot;
  }

  /**
   * The prom-client registry holding Istio's request metrics (`istio_requests_total`, ...), to
   * serve at `/metrics` (see `serveMetrics`); `undefined` when the `metrics` option is off.
   */
  get metrics(): MetricsRegistry | undefined {
    return this.#metrics?.registry;
  }

  /** Connection pools opened so far (one per endpoint actually called). */
  get openPools(): number {
    return this.#pools.size;
  }

  override dispatch(options: Dispatcher.DispatchOptions, userHandler: Dispatcher.DispatchHandler): boolean {
    // Node's built-in fetch (an older bundled undici) still speaks the v1 handler API.
    const handler = toCurrentHandler(userHandler);
    // After close() no new request starts.
    const compiled = this.#compiled;
    if (this.#closed || !compiled) {
      failLocally(handler, this.#closed ? new MeshClosedError() : new MeshNotReadyError());
      return true;
    }
    let target: RequestTarget;
    try {
      target = parseTarget(options.origin);
    } catch (err) {
      failLocally(handler, err as Error);
      return true;
    }
    const table = compiled.routeTables.get(target.port);
    // The sidecar's codec and connection manager first: header limits, path normalization.
    let refusal: DownstreamRefusal | undefined;
    if (table !== undefined) {
      const settings = compiled.listenerSettings.get(target.port)!;
      const checked = checkDownstream(settings, options.path, target.authority, options.headers);
      if (typeof checked !== 'string') refusal = checked;
      // Envoy routes on the normalized :path and sends it upstream.
      else if (checked !== options.path) options = { ...options, path: checked };
    }
    const request = new IncomingRequest(
      options.method,
      target.scheme,
      target.authority,
      options.path,
      options.headers,
    );
    const context = this.#context;
    const record = new RequestRecord(
      options,
      request,
      target,
      context.clock,
      context.metrics,
      this.#telemetry?.begin(request, target, options),
    );
    if (refusal !== undefined) {
      record.sets = context.unroutedMetrics;
      refuseDownstream(handler, refusal, record);
      return true;
    }
    const decision = resolveRequest(
      compiled,
      this.#runtime,
      table,
      target,
      request,
      table ? this.#matchContext.reset(request) : undefined,
    );
    record.decision = decision;
    if (decision.selection !== undefined) record.routeName = decision.selection.route.name;
    if (decision.kind === 'upstream') record.cluster = decision.cluster.name;
    if (context.metrics !== undefined) record.sets = labelSetsOf(context, decision);
    return this.#outbound(record, handler);
  }

  /**
   * Wraps a Node request listener (`http.createServer(mesh.inbound(app))`, an express app, a
   * fastify `serverFactory` handler, or an `http2` compatibility handler) with the inbound side
   * of a sidecar: with the `metrics` option, Istio's metadata exchange and the standard metrics
   * with `reporter="destination"`. With nothing to do, it returns `listener` itself.
   *
   * @throws ConfigError (`DABBA_CONFIG_INVALID`) when `listener` is not a function or the options
   *   are invalid.
   */
  inbound<Req extends InboundRequest = IncomingMessage, Res extends InboundResponse = ServerResponse>(
    listener: InboundListener<Req, Res>,
    options?: InboundOptions,
  ): InboundListener<Req, Res> {
    const resolved = resolveInboundOptions(options);
    if (typeof listener !== 'function') {
      throw new ConfigErrorClass([
        { source: 'mesh.inbound', path: 'listener', message: 'must be a request listener function' },
      ]);
    }
    if (this.#metrics !== undefined) this.#inboundMetrics ??= this.#metrics.forReporter('destination');
    const steps = inboundSteps({
      workload: this.workload,
      options: resolved,
      clusters: () => this.#compiled?.clusters.values() ?? [],
      onSnapshot: (listener) => this.on('snapshot', listener),
      metrics: this.#inboundMetrics,
      peerMetadata: this.#peerMetadata,
      tracing: this.#inboundTracing(),
    });
    if (steps.length === 0) return listener;
    return composeInbound(steps, listener as InboundNext) as InboundListener<Req, Res>;
  }

  /** The SERVER span settings of `inbound()`, from the `tracing` option; `undefined` when off. */
  #inboundTracing(): InboundTracingConfig | undefined {
    const tracing = this.#options.tracing;
    if (tracing === undefined) return undefined;
    return {
      tracerProvider: tracing.tracerProvider,
      spanName: tracing.spanName,
      samplingPerTenThousand: tracing.samplingPerTenThousand,
      random: this.#options.random,
      tags: this.#telemetry!.spanTags,
    };
  }

  /**
   * Why a request would go where it goes: the listener port and route configuration, the
   * matched virtual host and route, the weighted clusters, the LB policy and the candidate
   * endpoints by priority. Reads the current snapshot; sends nothing.
   */
  explain(request: ExplainRequest): Explanation {
    const compiled = this.#compiled;
    if (!compiled) throw this.#closed ? new MeshClosedError() : new MeshNotReadyError();
    return explainRequest(compiled, this.#runtime, request);
  }

  /**
   * The serving configuration in the shape of Envoy's admin `/config_dump` (proto3 JSON with
   * snake_case field names, as Envoy prints it), for the tools that read sidecar config dumps.
   */
  configDump(): JsonValue {
    const compiled = this.#compiled;
    if (!compiled) throw this.#closed ? new MeshClosedError() : new MeshNotReadyError();
    return resourceToJson(snapshotToConfigDump(compiled.snapshot, this.#appliedAt), {
      useProtoFieldName: true,
    });
  }

  /**
   * Stops taking configuration and new requests (they fail with `DABBA_MESH_CLOSED`), lets every
   * request in flight finish (retries, backoffs and fault delays included), then closes every
   * connection.
   */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = this.#shutdown(undefined);
    if (callback) {
      done.then(
        () => callback(),
        () => callback(),
      );
      return;
    }
    return done;
  }

  /**
   * Like close(), but ends every request in flight at once with `DABBA_MESH_DESTROYED`
   * ({@link MeshDestroyedError}, whose `cause` is `err` when given).
   */
  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : errOrCallback;
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const done = this.#shutdown(new MeshDestroyedError(err ?? undefined));
    if (cb) {
      done.then(
        () => cb(),
        () => cb(),
      );
      return;
    }
    return done;
  }

  /**
   * close() (no error) or destroy(err). New requests are refused at once. close() then waits for
   * the requests in flight, which keep their configuration and connections until they end;
   * destroy() ends them with `destroyed`. Then the connections close.
   */
  async #shutdown(destroyed: MeshDestroyedError | undefined): Promise<void> {
    const first = !this.#closed;
    this.#closed = true;
    const lifecycle = this.#lifecycle;
    lifecycle.closing = true;
    this.#applying?.abort();
    const unsubscribed = this.#subscription.close();
    if (destroyed !== undefined && lifecycle.destroyedWith === undefined) {
      lifecycle.destroyWaiting(destroyed);
      const pools = this.#pools.destroy(destroyed);
      await Promise.all([unsubscribed, pools]);
    } else {
      await unsubscribed;
    }
    await lifecycle.idle();
    if (first) {
      this.#metrics?.unregister();
      this.#clusterStats?.unregister();
      this.#controlPlaneStats?.unregister();
    }
    lifecycle.closed = true;
    this.#runtime.dispose();
    this.#breakers?.shutdown();
    this.#compiled = undefined;
    await this.#pools.close();
  }
}

// Typed event methods without redeclaring EventEmitter's implementation.
export interface Mesh {
  on<K extends keyof MeshEvents>(event: K, listener: (...args: MeshEvents[K]) => void): this;
  once<K extends keyof MeshEvents>(event: K, listener: (...args: MeshEvents[K]) => void): this;
  off<K extends keyof MeshEvents>(event: K, listener: (...args: MeshEvents[K]) => void): this;
  emit<K extends keyof MeshEvents>(event: K, ...args: MeshEvents[K]): boolean;
}

/**
 * Creates a mesh and waits for its first configuration snapshot.
 *
 * @example
 * const mesh = await createMesh({
 *   workload: { namespace: 'default', labels: { app: 'productpage' }, locality: 'us-east/us-east-1a' },
 *   config: istioFiles('./mesh'),
 * });
 * const res = await fetch('http://reviews:9080/reviews/0', { dispatcher: mesh });
 *
 * @throws ConfigError (code `DABBA_CONFIG_INVALID`) when the options or the first configuration are invalid.
 */
export async function createMesh(options: MeshOptions): Promise<Mesh> {
  const mesh = new Mesh(options);
  try {
    await mesh.ready;
  } catch (err) {
    await mesh.close();
    throw err;
  }
  return mesh;
}
