/**
 * Admission of a cluster's requests under Envoy's `max_requests` and `max_pending_requests`,
 * checked once per request before its first attempt. Over either limit the request is refused
 * at once (`UO`); nothing here waits or queues.
 *
 * Envoy counts a request as pending while its host's connection pool has no connection for it
 * (conn_pool_base.cc newStreamImpl) and as active once it is attached to one. undici does not
 * tell which requests wait, so Dabba keeps the same split itself from the cluster's connection
 * capacity (its endpoint pools' connection limits, one request per HTTP/1.1 connection): a
 * request that finds fewer active requests than connections is active, any other is pending.
 * When an active request ends, the oldest pending one takes its connection, as undici's FIFO
 * pool queue gives it. The split is exact for one endpoint; with several, the load balancer
 * may still queue a request on a busy endpoint while another has room (counted as active).
 *
 * Differences from Envoy, written down: a request waiting for a connection that is being
 * opened counts as active (Envoy: pending); a request holds its slot across retries and their
 * backoff (Envoy releases it between attempts).
 */

import type { CircuitBreakerLimits } from '@dabba/discovery';
import type { CircuitBreakerLimitName } from '../errors.ts';
import { ClusterAdmission, type ClusterAdmissionOptions } from './circuit-breakers.ts';

/** Istio writes MaxUint32 for every threshold a DestinationRule leaves open: no limit. */
export const UNLIMITED_THRESHOLD = 0xffff_ffff;

/** One admitted request's slot; {@link RequestAdmission.release} ends it. */
export class AdmissionTicket {
  /** Waiting for a connection (holds a pending slot) rather than active (a request slot). */
  pending: boolean;
  released = false;
  constructor(pending: boolean) {
    this.pending = pending;
  }
}

export class RequestAdmission {
  /** The cluster's counters (DEFAULT priority), shared with its retry circuit breaker. */
  readonly counters: ClusterAdmission;
  /** Requests the cluster's connections can carry at once; Infinity when not bounded. */
  readonly capacity: number;
  /**
   * Whether requests must be counted: a finite `max_requests`, a finite `max_pending_requests`
   * with bounded connections, or a retry budget (it scales with active and pending requests).
   * Istio's defaults leave all of them open, and the request path then skips admission.
   */
  readonly counting: boolean;
  /** Pending tickets, oldest first (a Set keeps insertion order and deletes in O(1)). */
  readonly #waiting = new Set<AdmissionTicket>();

  constructor(limits: CircuitBreakerLimits, capacity: number, options: ClusterAdmissionOptions = {}) {
    this.counters = new ClusterAdmission(limits, options);
    this.capacity = capacity;
    this.counting =
      limits.maxRequests < UNLIMITED_THRESHOLD ||
      (capacity !== Infinity && limits.maxPendingRequests < UNLIMITED_THRESHOLD) ||
      limits.retryBudget !== undefined;
  }

  /** Admits a request as active or pending, or names the limit it exceeded (counted as overflow). */
  admit(): AdmissionTicket | CircuitBreakerLimitName {
    const c = this.counters;
    if (c.activeRequests < this.capacity) {
      return c.tryStartRequest() ? new AdmissionTicket(false) : 'max_requests';
    }
    if (!c.tryQueuePending()) return 'max_pending_requests';
    const ticket = new AdmissionTicket(true);
    this.#waiting.add(ticket);
    return ticket;
  }

  /** Ends the ticket's slot; idempotent, so every way a request ends may call it. */
  release(ticket: AdmissionTicket): void {
    if (ticket.released) return;
    ticket.released = true;
    const c = this.counters;
    if (ticket.pending) {
      this.#waiting.delete(ticket);
      c.endPending();
      return;
    }
    c.endRequest();
    // The freed connection goes to the oldest waiting request.
    for (const next of this.#waiting) {
      if (c.activeRequests >= this.capacity || c.activeRequests >= c.limits.maxRequests) return;
      this.#waiting.delete(next);
      next.pending = false;
      c.endPending();
      c.tryStartRequest();
      return;
    }
  }
}

/** The threshold value behind a limit name, for the error. */
export function thresholdOf(limits: CircuitBreakerLimits, limit: CircuitBreakerLimitName): number {
  return limit === 'max_requests' ? limits.maxRequests : limits.maxPendingRequests;
}
