/**
 * Envoy's outlier detection (passive health checking) for one cluster, as a state machine with
 * no timers and no sockets: the caller reports each request's outcome and calls `tick()` once
 * per `interval`. Behaviour follows source/common/upstream/outlier_detection_impl.cc and the
 * "Outlier detection" architecture overview; differences are named where they occur.
 *
 * Istio notes: a DestinationRule `outlierDetection` becomes this config with success-rate
 * ejection off (enforcing_success_rate 0) and each consecutive detector enforced 100% only when
 * its threshold is > 0. `minHealthPercent` does not reach the detector: Istio writes it to the
 * cluster's healthy_panic_threshold, which the LB plan (buildLbPlan) applies to ejected hosts
 * like any other unhealthy host.
 */

import type { OutlierConfig } from '@dabba/discovery';
import type { Host } from '../lb/host.ts';
import { type RandomSource, randomUint32 } from '../lb/random-source.ts';
import { createHostOutlierState, type HostOutlierState, rollInterval } from './outlier-host-state.ts';
import { findStatisticalOutliers, type IntervalSample } from './outlier-statistics.ts';

/**
 * One request's result for a host. A number is the HTTP status at response start (any 5xx is an
 * external error; 502, 503 and 504 are also gateway errors). The strings are locally originated
 * events, Envoy's `Outlier::Result`:
 * - `connect-failure`: connection refused or failed (LocalOriginConnectFailed);
 * - `reset`: the stream or connection was reset before a response. Envoy's router reports this
 *   as LocalOriginConnectFailed too; resets caused by Dabba's own circuit breaker (overflow) must
 *   not be reported, as Envoy ignores them (envoyproxy/envoy#25487);
 * - `timeout`: the (per-try) timeout fired (LocalOriginTimeout; the router passes 504);
 * - `local-success`: a connection/stream to the host was obtained (LocalOriginConnectSuccess).
 */
export type OutlierOutcome = number | 'connect-failure' | 'reset' | 'timeout' | 'local-success';

/** Envoy's OutlierEjectionType (data/cluster/v3/outlier_detection_event.proto), kebab-cased. */
export type OutlierEjectionType =
  | 'consecutive-5xx'
  | 'consecutive-gateway-failure'
  | 'consecutive-local-origin-failure'
  | 'success-rate'
  | 'success-rate-local-origin'
  | 'failure-percentage'
  | 'failure-percentage-local-origin';

/** A host that was ejected or returned to service. */
export interface OutlierChange {
  readonly host: Host;
  readonly ejected: boolean;
  /** Which detector ejected it; absent when the host returns. */
  readonly type?: OutlierEjectionType;
}

/** Per-type counters, named after Envoy's `outlier_detection.*` cluster stats. */
export type OutlierCounters = Record<OutlierEjectionType, number>;

/** Envoy's outlier detection stats for one cluster (live; read, never write). */
export interface OutlierStats {
  /** `ejections_active`: hosts ejected now. */
  readonly ejectionsActive: number;
  /** `ejections_overflow`: ejections refused by max_ejection_percent. */
  readonly ejectionsOverflow: number;
  /** `ejections_enforced_total`. */
  readonly ejectionsEnforcedTotal: number;
  /** `ejections_detected_<type>`: outliers found, whether or not enforced. */
  readonly detected: Readonly<OutlierCounters>;
  /** `ejections_enforced_<type>`. */
  readonly enforced: Readonly<OutlierCounters>;
}

/** A host's outlier status, for explain and the config dump. */
export interface OutlierHostStatus {
  readonly ejected: boolean;
  readonly numEjections: number;
  /** Current multiplier of base_ejection_time. */
  readonly ejectionMultiplier: number;
  /** Earliest time (clock ms) the next sweep returns the host, when ejected. */
  readonly ejectedUntilMs: number | undefined;
}

/** Options of {@link OutlierDetector}; every field optional. */
export interface OutlierDetectorOptions {
  /** Monotonic milliseconds. Default `performance`. */
  readonly clock?: { now(): number };
  /** Draws the enforcement percentages and jitter. Default `Math.random`. */
  readonly random?: RandomSource;
  /**
   * Called after a `recordResult` or `tick` that ejected or returned hosts, once per call with
   * every change, so the owner rebuilds its LB plan once (Envoy: addChangedStateCb, which makes
   * the cluster recompute its healthy host lists).
   */
  readonly onChange?: (changes: readonly OutlierChange[]) => void;
}

