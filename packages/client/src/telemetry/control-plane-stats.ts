/**
 * What the mesh did with its configuration, for the same registry as the request metrics.
 * Envoy reports this per xDS type (`envoy_cluster_manager_cds_update_success`,
 * `..._update_rejected`, `envoy_listener_manager_lds_update_success`, ...), but Dabba accepts or
 * rejects whole snapshots (listeners, routes, clusters and endpoints together), so the names
 * here are Dabba's own rather than Envoy's per-type ones, which would claim a split Dabba does
 * not make. `envoy_cluster_manager_active_clusters` keeps Envoy's name: it means the same thing.
 *
 * Identity stats (seconds until the workload certificate expires) are not exported: Dabba has no
 * workload certificate yet, and a made-up value would be worse than none.
 */
import { Counter, Gauge } from 'prom-client';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import type { MetricsRegistry } from './istio-request-metrics.ts';

/** Configuration updates by result: `accepted` (a snapshot now serves) or `rejected`. */
export const DABBA_CONFIG_UPDATES_TOTAL = 'dabba_config_updates_total';
/** 1, labelled with the `version` of the serving snapshot (one series at a time). */
export const DABBA_CONFIG_SNAPSHOT_INFO = 'dabba_config_snapshot_info';
/** When the serving snapshot was applied, in seconds since the Unix epoch. */
export const DABBA_CONFIG_LAST_UPDATE_TIMESTAMP_SECONDS = 'dabba_config_last_update_timestamp_seconds';
/** Envoy's cluster_manager.active_clusters: clusters of the serving configuration. */
export const ENVOY_CLUSTER_MANAGER_ACTIVE_CLUSTERS = 'envoy_cluster_manager_active_clusters';

/** Every metric name {@link ControlPlaneStats} registers. */
export const CONTROL_PLANE_STAT_NAMES: readonly string[] = Object.freeze([
  DABBA_CONFIG_UPDATES_TOTAL,
  DABBA_CONFIG_SNAPSHOT_INFO,
  DABBA_CONFIG_LAST_UPDATE_TIMESTAMP_SECONDS,
  ENVOY_CLUSTER_MANAGER_ACTIVE_CLUSTERS,
]);

/** Options of {@link createControlPlaneStats}. */
export interface ControlPlaneStatsOptions {
  readonly registry: MetricsRegistry;
  /** How many clusters the serving configuration has, read at scrape time. */
  readonly activeClusters: () => number;
}

/** The mesh's configuration stats; the mesh calls {@link accepted} and {@link rejected}. */
export class ControlPlaneStats {
  readonly registry: MetricsRegistry;
  #accepted = 0;
  #rejected = 0;
  #version: string | undefined;
  #appliedAtMs = 0;

  /** Use {@link createControlPlaneStats}, which checks the registry first. */
  constructor(options: ControlPlaneStatsOptions) {
    this.registry = options.registry;
    const registers = [options.registry];
    const self = this;
    new Counter({
      name: DABBA_CONFIG_UPDATES_TOTAL,
      help: 'Configuration updates by result: accepted (the snapshot now serves) or rejected (the previous one keeps serving).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'accepted' }, self.#accepted);
        this.inc({ result: 'rejected' }, self.#rejected);
      },
    });
    new Gauge({
      name: DABBA_CONFIG_SNAPSHOT_INFO,
      help: 'The version of the serving configuration snapshot (value 1).',
      labelNames: ['version'],
      registers,
      collect() {
        this.reset();
        if (self.#version !== undefined) this.set({ version: self.#version }, 1);
      },
    });
    new Gauge({
      name: DABBA_CONFIG_LAST_UPDATE_TIMESTAMP_SECONDS,
      help: 'When the serving configuration snapshot was applied, in seconds since the Unix epoch.',
      registers,
      collect() {
        this.reset();
        if (self.#version !== undefined) this.set(self.#appliedAtMs / 1000);
      },
    });
    new Gauge({
      name: ENVOY_CLUSTER_MANAGER_ACTIVE_CLUSTERS,
      help: 'Number of currently active (warmed) clusters.',
      registers,
      collect() {
        this.set(options.activeClusters());
      },
    });
  }

  /** A snapshot was applied and serves now. */
  accepted(version: string, atMs: number): void {
    this.#accepted++;
    this.#version = version;
    this.#appliedAtMs = atMs;
  }

  /** A configuration was rejected; the previous snapshot (if any) keeps serving. */
  rejected(): void {
    this.#rejected++;
  }

  /** Removes these metrics from the registry (the mesh is closing). */
  unregister(): void {
    for (const name of CONTROL_PLANE_STAT_NAMES) this.registry.removeSingleMetric(name);
  }
}

/**
 * Registers the configuration stats of one mesh.
 *
 * @throws ConfigError (`DABBA_CONFIG_INVALID`) when the registry already has one of the names.
 */
export function createControlPlaneStats(options: ControlPlaneStatsOptions): ControlPlaneStats {
  const issues: ConfigIssue[] = [];
  for (const name of CONTROL_PLANE_STAT_NAMES) {
    if (options.registry.getSingleMetric(name) !== undefined) {
      issues.push({
        source: 'createControlPlaneStats',
        path: 'registry',
        message: `already has a metric named ${name}`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return new ControlPlaneStats(options);
}
