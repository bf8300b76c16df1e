/**
 * Envoy's circuit breakers as admission control: counters per cluster and routing priority,
 * checked before a request, a pending request, a retry or a connection is started. Exceeding a
 * limit fails fast (Envoy response flag `UO`) and counts an overflow; nothing here queues.
 *
 * Semantics follow Envoy's ResourceManagerImpl and the connection pool (conn_pool_base.cc):
 * a resource may be taken while `count < max`; `max_requests` and `max_pending_requests`
 * overflows both count `upstream_rq_pending_overflow`; `max_retries` counts
 * `upstream_rq_retry_overflow`; `max_connections` counts `upstream_cx_overflow` but, as in Envoy,
 * a host with no connection at all may always open one so it is never starved.
 */
import type { CircuitBreakerLimits, ClusterCircuitBreakers } from '@dabba/discovery';

/** Current use of one priority's resources, as the retry limit sees it. */
export interface AdmissionCounts {
  readonly activeRequests: number;
  readonly pendingRequests: number;
  readonly activeRetries: number;
  readonly activeConnections: number;
}

/**
 * Decides how many retries may be active at once. The default is Envoy's
 * ResourceManagerImpl::RetryBudget: without a budget `max_retries`; with one,
 * `max(budget% x (active + pending requests), min_retry_concurrency)`. The retry module may
 * supply its own (for example, to share a budget across priorities); it is called on each retry.
 */
export type RetryLimit = (counts: AdmissionCounts, limits: CircuitBreakerLimits) => number;

/** Envoy's retry limit; see {@link RetryLimit}. */
export const envoyRetryLimit: RetryLimit = (counts, limits) => {
  const budget = limits.retryBudget;
  if (!budget) return limits.maxRetries;
  const active = counts.activeRequests + counts.pendingRequests;
  // Envoy converts the double product to uint64, which truncates.
  return Math.max(Math.trunc((budget.budgetPercent / 100) * active), budget.minRetryConcurrency);
};

/** Overflow counters, named like Envoy's cluster stats. Shared by a cluster's priorities. */
export interface OverflowStats {
  /** max_requests or max_pending_requests exceeded. */
  upstream_rq_pending_overflow: number;
  /** max_retries (or the retry budget) exceeded. */
  upstream_rq_retry_overflow: number;
  /** max_connections exceeded (the request then waits for a connection, or overflows pending). */
  upstream_cx_overflow: number;
}

/** Creates zeroed {@link OverflowStats}. */
export function createOverflowStats(): OverflowStats {
  return { upstream_rq_pending_overflow: 0, upstream_rq_retry_overflow: 0, upstream_cx_overflow: 0 };
}

/** Options of {@link ClusterAdmission}. */
export interface ClusterAdmissionOptions {
  /** Counters to add overflows to; defaults to fresh ones. Pass one object for all priorities. */
  readonly stats?: OverflowStats | undefined;
  /** How many retries may be active; defaults to {@link envoyRetryLimit}. */
  readonly retryLimit?: RetryLimit | undefined;
}

/**
 * One cluster's resource counters for one routing priority (Envoy's ResourceManager). Every
 * successful `try*` must be paired with its `end*` exactly once, whatever the outcome of the
 * request, and every `connectionOpened` with a `connectionClosed`; a failed `try*` takes nothing
 * and must not be ended.
 */
export class ClusterAdmission implements AdmissionCounts {
  readonly limits: CircuitBreakerLimits;
  readonly stats: OverflowStats;
  readonly #retryLimit: RetryLimit;
  #requests = 0;
  #pending = 0;
  #retries = 0;
  #connections = 0;

  constructor(limits: CircuitBreakerLimits, options: ClusterAdmissionOptions = {}) {
    this.limits = limits;
    this.stats = options.stats ?? createOverflowStats();
    this.#retryLimit = options.retryLimit ?? envoyRetryLimit;
  }

