/**
 * Envoy's cluster statistics for every configured cluster, exported through prom-client at
 * scrape time (names: cluster-stats-names.ts). Nothing here runs per request: the request path
 * adds to a {@link ClusterTraffic} when a request ends, and the rest is read from live state
 * when the registry is collected: hosts' in-flight counts and health, the circuit-breaker
 * counters (resilience/circuit-breakers.ts) and the outlier detector's stats.
 *
 * One series set per cluster of the serving snapshot, so the series are bounded by the
 * configuration. Connection stats (`upstream_cx_active`, `_total`, `_connect_fail`,
 * `circuit_breakers.default.cx_open`) come from the endpoint pools the cluster's endpoints use
 * (connection/endpoint-pools.ts `connectionsOf`): Dabba's pools belong to an endpoint and its
 * connection settings, so a pool shared by two clusters (a service and its subset) counts in
 * both, where Envoy's pools belong to one cluster. Per-try timeouts are not exported: a retried
 * one is not seen when the request ends.
 */
import { Counter, Gauge } from 'prom-client';
import type { ClusterConnections } from '../connection/endpoint-pools.ts';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import type { Host } from '../lb/host.ts';
import type { OutlierStats } from '../resilience/outlier-detector.ts';
import type { RequestAdmission } from '../resilience/request-admission.ts';
import {
  CLUSTER_NAME_LABEL,
  ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_CX_OPEN,
  ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_OPEN,
  ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_PENDING_OPEN,
  ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_RETRY_OPEN,
  ENVOY_CLUSTER_MEMBERSHIP_HEALTHY,
  ENVOY_CLUSTER_MEMBERSHIP_TOTAL,
  ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_ACTIVE,
  ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_ENFORCED_TOTAL,
  ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_OVERFLOW,
  ENVOY_CLUSTER_UPSTREAM_CX_ACTIVE,
  ENVOY_CLUSTER_UPSTREAM_CX_CONNECT_FAIL,
  ENVOY_CLUSTER_UPSTREAM_CX_TOTAL,
  ENVOY_CLUSTER_UPSTREAM_RQ,
  ENVOY_CLUSTER_UPSTREAM_RQ_ACTIVE,
  ENVOY_CLUSTER_UPSTREAM_RQ_COMPLETED,
  ENVOY_CLUSTER_UPSTREAM_RQ_PENDING_ACTIVE,
  ENVOY_CLUSTER_UPSTREAM_RQ_PENDING_OVERFLOW,
  ENVOY_CLUSTER_UPSTREAM_RQ_RETRY,
  ENVOY_CLUSTER_UPSTREAM_RQ_RETRY_OVERFLOW,
  ENVOY_CLUSTER_UPSTREAM_RQ_RETRY_SUCCESS,
  ENVOY_CLUSTER_UPSTREAM_RQ_TIMEOUT,
  ENVOY_CLUSTER_UPSTREAM_RQ_TOTAL,
  RESPONSE_CODE_CLASS_LABEL,
} from './cluster-stats-names.ts';
import { ClusterTraffic } from './cluster-traffic.ts';
import type { MetricsRegistry } from './istio-request-metrics.ts';

/**
 * What the stats read of a cluster at scrape time: its name and hosts, and its runtime state
 * (runtime/cluster-runtime.ts).
 */
export interface ClusterStatsView {
  readonly name: string;
  readonly hosts: readonly Host[];
  /** Admission counters; undefined before the cluster's first request. */
  readonly admission: RequestAdmission | undefined;
  readonly outlier:
    | { readonly detector: { readonly stats: OutlierStats; isEjected(host: Host): boolean } }
    | undefined;
}

/** What a stat reads from a cluster at scrape time; `undefined` leaves the cluster out. */
type Read = (cluster: ClusterStatsView, traffic: ClusterTraffic | undefined) => number | undefined;

interface StatSpec {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly read: Read;
}

const open = (c: ClusterStatsView) => c.admission?.counters.open();