const ZERO_COUNTERS: OutlierCounters = {
  'consecutive-5xx': 0,
  'consecutive-gateway-failure': 0,
  'consecutive-local-origin-failure': 0,
  'success-rate': 0,
  'success-rate-local-origin': 0,
  'failure-percentage': 0,
  'failure-percentage-local-origin': 0,
};

interface MutableStats {
  ejectionsActive: number;
  ejectionsOverflow: number;
  ejectionsEnforcedTotal: number;
  detected: OutlierCounters;
  enforced: OutlierCounters;
}

/**
 * Envoy's outlier detector for one cluster's hosts. Ejection from consecutive failures happens
 * inside `recordResult` (Envoy posts it to the main thread, so a few more requests may land
 * first; here it is immediate). Un-ejection and the success-rate and failure-percentage
 * detectors run in `tick()`. The detector never writes `Host.health`: an ejected host is
 * reported through `isEjected` and `onChange`, and the owner folds that into the health the LB
 * plan reads (Envoy keeps FAILED_OUTLIER_CHECK as its own flag beside EDS health the same way).
 */
export class OutlierDetector {
  readonly config: OutlierConfig;
  readonly #clock: { now(): number };
  readonly #random: RandomSource;
  readonly #onChange: ((changes: readonly OutlierChange[]) => void) | undefined;
  #states = new Map<string, HostOutlierState>();
  readonly #stats: MutableStats = {
    ejectionsActive: 0,
    ejectionsOverflow: 0,
    ejectionsEnforcedTotal: 0,
    detected: { ...ZERO_COUNTERS },
    enforced: { ...ZERO_COUNTERS },
  };

  constructor(config: OutlierConfig, hosts: readonly Host[], options: OutlierDetectorOptions = {}) {
    this.config = config;
    this.#clock = options.clock ?? performance;
    this.#random = options.random ?? Math.random;
    this.#onChange = options.onChange;
    this.setHosts(hosts);
  }

  /** Live counters; see {@link OutlierStats}. */
  get stats(): OutlierStats {
    return this.#stats;
  }

  /** Hosts ejected now. */
  get ejectedCount(): number {
    return this.#stats.ejectionsActive;
  }

  /**
   * Replaces the tracked hosts (a new snapshot). State is kept by `host.key`, so a surviving
   * endpoint keeps its counters, ejection and multiplier even when the Host object is new; a
   * removed host's state is dropped (and its ejection no longer counts, as Envoy's member update
   * callback does). Never calls `onChange`: the caller is rebuilding its plan anyway and reads
   * `isEjected` for each host.
   */
  setHosts(hosts: readonly Host[]): void {
    const next = new Map<string, HostOutlierState>();
    for (const host of hosts) {
      const state = this.#states.get(host.key) ?? createHostOutlierState(host);
      state.host = host;
      next.set(host.key, state);
    }
    let active = 0;
    for (const state of next.values()) if (state.ejected) active++;
    this.#stats.ejectionsActive = active;
    this.#states = next;
  }

  /** Whether outlier detection has ejected this host (by key). */
  isEjected(host: Host): boolean {
    return this.#states.get(host.key)?.ejected ?? false;
  }

  /** The host's outlier status, or undefined when the detector does not track it. */
  hostStatus(host: Host): OutlierHostStatus | undefined {
    const s = this.#states.get(host.key);
    if (s === undefined) return undefined;
    return {
      ejected: s.ejected,
      numEjections: s.numEjections,
      ejectionMultiplier: s.ejectionMultiplier,
      ejectedUntilMs:
        s.ejected && s.lastEjectionMs !== undefined ? s.lastEjectionMs + this.#ejectionTimeMs(s) : undefined,
    };
  }

  /**
   * Records one request outcome for a host (Envoy's putHttpResponseCode / putResult). A host the
   * detector does not track is ignored, like a result arriving after the host left the cluster.
   */
  recordResult(host: Host, outcome: OutlierOutcome): void {
    const state = this.#states.get(host.key);
    if (state === undefined) return;
    const changes: OutlierChange[] = [];
    if (typeof outcome === 'number') {
      this.#putHttpStatus(state, outcome, changes);
    } else if (this.config.splitExternalLocalOriginErrors) {
      // Split: local-origin events have their own consecutive counter and success-rate bucket,
      // and never touch the 5xx and gateway counters.
      if (outcome === 'local-success') this.#localOriginSuccess(state);
      else this.#localOriginFailure(state, changes);
    } else {
      // Not split: Envoy maps local-origin events to HTTP codes (resultToHttpCode) and counts
      // them with the server's own 5xx. A connection obtained is not a request result, so it
      // maps to nothing.
      if (outcome === 'timeout') this.#putHttpStatus(state, 504, changes);
      else if (outcome !== 'local-success') this.#putHttpStatus(state, 503, changes);
    }
    if (changes.length > 0) this.#onChange?.(changes);
  }

  /**
   * One interval sweep (Envoy's onIntervalTimer): return hosts whose ejection time has passed,
   * close the interval's request counts, run the success-rate and failure-percentage detectors
   * over them (external, then local origin), and shorten the ejection multiplier of hosts that
   * stayed in service for a whole interval. Call every `config.intervalMs`.
   */
  tick(): void {
    const now = this.#clock.now();
    const changes: OutlierChange[] = [];
    for (const state of this.#states.values()) {
      if (state.ejected && this.#ejectionTimeMs(state) + state.jitterMs <= now - state.lastEjectionMs!) {
        this.#uneject(state, now, changes);
      }
      rollInterval(state);
    }
    this.#sweep('external', now, changes);
    this.#sweep('local', now, changes);
    for (const state of this.#states.values()) {
      if (
        !state.ejected &&
        state.lastUnejectionMs !== undefined &&
        now - state.lastUnejectionMs >= this.config.intervalMs &&
        state.ejectionMultiplier > 0
      ) {
        state.ejectionMultiplier--;
      }
    }
    if (changes.length > 0) this.#onChange?.(changes);
  }

  #ejectionTimeMs(state: HostOutlierState): number {
    return Math.min(this.config.baseEjectionTimeMs * state.ejectionMultiplier, this.config.maxEjectionTimeMs);
  }

  #putHttpStatus(state: HostOutlierState, status: number, changes: OutlierChange[]): void {
    const c = this.config;
    state.external.total++;
    if (status >= 500 && status < 600) {
      if (status >= 502 && status <= 504) {
        // Envoy compares with `==`: the detector fires once when the count reaches the
        // threshold, so a threshold of 0 never fires.
        if (++state.consecutiveGatewayFailure === c.consecutiveGatewayFailure) {
          this.#onConsecutive(state, 'consecutive-gateway-failure', changes);
        }
      } else {
        state.consecutiveGatewayFailure = 0;
      }
      if (++state.consecutive5xx === c.consecutive5xx) this.#onConsecutive(state, 'consecutive-5xx', changes);
    } else {
      state.external.success++;
      state.consecutive5xx = 0;
      state.consecutiveGatewayFailure = 0;
    }
  }

  #localOriginFailure(state: HostOutlierState, changes: OutlierChange[]): void {
    state.local.total++;
    if (++state.consecutiveLocalOriginFailure === this.config.consecutiveLocalOriginFailure) {
      this.#onConsecutive(state, 'consecutive-local-origin-failure', changes);
    }
  }

  #localOriginSuccess(state: HostOutlierState): void {
    state.local.total++;
    state.local.success++;
    state.consecutiveLocalOriginFailure = 0;
  }

  // Envoy's onConsecutiveErrorWorker.
  #onConsecutive(state: HostOutlierState, type: OutlierEjectionType, changes: OutlierChange[]): void {
    // An ejected host's counter is left as it is: it keeps counting past the threshold and
    // cannot fire again until a success or the un-ejection resets it.
    if (state.ejected) return;
    this.#stats.detected[type]++;
    this.#eject(state, type, this.#clock.now(), changes);
    // Reset whether or not the ejection was enforced, so a later run of errors is detected
    // again without an interleaved success.
    if (type === 'consecutive-5xx') state.consecutive5xx = 0;
    else if (type === 'consecutive-gateway-failure') state.consecutiveGatewayFailure = 0;
    else state.consecutiveLocalOriginFailure = 0;
  }

  #sweep(origin: 'external' | 'local', now: number, changes: OutlierChange[]): void {
    const samples: IntervalSample<HostOutlierState>[] = [];
    for (const state of this.#states.values()) {
      if (state.ejected) continue;
      const bucket = origin === 'external' ? state.lastExternal : state.lastLocal;
      samples.push({ key: state, success: bucket.success, total: bucket.total });
    }
    const found = findStatisticalOutliers(samples, this.#states.size, this.config);
    const srType = origin === 'external' ? 'success-rate' : 'success-rate-local-origin';
    const fpType = origin === 'external' ? 'failure-percentage' : 'failure-percentage-local-origin';
    for (const state of found.successRate) {
      this.#stats.detected[srType]++;
      this.#eject(state, srType, now, changes);
    }
    for (const state of found.failurePercentage) {
      this.#stats.detected[fpType]++;
      // Envoy calls ejectHost again for a host the success-rate pass just ejected (and asserts
      // in debug builds); ejecting twice would double-count it, so an ejected host is skipped.
      if (!state.ejected) this.#eject(state, fpType, now, changes);
    }
  }

  // Envoy's DetectorImpl::ejectHost.
  #eject(state: HostOutlierState, type: OutlierEjectionType, now: number, changes: OutlierChange[]): void {
    const c = this.config;
    const stats = this.#stats;
    // Counted over every host of the cluster, not per priority (Envoy's comment: all hosts of
    // one priority may be ejected). With the default 10%, a cluster of fewer than 10 hosts
    // ejects nothing unless always_eject_one_host is set.
    const ejectedPercent = (100 * (stats.ejectionsActive + 1)) / this.#states.size;
    let allowed = ejectedPercent <= c.maxEjectionPercent;
    if (c.alwaysEjectOneHost) allowed = allowed || stats.ejectionsActive === 0;
    if (!allowed) {
      stats.ejectionsOverflow++;
      return;
    }
    if (!this.#enforced(type)) return;
    stats.ejectionsActive++;
    stats.ejectionsEnforcedTotal++;
    stats.enforced[type]++;
    state.ejected = true;
    state.numEjections++;
    state.lastEjectionMs = now;
    state.jitterMs =
      c.maxEjectionTimeJitterMs > 0 ? randomUint32(this.#random) % (c.maxEjectionTimeJitterMs + 1) : 0;
    // The multiplier stops growing once base x multiplier reaches max + base, so a host that
    // keeps failing stays at max_ejection_time and needs only a bounded number of quiet
    // intervals to shrink it again.
    if (state.ejectionMultiplier * c.baseEjectionTimeMs < c.maxEjectionTimeMs + c.baseEjectionTimeMs) {
      state.ejectionMultiplier++;
    }
    changes.push({ host: state.host, ejected: true, type });
  }

  #uneject(state: HostOutlierState, now: number, changes: OutlierChange[]): void {
    this.#stats.ejectionsActive--;
    state.ejected = false;
    // Envoy clears the consecutive counters so that a counter left near its threshold does not
    // re-eject the host after very few new errors.
    state.consecutive5xx = 0;
    state.consecutiveGatewayFailure = 0;
    state.consecutiveLocalOriginFailure = 0;
    state.lastUnejectionMs = now;
    changes.push({ host: state.host, ejected: false });
  }

  // Envoy's runtime featureEnabled(key, percent): enabled when a uniform draw % 100 < percent.
  #enforced(type: OutlierEjectionType): boolean {
    const percent = this.#enforcingPercent(type);
    if (percent <= 0) return false;
    if (percent >= 100) return true;
    return randomUint32(this.#random) % 100 < percent;
  }

  #enforcingPercent(type: OutlierEjectionType): number {
    const c = this.config;
    switch (type) {
      case 'consecutive-5xx':
        return c.enforcingConsecutive5xx;
      case 'consecutive-gateway-failure':
        return c.enforcingConsecutiveGatewayFailure;
      case 'consecutive-local-origin-failure':
        return c.enforcingConsecutiveLocalOriginFailure;
      case 'success-rate':
        return c.enforcingSuccessRate;
      case 'success-rate-local-origin':
        return c.enforcingLocalOriginSuccessRate;
      case 'failure-percentage':
        return c.enforcingFailurePercentage;
      case 'failure-percentage-local-origin':
        return c.enforcingFailurePercentageLocalOrigin;
    }
  }
}
