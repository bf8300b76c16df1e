/**
 * Envoy's cluster stats read at scrape time: which series exist, what they read, and that the
 * series follow the configured clusters (Envoy cluster manager statistics; Istio's stats tags).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { ConfigError } from '../../src/errors.ts';
import { type ClusterStatsView, createClusterStats } from '../../src/telemetry/cluster-stats.ts';
import { ClusterTraffic } from '../../src/telemetry/cluster-traffic.ts';

/** The parts of a cluster's runtime state the stats read. */
function cluster(name: string, extra: Record<string, unknown> = {}): ClusterStatsView {
  return {
    name,
    hosts: [
      { health: 'healthy', activeRequests: 2 },
      { health: 'unhealthy', activeRequests: 1 },
    ],
    admission: undefined,
    outlier: undefined,
    ...extra,
  } as unknown as ClusterStatsView;
}

async function values(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, name);
  const data = await metric.get();
  return Object.fromEntries(
    data.values.map((v) => [
      Object.entries(v.labels)
        .map(([k, x]) => `${k}=${x}`)
        .join(','),
      v.value,
    ]),
  );
}

test('ClusterTraffic: attempts, retries, the charged class, retry success and route timeouts', () => {
  const t = new ClusterTraffic();
  t.requestEnded(1, 200, false, false);
  t.requestEnded(3, 503, false, false);
  t.requestEnded(2, 200, true, false);
  t.requestEnded(1, 504, false, true);
  t.requestEnded(0, 503, false, false); // overflow before any attempt: charged, not sent
  t.requestEnded(1, 0, false, false); // a caller's abort: nothing charged
  assert.equal(t.rqTotal, 8);
  assert.equal(t.rqCompleted, 8);
  assert.equal(t.rqRetry, 3);
  assert.equal(t.rqRetrySuccess, 1);
  assert.equal(t.rqTimeout, 1);
  assert.deepEqual(t.rqClass, [0, 0, 2, 0, 0, 3]);
});

test('series follow the configured clusters; live gauges are read at scrape', async () => {
  const registry = new Registry();
  let clusters = [cluster('a'), cluster('b')];
  const stats = createClusterStats({ registry, clusters: () => clusters });
  stats.traffic('a').requestEnded(2, 503, false, false);

  assert.deepEqual(await values(registry, 'envoy_cluster_upstream_rq_total'), {
    'cluster_name=a': 2,
    'cluster_name=b': 0,
  });
  assert.deepEqual(await values(registry, 'envoy_cluster_upstream_rq'), {
    'cluster_name=a,response_code_class=5xx': 1,
  });
  assert.deepEqual(await values(registry, 'envoy_cluster_upstream_rq_active'), {
    'cluster_name=a': 3,
    'cluster_name=b': 3,
  });
  assert.deepEqual(await values(registry, 'envoy_cluster_membership_healthy'), {
    'cluster_name=a': 1,
    'cluster_name=b': 1,
  });
  // No request counting and no outlier detection configured: those stats are left out.
  assert.deepEqual(await values(registry, 'envoy_cluster_upstream_rq_pending_active'), {});
  assert.deepEqual(await values(registry, 'envoy_cluster_outlier_detection_ejections_active'), {});

  // A cluster leaves the configuration: its series and its counters go.
  clusters = [cluster('b')];
  assert.deepEqual(await values(registry, 'envoy_cluster_upstream_rq_total'), { 'cluster_name=b': 0 });
  clusters = [cluster('a'), cluster('b')];
  assert.equal((await values(registry, 'envoy_cluster_upstream_rq_total'))['cluster_name=a'], 0);

  stats.unregister();
  assert.equal(registry.getMetricsAsArray().length, 0);
});

test('circuit-breaker and outlier stats come from the live counters', async () => {
  const registry = new Registry();
  const counters = {
    pendingRequests: 4,
    stats: { upstream_rq_pending_overflow: 7, upstream_rq_retry_overflow: 2 },
    open: () => ({ cx_open: 0, rq_pending_open: 1, rq_open: 1, rq_retry_open: 0 }),
  };
  const detector = {
    stats: { ejectionsActive: 1, ejectionsEnforcedTotal: 5, ejectionsOverflow: 3 },
    isEjected: () => false,
  };
  createClusterStats({
    registry,
    clusters: () => [cluster('c', { admission: { counting: true, counters }, outlier: { detector } })],
  });
  const one = async (name: string) => (await values(registry, name))['cluster_name=c'];
  assert.equal(await one('envoy_cluster_upstream_rq_pending_active'), 4);
  assert.equal(await one('envoy_cluster_upstream_rq_pending_overflow'), 7);
  assert.equal(await one('envoy_cluster_upstream_rq_retry_overflow'), 2);
  assert.equal(await one('envoy_cluster_circuit_breakers_default_rq_open'), 1);
  assert.equal(await one('envoy_cluster_circuit_breakers_default_rq_pending_open'), 1);
  assert.equal(await one('envoy_cluster_circuit_breakers_default_rq_retry_open'), 0);
  assert.equal(await one('envoy_cluster_outlier_detection_ejections_active'), 1);
  assert.equal(await one('envoy_cluster_outlier_detection_ejections_enforced_total'), 5);
  assert.equal(await one('envoy_cluster_outlier_detection_ejections_overflow'), 3);
});

test('a registry that already has one of the names is a config error', () => {
  const registry = new Registry();
  createClusterStats({ registry, clusters: () => [] });
  assert.throws(
    () => createClusterStats({ registry, clusters: () => [] }),
    (err: unknown) => err instanceof ConfigError && err.code === 'DABBA_CONFIG_INVALID',
  );
});
