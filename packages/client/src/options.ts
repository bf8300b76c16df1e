import { debuglog } from 'node:util';
import { MAX_TIMER_MS } from '@dabba/core';
/**
 * Public options of `createMesh()` and their resolution into a frozen, fully specified object.
 * Options are validated once, at construction; every problem is reported together.
 */
import {
  type ConfigError,
  ConfigError as ConfigErrorClass,
  type ConfigIssue,
  type ConfigSource,
  resolveWorkload,
  type Workload,
  type WorkloadOptions,
} from '@dabba/discovery';
import { Registry } from 'prom-client';
import { checkOptionObject } from './option-shape.ts';
import type { ResolvedFailureBreakerOptions } from './resilience/failure-breaker.ts';
import {
  type AccessLogOptions,
  type ResolvedAccessLogOptions,
  resolveAccessLogOptions,
} from './telemetry/access-log/access-log-options.ts';
import type { MetricsRegistry } from './telemetry/istio-request-metrics.ts';
import {
  type ResolvedTracingOptions,
  resolveTracingOptions,
  type TracingOptions,
} from './telemetry/tracing/tracing-options.ts';

/** Receives what the mesh has to say about its configuration. */
export interface MeshLogger {
  /** Rejected configuration (the previous snapshot keeps serving). */
  error(message: string): void;
  /** Accepted configuration with parts skipped or ignored. */
  notice(message: string): void;
  /**
   * Accepted configuration with a security consequence: a policy that is not enforced, or
   * traffic that will be refused (Istio mTLS without a workload identity). Once per resource
   * and message. When absent, these go to `error`.
   */
  warn?(message: string): void;
}

/**
 * Dabba's own failure-rate breaker, per cluster, on opossum's state machine (closed -> open ->
 * half-open). Not Istio config: DestinationRule `connectionPool` and `outlierDetection` keep
 * Envoy's semantics; this is an extra, off unless set.
 */
export interface FailureBreakerOptions {
  /**
   * Cluster names it applies to (as Envoy names them, e.g.
   * `outbound|9080||reviews.default.svc.cluster.local`). Default: every cluster.
   */
  readonly clusters?: readonly string[];
  /** Opens when failed requests in the window exceed this percentage. Default 50. */
  readonly errorThresholdPercentage?: number;
  /** Requests the rolling window must hold before the breaker may open. Default 20. */
  readonly volumeThreshold?: number;
  /** Length of the rolling window (10 buckets). Default 10000. */
  readonly rollingCountTimeoutMs?: number;
  /** Time from open to half-open. Default 30000. */
  readonly resetTimeoutMs?: number;
}

/** Istio's standard request metrics (`istio_requests_total`, ...) with `reporter="source"`. */
export interface MetricsOptions {
  /**
   * The prom-client registry the metrics are registered in. Default: a new registry of the
   * mesh's own (`mesh.metrics`), never prom-client's global `register`.
   */
  readonly registry?: MetricsRegistry;
  /** Default `true` when the `metrics` object is given. */
  readonly enabled?: boolean;
}

export interface MeshOptions {
  /** The workload this process is (namespace, labels, locality...). Defaults: Istio's. */
  readonly workload?: WorkloadOptions;
  /** Where configuration comes from, e.g. `istioFiles('./mesh')`. Required. */
  readonly config: ConfigSource;
  /**
   * Where configuration problems are logged. Default: errors as process warnings
   * (`DABBA_CONFIG_INVALID`), notices to `NODE_DEBUG=dabba`. Pass `null` to log nothing; the
   * `configError` and `notice` events fire either way.
   */
  readonly logger?: MeshLogger | null;
  /** Random source in [0, 1) for weighted choices and LB; for tests. Default `Math.random`. */
  readonly random?: () => number;
  /** An opt-in failure-rate breaker per cluster (see {@link FailureBreakerOptions}). Default: off. */
  readonly failureBreaker?: FailureBreakerOptions;
  /** Istio's request metrics (see {@link MetricsOptions}). Default: off. */
  readonly metrics?: MetricsOptions;
  /** OpenTelemetry tracing and trace-context propagation (see {@link TracingOptions}). Default: off. */
  readonly tracing?: TracingOptions;
  /** Envoy-style access logs, one line per request (see {@link AccessLogOptions}). Default: off. */
  readonly accessLog?: AccessLogOptions;
}

export interface ResolvedMeshOptions {
  readonly workload: Workload;
  readonly config: ConfigSource;
  readonly logger: MeshLogger | null;
  readonly random: () => number;
  /** `undefined` when the option is absent: the request path then checks one property. */
  readonly failureBreaker: ResolvedFailureBreakerOptions | undefined;
  /** `undefined` when metrics are off; else the registry they go to. */
  readonly metrics: { readonly registry: MetricsRegistry } | undefined;
  /** `undefined` when tracing is off. */
  readonly tracing: ResolvedTracingOptions | undefined;
  /** `undefined` when access logs are off. */
  readonly accessLog: ResolvedAccessLogOptions | undefined;
}

/** Defaults of the failure breaker (opossum's own, except the volume threshold). */
export const FAILURE_BREAKER_DEFAULTS = Object.freeze({
  errorThresholdPercentage: 50,
  volumeThreshold: 20,
  rollingCountTimeoutMs: 10_000,
  resetTimeoutMs: 30_000,
});

const FAILURE_BREAKER_KEYS = new Set(['clusters', ...Object.keys(FAILURE_BREAKER_DEFAULTS)]);

const debug = debuglog('dabba');