/** Every single-valued stat, with Envoy's description (cluster manager statistics docs). */
const STATS: readonly StatSpec[] = [
  {
    name: ENVOY_CLUSTER_UPSTREAM_RQ_TOTAL,
    type: 'counter',
    help: 'Total requests (attempts sent to an endpoint, retries included).',
    read: (_c, t) => t?.rqTotal ?? 0,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_RQ_COMPLETED,
    type: 'counter',
    help: 'Total upstream requests completed.',
    read: (_c, t) => t?.rqCompleted ?? 0,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_RQ_RETRY,
    type: 'counter',
    help: 'Total request retries (sent to an endpoint).',
    read: (_c, t) => t?.rqRetry ?? 0,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_RQ_RETRY_SUCCESS,
    type: 'counter',
    help: 'Total request retry successes.',
    read: (_c, t) => t?.rqRetrySuccess ?? 0,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_RQ_TIMEOUT,
    type: 'counter',
    help: 'Total requests that timed out waiting for a response (route timeout).',
    read: (_c, t) => t?.rqTimeout ?? 0,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_RQ_RETRY_OVERFLOW,
    type: 'counter',
    help: 'Total requests not retried due to circuit breaking or exceeding the retry budget.',
    read: (c) => c.admission?.counters.stats.upstream_rq_retry_overflow ?? 0,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_RQ_PENDING_OVERFLOW,
    type: 'counter',
    help: 'Total requests that overflowed connection pool or requests (mainly for HTTP/2 and above) circuit breaking and were failed.',
    read: (c) => c.admission?.counters.stats.upstream_rq_pending_overflow ?? 0,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_RQ_ACTIVE,
    type: 'gauge',
    help: 'Total active requests (attempts in flight to the cluster’s hosts).',
    read: (c) => {
      let n = 0;
      for (const h of c.hosts) n += h.activeRequests;
      return n;
    },
  },
  {
    // Dabba splits active from pending only while it counts requests for circuit breaking
    // (request-admission.ts); otherwise the split is unknown and the stat is left out.
    name: ENVOY_CLUSTER_UPSTREAM_RQ_PENDING_ACTIVE,
    type: 'gauge',
    help: 'Total active requests pending a connection pool connection.',
    read: (c) => (c.admission?.counting === true ? c.admission.counters.pendingRequests : undefined),
  },
  {
    name: ENVOY_CLUSTER_MEMBERSHIP_HEALTHY,
    type: 'gauge',
    help: 'Current cluster healthy total (outlier ejections count as unhealthy).',
    read: (c) => {
      let n = 0;
      const detector = c.outlier?.detector;
      for (const h of c.hosts) if (h.health === 'healthy' && detector?.isEjected(h) !== true) n++;
      return n;
    },
  },
  {
    name: ENVOY_CLUSTER_MEMBERSHIP_TOTAL,
    type: 'gauge',
    help: 'Current cluster membership total.',
    read: (c) => c.hosts.length,
  },
  {
    name: ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_ACTIVE,
    type: 'gauge',
    help: 'Number of currently ejected hosts.',
    read: (c) => c.outlier?.detector.stats.ejectionsActive,
  },
  {
    name: ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_ENFORCED_TOTAL,
    type: 'counter',
    help: 'Number of enforced ejections due to any outlier type.',
    read: (c) => c.outlier?.detector.stats.ejectionsEnforcedTotal,
  },
  {
    name: ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_OVERFLOW,
    type: 'counter',
    help: 'Number of ejections aborted due to the max ejection %.',
    read: (c) => c.outlier?.detector.stats.ejectionsOverflow,
  },
  {
    name: ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_OPEN,
    type: 'gauge',
    help: 'Whether the requests circuit breaker is under its concurrency limit (0) or is at capacity and no longer admitting (1).',
    read: (c) => open(c)?.rq_open ?? 0,
  },
  {
    name: ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_PENDING_OPEN,
    type: 'gauge',
    help: 'Whether the pending requests circuit breaker is under its concurrency limit (0) or is at capacity and no longer admitting (1).',
    read: (c) => open(c)?.rq_pending_open ?? 0,
  },
  {
    name: ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_RETRY_OPEN,
    type: 'gauge',
    help: 'Whether the retry circuit breaker is under its concurrency limit (0) or is at capacity and no longer admitting (1).',
    read: (c) => open(c)?.rq_retry_open ?? 0,
  },
];

/** Connection stats, read from the cluster's endpoint pools (see the file's header). */
interface ConnectionStatSpec {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly read: (cluster: ClusterStatsView, connections: ClusterConnections) => number;
}

const CONNECTION_STATS: readonly ConnectionStatSpec[] = [
  {
    name: ENVOY_CLUSTER_UPSTREAM_CX_ACTIVE,
    type: 'gauge',
    help: 'Total active connections (of the endpoint pools the cluster uses).',
    read: (_c, x) => x.active,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_CX_TOTAL,
    type: 'counter',
    help: 'Total connections (of the endpoint pools the cluster uses).',
    read: (_c, x) => x.opened,
  },
  {
    name: ENVOY_CLUSTER_UPSTREAM_CX_CONNECT_FAIL,
    type: 'counter',
    help: 'Total connection failures (of the endpoint pools the cluster uses).',
    read: (_c, x) => x.connectFailed,
  },
  {
    name: ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_CX_OPEN,
    type: 'gauge',
    help: 'Whether the connection circuit breaker is under its concurrency limit (0) or is at capacity and no longer admitting (1).',
    read: (c, x) => (x.active >= (c.admission?.counters.limits.maxConnections ?? Infinity) ? 1 : 0),
  },
];

