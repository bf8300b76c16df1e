/**
 * The opt-in failure-rate breaker (`createMesh({ failureBreaker })`): one opossum
 * CircuitBreaker per cluster, created on the cluster's first request, kept by cluster name
 * across snapshots, shut down when its cluster leaves the configuration or the mesh closes.
 *
 * This is not Envoy's circuit breaking (DestinationRule `connectionPool`, `resilience/
 * circuit-breakers.ts`) nor outlier detection: Envoy has no failure-rate breaker per cluster, so
 * Istio config never drives this one. Its state machine is opossum's, unchanged:
 * - closed: every request passes; each logical request (after retries) is counted in a rolling
 *   window of `rollingCountTimeoutMs` (10 buckets). When a request fails and the window holds at
 *   least `volumeThreshold` requests, the breaker opens if failures / requests exceeds
 *   `errorThresholdPercentage` (strictly greater). Requests refused while open count as requests
 *   in the window, as opossum counts every `fire()`.
 * - open: every request is refused at once; after `resetTimeoutMs` it goes half-open.
 * - half-open: the next request goes through as the trial and every other one is refused while
 *   it is in flight. A success closes the breaker (a success of a request admitted earlier does
 *   too); a failure opens it again for another `resetTimeoutMs`.
 *
 * opossum drives that machine only through `fire()`, so an admitted request is one `fire()` whose
 * action returns a promise the router settles at its finishing step: one promise of ours plus
 * opossum's own (its call promise and its then/catch). `timeout: false` (the router has Envoy's
 * timeouts), no latency percentiles and no snapshot interval keep the rest to counters. A
 * fallback that returns nothing keeps opossum's promises from ever rejecting, so nothing has to
 * catch them.
 *
 * A request admitted but ended for a reason that says nothing about the upstream (the caller's
 * abort, no healthy host for a retry, the mesh closing) settles nothing: opossum has no neutral
 * outcome. If it was the half-open trial, the breaker opens again for another `resetTimeoutMs`
 * rather than stay half-open with no trial.
 */
import CircuitBreaker from 'opossum';

/** The failure breaker's options, resolved (see `MeshOptions.failureBreaker`). */
export interface ResolvedFailureBreakerOptions {
  /** Cluster names it applies to; `undefined` = every cluster. */
  readonly clusters: ReadonlySet<string> | undefined;
  readonly errorThresholdPercentage: number;
  readonly volumeThreshold: number;
  readonly rollingCountTimeoutMs: number;
  readonly resetTimeoutMs: number;
}

/** State changes, reported with the cluster's name. */
export type FailureBreakerEvent = 'breakerOpen' | 'breakerHalfOpen' | 'breakerClose';

/** One admitted request's pass through a breaker. Settle it once, or abstain. */
export interface BreakerCall {
  succeed(): void;
  fail(): void;
  /** The request ended without telling anything about the upstream. */
  abstain(): void;
}

/** The rejection opossum sees for a failed request; never reaches the caller. */
const FAILED = new Error('dabba: upstream failure (failure-rate breaker)');
const nothing = () => undefined;

class Call implements BreakerCall {
  readonly #breaker: ClusterFailureBreaker;
  readonly #resolve: (value: undefined) => void;
  readonly #reject: (reason: Error) => void;
  readonly #trial: boolean;
  constructor(
    breaker: ClusterFailureBreaker,
    resolve: (value: undefined) => void,
    reject: (reason: Error) => void,
    trial: boolean,
  ) {
    this.#breaker = breaker;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#trial = trial;
  }
  succeed(): void {
    this.#resolve(undefined);
  }
  fail(): void {
    this.#reject(FAILED);
  }
  abstain(): void {
    if (this.#trial) this.#breaker.reopenIfHalfOpen();
  }
}

/** One cluster's breaker. */
export class ClusterFailureBreaker {
  readonly cluster: string;
  readonly resetTimeoutMs: number;
  readonly #breaker: CircuitBreaker<[], undefined>;
  #admitted: Call | undefined;

  constructor(cluster: string, options: ResolvedFailureBreakerOptions) {
    this.cluster = cluster;
    this.resetTimeoutMs = options.resetTimeoutMs;
    this.#breaker = new CircuitBreaker<[], undefined>(this.#action, {
      name: cluster,
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      rollingCountTimeout: options.rollingCountTimeoutMs,
      rollingCountBuckets: 10,
      resetTimeout: options.resetTimeoutMs,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.#breaker.fallback(nothing);
  }

  /** Called by opossum, synchronously inside `fire()`, when it lets the request through. */
  readonly #action = (): Promise<undefined> => {
    const { promise, resolve, reject } = Promise.withResolvers<undefined>();
    // Only the half-open trial is admitted while the breaker is not closed.
    this.#admitted = new Call(this, resolve, reject, !this.#breaker.closed);
    return promise;
  };

  /** Lets a request through (a call to settle when it ends), or `undefined` when refused. */
  admit(): BreakerCall | undefined {
    this.#admitted = undefined;
    void this.#breaker.fire();
    const call = this.#admitted;
    this.#admitted = undefined;
    return call;
  }

  /** `open`, `half-open` (waiting for, or running, its trial) or `closed`. */
  get state(): 'open' | 'half-open' | 'closed' {
    return this.#breaker.opened ? 'open' : this.#breaker.halfOpen ? 'half-open' : 'closed';
  }

  /** @internal A half-open trial ended without a verdict: wait another reset timeout. */
  reopenIfHalfOpen(): void {
    if (this.#breaker.halfOpen && !this.#breaker.pendingClose) this.#breaker.open();
  }

  on(listener: (event: FailureBreakerEvent, cluster: string) => void): void {
    this.#breaker.on('open', () => listener('breakerOpen', this.cluster));
    this.#breaker.on('halfOpen', () => listener('breakerHalfOpen', this.cluster));
    this.#breaker.on('close', () => listener('breakerClose', this.cluster));
  }

  /** Stops its timers; requests still in flight settle into nothing. */
  shutdown(): void {
    this.#breaker.shutdown();
  }
}

/** The mesh's breakers, by cluster name. */
export class FailureBreakers {
  readonly #options: ResolvedFailureBreakerOptions;
  readonly #emit: (event: FailureBreakerEvent, cluster: string) => void;
  /** `null`: a cluster the option does not select (looked up once). */
  readonly #byCluster = new Map<string, ClusterFailureBreaker | null>();

  constructor(
    options: ResolvedFailureBreakerOptions,
    emit: (event: FailureBreakerEvent, cluster: string) => void,
  ) {
    this.#options = options;
    this.#emit = emit;
  }

  /** The cluster's breaker, created on its first request; `undefined` when not selected. */
  forCluster(name: string): ClusterFailureBreaker | undefined {
    let breaker = this.#byCluster.get(name);
    if (breaker === undefined) {
      const clusters = this.#options.clusters;
      if (clusters !== undefined && !clusters.has(name)) {
        breaker = null;
      } else {
        breaker = new ClusterFailureBreaker(name, this.#options);
        breaker.on(this.#emit);
      }
      this.#byCluster.set(name, breaker);
    }
    return breaker ?? undefined;
  }

  /** Shuts down the breakers of clusters the new configuration no longer has. */
  retainOnly(clusters: ReadonlyMap<string, unknown>): void {
    for (const [name, breaker] of this.#byCluster) {
      if (clusters.has(name)) continue;
      breaker?.shutdown();
      this.#byCluster.delete(name);
    }
  }

  shutdown(): void {
    for (const breaker of this.#byCluster.values()) breaker?.shutdown();
    this.#byCluster.clear();
  }
}
