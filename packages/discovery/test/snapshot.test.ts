/**
 * createSnapshot: consistency (every referenced route configuration, cluster and endpoint set
 * exists, as go-control-plane pkg/cache/v3/snapshot.go Consistent checks) and deep immutability.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  type Cluster,
  Cluster_LbPolicy,
  Cluster_MaglevLbConfigSchema,
} from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import { rejectionsOf } from '../src/decode/decode-resources.ts';
import { ConfigError } from '../src/errors.ts';
import { collectResources } from '../src/istio/collect-resources.ts';
import { parseIstioYaml } from '../src/istio/parse-istio-yaml.ts';
import { translateIstio } from '../src/istio/translate.ts';
import type { XdsResourceLists } from '../src/snapshot.ts';
import { createSnapshot } from '../src/snapshot.ts';
import { resolveWorkload } from '../src/workload.ts';
import { REVIEWS } from './fixtures/istio-helpers.ts';

function lists(): XdsResourceLists {
  const parsed = parseIstioYaml('r.yaml', REVIEWS);
  const set = collectResources(parsed.resources, []);
  return translateIstio(set, resolveWorkload()).resources;
}

function rejects(l: XdsResourceLists): ConfigError {
  try {
    createSnapshot('1', 'test', l);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'DABBA_CONFIG_INVALID');
    return err;
  }
  assert.fail('expected ConfigError');
}

const RV = 'reviews.default.svc.cluster.local';

const maglevConfig = (tableSize: bigint): Cluster['lbConfig'] => ({
  case: 'maglevLbConfig',
  value: create(Cluster_MaglevLbConfigSchema, { tableSize }),
});

describe('createSnapshot', () => {
  it('accepts a translated resource set', () => {
    const s = createSnapshot('v1', 'test', lists());
    assert.equal(s.version, 'v1');
    assert.ok(s.routes.has('9080'));
    assert.ok(s.endpoints.has(`outbound|9080|v1|${RV}`));
  });

  it('rejects a listener whose route configuration is missing', () => {
    const l = lists();
    const err = rejects({ ...l, routes: [] });
    const issue = err.issues.find((i) => i.resource?.kind === 'Listener');
    assert.deepEqual(issue?.resource, { kind: 'Listener', name: '0.0.0.0_9080' });
    assert.equal(issue?.path, 'filter_chains[0].filters[0].typed_config.rds.route_config_name');
  });

  it('rejects a route to a missing cluster', () => {
    const l = lists();
    const err = rejects({ ...l, clusters: l.clusters.filter((c) => c.name !== `outbound|9080||${RV}`) });
    assert.equal(err.issues.length, 1);
    assert.deepEqual(err.issues[0]?.resource, { kind: 'RouteConfiguration', name: '9080' });
    assert.equal(err.issues[0]?.path, 'virtual_hosts[0].routes[0].route');
    assert.match(err.issues[0]!.message, /outbound\|9080\|\|reviews/);
  });

  it('rejects an EDS cluster without endpoints', () => {
    const l = lists();
    const err = rejects({
      ...l,
      endpoints: l.endpoints.filter((e) => e.clusterName !== `outbound|9080|v2|${RV}`),
    });
    assert.equal(err.issues.length, 1);
    assert.deepEqual(err.issues[0]?.resource, { kind: 'Cluster', name: `outbound|9080|v2|${RV}` });
    assert.equal(err.issues[0]?.path, 'eds_cluster_config');
  });

  it('rejects duplicate names', () => {
    const l = lists();
    const err = rejects({ ...l, clusters: [...l.clusters, l.clusters[0]!] });
    assert.equal(err.issues[0]?.path, 'name');
  });

  it('is deeply frozen: the snapshot, its maps’ values and nested messages', () => {
    const s = createSnapshot('v1', 'test', lists());
    assert.ok(Object.isFrozen(s));
    const c = s.clusters.get(`outbound|9080||${RV}`)!;
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.circuitBreakers!.thresholds[0]));
    assert.throws(() => {
      (c as { name: string }).name = 'x';
    }, TypeError);
    const rc = s.routes.get('9080')!;
    assert.throws(() => {
      (rc.virtualHosts as unknown[]).push({});
    }, TypeError);
    const cla = s.endpoints.get(`outbound|9080||${RV}`)!;
    assert.ok(Object.isFrozen(cla.endpoints[0]!.lbEndpoints[0]));
  });

  it('regression: rejects a resource its decoder rejects, naming the resource and the field (a bad Maglev table was a RangeError inside the balancer)', () => {
    const l = lists();
    const name = `outbound|9080|v1|${RV}`;
    const clusters = l.clusters.map((c) =>
      c.name === name
        ? ({ ...c, lbPolicy: Cluster_LbPolicy.MAGLEV, lbConfig: maglevConfig(8n) } as Cluster)
        : c,
    );
    const err = rejects({ ...l, clusters });
    // Only the bad one is named: the others are accepted.
    assert.deepEqual(
      err.issues.map((i) => `${i.resource?.kind}/${i.resource?.name} ${i.path}: ${i.message}`),
      [`Cluster/${name} maglev_lb_config.table_size: The table size of maglev must be prime number`],
    );
  });

  it('carries every resource decoded, free of protobuf types, beside the messages', () => {
    const s = createSnapshot('v1', 'test', lists());
    assert.equal(s.models.clusters.size, s.clusters.size);
    assert.equal(s.models.listeners.size, s.listeners.size);
    assert.equal(s.models.endpoints.size, s.endpoints.size);
    const model = s.models.clusters.get(`outbound|9080|v1|${RV}`)!;
    assert.ok(Object.isFrozen(model));
    assert.equal('$typeName' in model, false);
    assert.equal(model.edsServiceName, `outbound|9080|v1|${RV}`);
  });

  it('groups the issues of a rejection by resource, as an xDS client NACKs them', () => {
    const l = lists();
    const bad = new Set([`outbound|9080|v1|${RV}`, `outbound|9080|v2|${RV}`]);
    const clusters = l.clusters.map((c) =>
      bad.has(c.name)
        ? ({ ...c, lbPolicy: Cluster_LbPolicy.MAGLEV, lbConfig: maglevConfig(9n) } as Cluster)
        : c,
    );
    const groups = rejectionsOf(rejects({ ...l, clusters }).issues);
    assert.deepEqual(
      groups.map((g) => [g.resource?.name, g.issues.length]),
      [...bad].map((name) => [name, 1]),
    );
  });
});