export const DEFAULT_LOGGER: MeshLogger = Object.freeze({
  error(message: string) {
    process.emitWarning(message, { code: 'DABBA_CONFIG_INVALID' });
  },
  notice(message: string) {
    debug(message);
  },
  warn(message: string) {
    process.emitWarning(message, { code: 'DABBA_CONFIG_WARNING' });
  },
});

export function resolveMeshOptions(options: MeshOptions): ResolvedMeshOptions {
  const issues: ConfigIssue[] = [];
  const source = 'createMesh options';
  if (options === null || typeof options !== 'object') {
    throw new ConfigErrorClass([{ source, path: '', message: 'options must be an object' }]);
  }
  const config = options.config;
  if (!config || typeof config.subscribe !== 'function') {
    issues.push({
      source,
      path: 'config',
      message: 'required: a configuration source such as istioFiles("./mesh")',
    });
  }
  if (options.random !== undefined && typeof options.random !== 'function') {
    issues.push({ source, path: 'random', message: 'must be a function returning a number in [0, 1)' });
  }
  const failureBreaker = resolveFailureBreaker(options.failureBreaker, source, issues);
  const metrics = resolveMetrics(options.metrics, source, issues);
  const tracing = resolveTracingOptions(options.tracing, source, issues);
  const accessLog = resolveAccessLogOptions(options.accessLog, source, issues);
  let workload: Workload | undefined;
  try {
    workload = resolveWorkload(options.workload ?? {}, source);
  } catch (err) {
    issues.push(...(err as ConfigError).issues);
  }
  if (issues.length > 0 || !workload) throw new ConfigErrorClass(issues);
  return Object.freeze({
    workload,
    config,
    logger: options.logger === undefined ? DEFAULT_LOGGER : options.logger,
    random: options.random ?? Math.random,
    failureBreaker,
    metrics,
    tracing,
    accessLog,
  });
}

const METRICS_KEYS = new Set(['registry', 'enabled']);

function resolveMetrics(
  value: MetricsOptions | undefined,
  source: string,
  issues: ConfigIssue[],
): { readonly registry: MetricsRegistry } | undefined {
  if (value === undefined) return undefined;
  if (!checkOptionObject(value, 'metrics', METRICS_KEYS, source, issues)) return undefined;
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') {
    issues.push({ source, path: 'metrics.enabled', message: 'must be a boolean' });
  }
  const registry = value.registry;
  if (
    registry !== undefined &&
    (registry === null ||
      typeof registry !== 'object' ||
      typeof (registry as Registry).registerMetric !== 'function' ||
      typeof (registry as Registry).metrics !== 'function')
  ) {
    issues.push({ source, path: 'metrics.registry', message: 'must be a prom-client Registry' });
  }
  if (value.enabled === false) return undefined;
  return Object.freeze({ registry: registry ?? new Registry() });
}

function resolveFailureBreaker(
  value: FailureBreakerOptions | undefined,
  source: string,
  issues: ConfigIssue[],
): ResolvedFailureBreakerOptions | undefined {
  if (value === undefined) return undefined;
  const base = 'failureBreaker';
  if (!checkOptionObject(value, base, FAILURE_BREAKER_KEYS, source, issues)) return undefined;
  let clusters: ReadonlySet<string> | undefined;
  if (value.clusters !== undefined) {
    if (!Array.isArray(value.clusters)) {
      issues.push({ source, path: `${base}.clusters`, message: 'must be an array of cluster names' });
    } else if (value.clusters.length === 0) {
      issues.push({
        source,
        path: `${base}.clusters`,
        message: 'is empty, so the breaker would apply to no cluster; omit it for every cluster',
      });
    } else {
      value.clusters.forEach((name: unknown, i) => {
        if (typeof name !== 'string' || name === '') {
          issues.push({
            source,
            path: `${base}.clusters[${i}]`,
            message: 'must be a non-empty cluster name',
          });
        }
      });
      clusters = new Set(value.clusters);
    }
  }
  const number = (
    key: keyof typeof FAILURE_BREAKER_DEFAULTS,
    valid: (n: number) => boolean,
    expected: string,
  ): number => {
    const n = value[key];
    if (n === undefined) return FAILURE_BREAKER_DEFAULTS[key];
    if (typeof n !== 'number' || !valid(n)) {
      issues.push({ source, path: `${base}.${key}`, message: `must be ${expected}, got ${String(n)}` });
    }
    return n;
  };
  const resolved = {
    clusters,
    // opossum opens when the failure rate is strictly above it, so 100 would never open.
    errorThresholdPercentage: number(
      'errorThresholdPercentage',
      (n) => Number.isFinite(n) && n >= 0 && n < 100,
      'a percentage from 0 up to (not including) 100',
    ),
    volumeThreshold: number(
      'volumeThreshold',
      (n) => Number.isSafeInteger(n) && n >= 0,
      'a whole number of requests, 0 or more',
    ),
    // Split into 10 buckets: at least 1 ms each.
    rollingCountTimeoutMs: number(
      'rollingCountTimeoutMs',
      (n) => Number.isInteger(n) && n >= 10 && n <= MAX_TIMER_MS,
      `whole milliseconds from 10 to ${MAX_TIMER_MS}`,
    ),
    resetTimeoutMs: number(
      'resetTimeoutMs',
      (n) => Number.isInteger(n) && n >= 1 && n <= MAX_TIMER_MS,
      `whole milliseconds from 1 to ${MAX_TIMER_MS}`,
    ),
  };
  return Object.freeze(resolved);
}