/** `envoy_cluster_upstream_rq{response_code_class}` values, by status class. */
const CLASSES = ['', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Every metric name {@link ClusterStats} registers. */
export const CLUSTER_STAT_NAMES: readonly string[] = Object.freeze([
  ...STATS.map((s) => s.name),
  ...CONNECTION_STATS.map((s) => s.name),
  ENVOY_CLUSTER_UPSTREAM_RQ,
]);

/** Options of {@link createClusterStats}. */
export interface ClusterStatsOptions<V extends ClusterStatsView = ClusterStatsView> {
  readonly registry: MetricsRegistry;
  /** The clusters of the serving snapshot, read at each scrape. */
  readonly clusters: () => Iterable<V>;
  /** A cluster's connections, read at each scrape; the connection stats are left out without it. */
  readonly connections?: (cluster: V) => ClusterConnections;
}

/** Envoy's cluster stats of one mesh, registered in one registry. */
export class ClusterStats<V extends ClusterStatsView = ClusterStatsView> {
  readonly registry: MetricsRegistry;
  readonly #traffic = new Map<string, ClusterTraffic>();

  /** Use {@link createClusterStats}, which checks the registry first. */
  constructor(options: ClusterStatsOptions<V>) {
    this.registry = options.registry;
    const registers = [options.registry];
    /** The live clusters and their traffic; traffic of clusters no longer configured is dropped. */
    const each = (fn: (c: V, t: ClusterTraffic | undefined) => void) => {
      const live = new Set<string>();
      for (const c of options.clusters()) {
        live.add(c.name);
        fn(c, this.#traffic.get(c.name));
      }
      for (const name of this.#traffic.keys()) if (!live.has(name)) this.#traffic.delete(name);
    };
    /** One metric with a series per cluster; `value` undefined leaves the cluster out. */
    const perCluster = (
      spec: { readonly name: string; readonly type: 'counter' | 'gauge'; readonly help: string },
      value: (c: V, t: ClusterTraffic | undefined) => number | undefined,
    ) => {
      const config = { name: spec.name, help: spec.help, labelNames: [CLUSTER_NAME_LABEL], registers };
      if (spec.type === 'counter') {
        new Counter({
          ...config,
          collect() {
            this.reset();
            each((c, t) => {
              const v = value(c, t);
              if (v !== undefined) this.inc({ [CLUSTER_NAME_LABEL]: c.name }, v);
            });
          },
        });
      } else {
        new Gauge({
          ...config,
          collect() {
            this.reset();
            each((c, t) => {
              const v = value(c, t);
              if (v !== undefined) this.set({ [CLUSTER_NAME_LABEL]: c.name }, v);
            });
          },
        });
      }
    };
    for (const spec of STATS) perCluster(spec, spec.read);
    const connectionsOf = options.connections;
    if (connectionsOf !== undefined) {
      for (const spec of CONNECTION_STATS) perCluster(spec, (c) => spec.read(c, connectionsOf(c)));
    }
    new Counter({
      name: ENVOY_CLUSTER_UPSTREAM_RQ,
      help: 'Total upstream requests by response code class (the code the router charges: the forwarded status, or the local reply of an upstream failure).',
      labelNames: [CLUSTER_NAME_LABEL, RESPONSE_CODE_CLASS_LABEL],
      registers,
      collect() {
        this.reset();
        each((c, t) => {
          if (t === undefined) return;
          for (let k = 1; k < CLASSES.length; k++) {
            const v = t.rqClass[k]!;
            if (v > 0)
              this.inc({ [CLUSTER_NAME_LABEL]: c.name, [RESPONSE_CODE_CLASS_LABEL]: CLASSES[k]! }, v);
          }
        });
      },
    });
  }

  /** The request counters of cluster `name`, created on first use and kept across recompiles. */
  traffic(name: string): ClusterTraffic {
    let t = this.#traffic.get(name);
    if (t === undefined) {
      t = new ClusterTraffic();
      this.#traffic.set(name, t);
    }
    return t;
  }

  /** Removes these metrics from the registry (the mesh is closing). */
  unregister(): void {
    for (const name of CLUSTER_STAT_NAMES) this.registry.removeSingleMetric(name);
  }
}

/**
 * Registers Envoy's cluster stats for the clusters `options.clusters()` returns at each scrape.
 *
 * @throws ConfigError (`DABBA_CONFIG_INVALID`) when the registry already has one of the names.
 */
export function createClusterStats<V extends ClusterStatsView>(
  options: ClusterStatsOptions<V>,
): ClusterStats<V> {
  const issues: ConfigIssue[] = [];
  for (const name of CLUSTER_STAT_NAMES) {
    if (options.registry.getSingleMetric(name) !== undefined) {
      issues.push({
        source: 'createClusterStats',
        path: 'registry',
        message: `already has a metric named ${name}`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return new ClusterStats(options);
}