  get activeRequests(): number {
    return this.#requests;
  }
  get pendingRequests(): number {
    return this.#pending;
  }
  get activeRetries(): number {
    return this.#retries;
  }
  get activeConnections(): number {
    return this.#connections;
  }

  /** Takes a request slot (max_requests), or counts an overflow and returns false. */
  tryStartRequest(): boolean {
    if (this.#requests >= this.limits.maxRequests) {
      this.stats.upstream_rq_pending_overflow++;
      return false;
    }
    this.#requests++;
    return true;
  }

  endRequest(): void {
    this.#requests = decrement(this.#requests, 'endRequest');
  }

  /**
   * Takes a pending slot (max_pending_requests) for a request that must wait for a connection,
   * or counts an overflow and returns false.
   */
  tryQueuePending(): boolean {
    if (this.#pending >= this.limits.maxPendingRequests) {
      this.stats.upstream_rq_pending_overflow++;
      return false;
    }
    this.#pending++;
    return true;
  }

  /** The pending request got a connection, failed, or was cancelled. */
  endPending(): void {
    this.#pending = decrement(this.#pending, 'endPending');
  }

  /** Takes a retry slot (max_retries or the retry budget), or counts an overflow and returns false. */
  tryStartRetry(): boolean {
    if (this.#retries >= this.#retryLimit(this, this.limits)) {
      this.stats.upstream_rq_retry_overflow++;
      return false;
    }
    this.#retries++;
    return true;
  }

  endRetry(): void {
    this.#retries = decrement(this.#retries, 'endRetry');
  }

  /**
   * Whether a new connection may be opened under max_connections. Counts `upstream_cx_overflow`
   * when the limit is reached, yet returns true when `hostHasConnections` is false: Envoy always
   * lets a host's pool open its first connection so that no host is starved.
   */
  canOpenConnection(hostHasConnections: boolean): boolean {
    if (this.#connections < this.limits.maxConnections) return true;
    this.stats.upstream_cx_overflow++;
    return !hostHasConnections;
  }

  /** A connection to one of the cluster's hosts was opened (a connecting socket counts). */
  connectionOpened(): void {
    this.#connections++;
  }

  connectionClosed(): void {
    this.#connections = decrement(this.#connections, 'connectionClosed');
  }

  /** Envoy's circuit_breakers.<priority>.*_open gauges: 1 while the resource is exhausted. */
  open(): { cx_open: 0 | 1; rq_pending_open: 0 | 1; rq_open: 0 | 1; rq_retry_open: 0 | 1 } {
    const l = this.limits;
    return {
      cx_open: this.#connections >= l.maxConnections ? 1 : 0,
      rq_pending_open: this.#pending >= l.maxPendingRequests ? 1 : 0,
      rq_open: this.#requests >= l.maxRequests ? 1 : 0,
      rq_retry_open: this.#retries >= this.#retryLimit(this, l) ? 1 : 0,
    };
  }
}

/** An unpaired end would hide a leak elsewhere and let the cluster exceed its limits later. */
function decrement(value: number, what: string): number {
  if (value <= 0) throw new RangeError(`${what}() without a matching start: the counter is already 0`);
  return value - 1;
}

/** Both priorities of a cluster, sharing one set of overflow stats. */
export interface ClusterAdmissions {
  readonly default: ClusterAdmission;
  readonly high: ClusterAdmission;
  readonly stats: OverflowStats;
}

/** Creates a cluster's admission counters for both routing priorities. */
export function createClusterAdmissions(
  compiled: ClusterCircuitBreakers,
  options: Pick<ClusterAdmissionOptions, 'retryLimit'> = {},
): ClusterAdmissions {
  const stats = createOverflowStats();
  return {
    default: new ClusterAdmission(compiled.default, { stats, retryLimit: options.retryLimit }),
    high: new ClusterAdmission(compiled.high, { stats, retryLimit: options.retryLimit }),
    stats,
  };
}
