/**
 * The config dump has the shape of Envoy's admin /config_dump (envoy.admin.v3.ConfigDump), so
 * `jq` recipes and tools written for sidecars read it.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { snapshotToConfigDump } from '../src/config-dump.ts';
import { collectResources } from '../src/istio/collect-resources.ts';
import { parseIstioYaml } from '../src/istio/parse-istio-yaml.ts';
import { translateIstio } from '../src/istio/translate.ts';
import { createSnapshot } from '../src/snapshot.ts';
import { resolveWorkload } from '../src/workload.ts';
import { resourceToJson } from '../src/xds/codec.ts';

const BOOKINFO = path.join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'bookinfo');

test('a snapshot dumps as Envoy ConfigDump JSON: listeners, clusters, routes, endpoints with versions', async () => {
  const resources = [];
  for (const file of [
    'services.yaml',
    'destination-rule-all.yaml',
    'virtual-service-reviews-jason-v2-v3.yaml',
  ]) {
    resources.push(...parseIstioYaml(file, await readFile(path.join(BOOKINFO, file), 'utf8')).resources);
  }
  const issues: never[] = [];
  const result = translateIstio(collectResources(resources, issues), resolveWorkload({}));
  const snapshot = createSnapshot('7-abc', 'test', result.resources);
  const dump = resourceToJson(snapshotToConfigDump(snapshot, new Date('2026-01-01T00:00:00Z')), {
    useProtoFieldName: true,
  }) as {
    configs: Record<string, unknown>[];
  };
  assert.deepEqual(
    dump.configs.map((c) => c['@type']),
    [
      'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
      'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
      'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
      'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
    ],
  );
  const [listeners, clusters, routes, endpoints] = dump.configs as [
    {
      dynamic_listeners: {
        name: string;
        active_state: { version_info: string; listener: { '@type': string } };
      }[];
    },
    { dynamic_active_clusters: { version_info: string; cluster: { name: string } }[] },
    { dynamic_route_configs: { route_config: { name: string; virtual_hosts: unknown[] } }[] },
    { dynamic_endpoint_configs: { endpoint_config: { cluster_name: string } }[] },
  ];
  assert.deepEqual(
    listeners.dynamic_listeners.map((l) => l.name),
    ['0.0.0.0_9080'],
  );
  assert.equal(listeners.dynamic_listeners[0]?.active_state.version_info, '7-abc');
  assert.equal(
    listeners.dynamic_listeners[0]?.active_state.listener['@type'],
    'type.googleapis.com/envoy.config.listener.v3.Listener',
  );
  assert.ok(
    clusters.dynamic_active_clusters.some(
      (c) => c.cluster.name === 'outbound|9080|v2|reviews.default.svc.cluster.local',
    ),
  );
  assert.ok(clusters.dynamic_active_clusters.every((c) => c.version_info === '7-abc'));
  assert.deepEqual(
    routes.dynamic_route_configs.map((r) => r.route_config.name),
    ['9080'],
  );
  assert.ok(
    endpoints.dynamic_endpoint_configs.some(
      (e) => e.endpoint_config.cluster_name === 'outbound|9080||reviews.default.svc.cluster.local',
    ),
  );
});
