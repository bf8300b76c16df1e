/**
 * Resilience policies for the benchmark, added to the routed service (throughput-config.ts).
 * `RESILIENT` is the no-faults case: every feature configured, limits finite (so the admission
 * counters run on every request) but far above what 64 requests in flight can reach. The failure
 * policies each make one mechanism fire; which upstream answers fail is chosen by the query string
 * (upstream-server.ts), so all services share the same four upstream ports.
 */
import type { ServicePolicy } from './throughput-config.ts';

export const RESILIENT_HOST = 'bench-resilient';
export const RETRY_HOST = 'bench-retry';
export const OVERFLOW_HOST = 'bench-overflow';
export const EJECT_HOST = 'bench-eject';

/** Share of attempts the upstream answers 503 in the retry scenario (evenly spread per port). */
export const RETRY_FAIL_PERCENT = 25;
/** Active-request limit of the overflow scenario: with 64 in flight, most requests overflow. */
export const OVERFLOW_MAX_REQUESTS = 8;

const RETRIES = 'retries: { attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset,connect-failure" }';
// Backoff 1 ms (Envoy's default is 25 ms): with the default, retries wait so long that the
// budget (20% of 64 in flight) refuses most of them and the row would measure refusals instead.
const FAST_RETRIES =
  'retries: { attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset,connect-failure", backoff: 1ms }';
const TIMEOUT = 'timeout: 10s';
const HIGH_LIMITS =
  'connectionPool: { tcp: { maxConnections: 100000 }, http: { http1MaxPendingRequests: 100000, http2MaxRequests: 100000, maxRetries: 100000 } }';
// maxEjectionPercent 50: each subset cluster has two hosts, and Istio's default (10) ejects none of two.
const OUTLIER =
  'outlierDetection: { consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50 }';

export const RESILIENT: ServicePolicy = {
  route: [TIMEOUT, RETRIES],
  trafficPolicy: [HIGH_LIMITS, OUTLIER],
};

/** 5xx retried under Envoy's retry budget (20% of active requests, at least 3 retries at once). */
export const RETRY_WITH_BUDGET: ServicePolicy = {
  route: [TIMEOUT, FAST_RETRIES],
  trafficPolicy: [HIGH_LIMITS, OUTLIER, 'retryBudget: { percent: { value: 20 }, minRetryConcurrency: 3 }'],
};

/** A breaker that is open for most requests: the active-request limit is far below the load. */
export const OVERFLOW: ServicePolicy = {
  route: [TIMEOUT, RETRIES],
  trafficPolicy: [
    `connectionPool: { tcp: { maxConnections: ${OVERFLOW_MAX_REQUESTS} }, http: { http1MaxPendingRequests: ${OVERFLOW_MAX_REQUESTS}, http2MaxRequests: ${OVERFLOW_MAX_REQUESTS} } }`,
    OUTLIER,
  ],
};

/** The resilient policy, used with one upstream port that always answers 503 (ejected, retried). */
export const EJECT: ServicePolicy = RESILIENT;
