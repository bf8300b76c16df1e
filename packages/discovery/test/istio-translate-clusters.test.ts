/**
 * Clusters and endpoints, checked against istiod's pilot/pkg/networking/core/cluster_builder.go,
 * cluster_traffic_policy.go (applyLoadBalancer, ApplyRingHashLoadBalancer, applyOutlierDetection,
 * applyConnectionPool, shouldH2Upgrade), loadbalancer/loadbalancer.go and PushContext.destinationRule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnyJson, get, REVIEWS, serviceEntry, translateYaml } from './fixtures/istio-helpers.ts';

const RV = 'reviews.default.svc.cluster.local';
const MAX = 4294967295;

function dr(spec: string, name = 'reviews', namespace = 'default'): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${spec}
---
`;
}

/** The reviews service with one DestinationRule `spec` and no other rule. */
function withRule(spec: string, workload = {}): AnyJson {
  const yaml = `${serviceEntry('reviews', RV, {
    endpoints: `
    - { address: 10.0.0.1, labels: { version: v1 } }
    - { address: 10.0.0.2, labels: { version: v2 } }`,
  })}${dr(spec)}`;
  const t = translateYaml(yaml, workload);
  assert.deepEqual(t.issues, []);
  return t;
}

const cluster = (t: AnyJson, name = `outbound|9080||${RV}`): AnyJson => get(t.clusters, name);

describe('cluster names, discovery and endpoints (cluster_builder.go)', () => {
  it('one cluster per port and subset, named outbound|port|subset|fqdn, EDS over ADS', () => {
    const t = translateYaml(REVIEWS);
    for (const subset of ['', 'v1', 'v2', 'v3']) {
      const c = cluster(t, `outbound|9080|${subset}|${RV}`);
      assert.equal(c.type, 'EDS');
      assert.equal(c.edsClusterConfig.serviceName, `outbound|9080|${subset}|${RV}`);
      assert.ok(c.edsClusterConfig.edsConfig.ads !== undefined);
      assert.equal(c.connectTimeout, '10s'); // MeshConfig connectTimeout default
    }
    assert.ok(t.clusters.has('PassthroughCluster'));
    assert.ok(t.clusters.has('BlackHoleCluster'));
  });

  it('subset clusters hold only the endpoints whose labels match the subset', () => {
    const t = translateYaml(REVIEWS);
    const addresses = (name: string) =>
      (get(t.endpoints, name) as AnyJson).endpoints.flatMap((l: AnyJson) =>
        l.lbEndpoints.map((e: AnyJson) => e.endpoint.address.socketAddress.address),
      );
    assert.deepEqual(addresses(`outbound|9080|v2|${RV}`), ['10.0.0.2']);
    assert.deepEqual(addresses(`outbound|9080||${RV}`), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('WorkloadEntry: selected by label, port by service port name, weight kept (0 -> 1)', () => {
    const yaml = `${serviceEntry('ratings', 'ratings.default.svc.cluster.local', {
      endpoints: '[]',
      extra: '  workloadSelector: { labels: { app: ratings } }',
    })}apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: r1 }
spec: { address: 10.1.0.1, ports: { http: 19090 }, labels: { app: ratings }, weight: 3 }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: r2 }
spec: { address: 10.1.0.2, labels: { app: ratings } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: other }
spec: { address: 10.9.9.9, labels: { app: other } }
`;
    const t = translateYaml(yaml);
    const cla: AnyJson = get(t.endpoints, 'outbound|9080||ratings.default.svc.cluster.local');
    const eps = cla.endpoints[0].lbEndpoints.map((e: AnyJson) => [
      e.endpoint.address.socketAddress.address,
      e.endpoint.address.socketAddress.portValue,
      e.loadBalancingWeight,
    ]);
    assert.deepEqual(eps, [
      ['10.1.0.1', 19090, 3],
      ['10.1.0.2', 9080, 1],
    ]);
    assert.equal(cla.endpoints[0].loadBalancingWeight, 4); // locality weight = sum of endpoint weights
  });

  it('DNS resolution -> STRICT_DNS with an inline load_assignment and no EDS resource', () => {
    const yaml = serviceEntry('ext', 'api.example.com', {
      resolution: 'DNS',
      endpoints: '[]',
      ports: '[{ number: 443, name: https, protocol: TLS }]',
    });
    const t = translateYaml(yaml);
    const c = cluster(t, 'outbound|443||api.example.com');
    assert.equal(c.type, 'STRICT_DNS');
    assert.equal(
      c.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address,
      'api.example.com',
    );
    assert.equal(t.endpoints.has('outbound|443||api.example.com'), false);
  });
});

describe('load balancer (applyLoadBalancer, ApplyRingHashLoadBalancer)', () => {
  it('default LEAST_REQUEST (defaultLBAlgorithm)', () => {
    // LEAST_REQUEST is not the proto zero value, so it shows in JSON.
    assert.equal(cluster(translateYaml(REVIEWS)).lbPolicy, 'LEAST_REQUEST');
  });
  const simple: [string, string | undefined][] = [
    ['ROUND_ROBIN', undefined], // ROUND_ROBIN is the zero value
    ['RANDOM', 'RANDOM'],
    ['LEAST_REQUEST', 'LEAST_REQUEST'],
    ['LEAST_CONN', 'LEAST_REQUEST'],
  ];
  for (const [istio, envoy] of simple) {
    it(`simple ${istio} -> ${envoy ?? 'ROUND_ROBIN'}`, () => {
      const t = withRule(`  host: reviews\n  trafficPolicy: { loadBalancer: { simple: ${istio} } }`);
      assert.equal(cluster(t).lbPolicy, envoy);
    });
  }
  it('consistentHash -> RING_HASH with minimum_ring_size 1024 by default', () => {
    const t = withRule(
      '  host: reviews\n  trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: x-u } } }',
    );
    assert.equal(cluster(t).lbPolicy, 'RING_HASH');
    assert.equal(cluster(t).ringHashLbConfig.minimumRingSize, '1024');
  });
  it('consistentHash.ringHash.minimumRingSize and the deprecated minimumRingSize', () => {
    const a = withRule(
      '  host: reviews\n  trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 4096 } } } }',
    );
    assert.equal(cluster(a).ringHashLbConfig.minimumRingSize, '4096');
    const b = withRule(
      '  host: reviews\n  trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, minimumRingSize: 2048 } } }',
    );
    assert.equal(cluster(b).ringHashLbConfig.minimumRingSize, '2048');
  });
  it('consistentHash.maglev -> MAGLEV with its table size', () => {
    const t = withRule(
      '  host: reviews\n  trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: c, ttl: 10s }, maglev: { tableSize: 65537 } } } }',
    );
    assert.equal(cluster(t).lbPolicy, 'MAGLEV');
    assert.equal(cluster(t).maglevLbConfig.tableSize, '65537');
  });
});

describe('DestinationRule selection (PushContext.destinationRule) and policy merging', () => {
  const svc = serviceEntry('reviews', RV);
  const rule = (name: string, ns: string, host: string, lb: string) =>
    dr(`  host: ${host}\n  trafficPolicy: { loadBalancer: { simple: ${lb} } }`, name, ns);
  const lbOf = (yaml: string, workload = {}) => cluster(translateYaml(yaml, workload)).lbPolicy;

  it('an exact host beats a wildcard in the same namespace', () => {
    assert.equal(
      lbOf(
        svc +
          rule('w', 'default', '"*.svc.cluster.local"', 'RANDOM') +
          rule('e', 'default', 'reviews', 'LEAST_REQUEST'),
      ),
      'LEAST_REQUEST',
    );
  });
  it("the proxy's namespace beats the service's namespace, even with a wildcard", () => {
    const yaml =
      svc +
      rule('svc-ns', 'default', 'reviews', 'RANDOM') +
      rule('mine', 'shop', '"*.cluster.local"', 'LEAST_REQUEST');
    assert.equal(lbOf(yaml, { namespace: 'shop' }), 'LEAST_REQUEST');
  });
  it("the service's namespace beats the root namespace istio-system", () => {
    const yaml =
      svc +
      rule('root', 'istio-system', RV, 'LEAST_REQUEST') +
      rule('svc-ns', 'default', 'reviews', 'RANDOM');
    assert.equal(lbOf(yaml, { namespace: 'shop' }), 'RANDOM');
  });
  it('the root namespace applies mesh-wide; a rule in an unrelated namespace does not apply', () => {
    assert.equal(lbOf(svc + rule('root', 'istio-system', RV, 'RANDOM'), { namespace: 'shop' }), 'RANDOM');
    assert.equal(lbOf(svc + rule('x', 'elsewhere', RV, 'RANDOM'), { namespace: 'shop' }), 'LEAST_REQUEST');
  });

  it('subset policy overrides the top level, port-level overrides its level (field by field)', () => {
    const t = withRule(`  host: reviews
  trafficPolicy:
    loadBalancer: { simple: RANDOM }
    connectionPool: { tcp: { maxConnections: 10 } }
    portLevelSettings:
      - port: { number: 9080 }
        connectionPool: { tcp: { maxConnections: 20 } }
  subsets:
    - name: v1
      labels: { version: v1 }
      trafficPolicy:
        loadBalancer: { simple: ROUND_ROBIN }
    - name: v2
      labels: { version: v2 }
      trafficPolicy:
        portLevelSettings:
          - port: { number: 9080 }
            connectionPool: { tcp: { maxConnections: 30 } }`);
    const max = (name: string) => cluster(t, name).circuitBreakers.thresholds[0].maxConnections;
    assert.equal(cluster(t).lbPolicy, 'RANDOM');
    assert.equal(max(`outbound|9080||${RV}`), 20);
    assert.equal(cluster(t, `outbound|9080|v1|${RV}`).lbPolicy, undefined); // ROUND_ROBIN
    assert.equal(max(`outbound|9080|v1|${RV}`), 20);
    assert.equal(cluster(t, `outbound|9080|v2|${RV}`).lbPolicy, 'RANDOM');
    assert.equal(max(`outbound|9080|v2|${RV}`), 30);
  });
});

describe('outlier detection (applyOutlierDetection)', () => {
  it('consecutive errors enforced 100% when > 0, success rate off, panic threshold = minHealthPercent (0)', () => {
    const t = withRule(`  host: reviews
  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 7, consecutiveGatewayErrors: 0, interval: 5s, baseEjectionTime: 1m, maxEjectionPercent: 50 }`);
    const c = cluster(t);
    assert.deepEqual(c.outlierDetection, {
      consecutive5xx: 7,
      enforcingConsecutive5xx: 100,
      consecutiveGatewayFailure: 0,
      enforcingConsecutiveGatewayFailure: 0,
      enforcingSuccessRate: 0,
      interval: '5s',
      baseEjectionTime: '60s',
      maxEjectionPercent: 50,
    });
    assert.deepEqual(c.commonLbConfig.healthyPanicThreshold, {});
  });
  it('minHealthPercent sets the panic threshold', () => {
    const t = withRule(
      '  host: reviews\n  trafficPolicy: { outlierDetection: { consecutive5xxErrors: 1, minHealthPercent: 30 } }',
    );
    assert.deepEqual(cluster(t).commonLbConfig.healthyPanicThreshold, { value: 30 });
  });
  it('no outlier detection and no panic threshold override without outlierDetection', () => {
    const c = cluster(translateYaml(REVIEWS));
    assert.equal(c.outlierDetection, undefined);
    assert.equal(c.commonLbConfig?.healthyPanicThreshold, undefined);
  });
});

describe('connection pool (applyConnectionPool, shouldH2Upgrade)', () => {
  it('default thresholds are MaxUint32 with track_remaining (getDefaultCircuitBreakerThresholds)', () => {
    assert.deepEqual(cluster(translateYaml(REVIEWS)).circuitBreakers.thresholds, [
      {
        maxConnections: MAX,
        maxPendingRequests: MAX,
        maxRequests: MAX,
        maxRetries: MAX,
        trackRemaining: true,
      },
    ]);
  });
  it('settings replace their threshold; connectTimeout replaces the mesh one', () => {
    const t = withRule(`  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: { maxConnections: 100, connectTimeout: 250ms }
      http: { http1MaxPendingRequests: 10, http2MaxRequests: 20, maxRetries: 3 }`);
    assert.deepEqual(cluster(t).circuitBreakers.thresholds, [
      { maxConnections: 100, maxPendingRequests: 10, maxRequests: 20, maxRetries: 3, trackRemaining: true },
    ]);
    assert.equal(cluster(t).connectTimeout, '0.250s');
  });
  const opts = (t: AnyJson) =>
    cluster(t).typedExtensionProtocolOptions?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  it('h2UpgradePolicy UPGRADE -> explicit HTTP/2', () => {
    const t = withRule(
      '  host: reviews\n  trafficPolicy: { connectionPool: { http: { h2UpgradePolicy: UPGRADE } } }',
    );
    assert.ok(opts(t).explicitHttpConfig.http2ProtocolOptions);
  });
  it('no upgrade by default on an HTTP port; HTTP2 and GRPC ports are HTTP/2 even with DO_NOT_UPGRADE (setUpstreamProtocol)', () => {
    assert.equal(opts(translateYaml(REVIEWS)), undefined);
    const grpc = serviceEntry('g', 'g.default.svc.cluster.local', {
      ports: '[{ number: 7070, name: grpc, protocol: GRPC }]',
    });
    const t = translateYaml(
      grpc +
        dr(
          '  host: g\n  trafficPolicy: { connectionPool: { http: { h2UpgradePolicy: DO_NOT_UPGRADE } } }',
          'g',
        ),
    );
    const c: AnyJson = get(t.clusters, 'outbound|7070||g.default.svc.cluster.local');
    assert.ok(
      c.typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']
        .explicitHttpConfig.http2ProtocolOptions,
    );
  });
  it('mesh h2UpgradePolicy UPGRADE upgrades HTTP ports but never TCP ports', () => {
    const yaml = `${REVIEWS}${serviceEntry('db', 'db.default.svc.cluster.local', { ports: '[{ number: 5432, name: tcp, protocol: TCP }]' })}`;
    const t = translateYaml(yaml, {}, { h2UpgradePolicy: 'UPGRADE' });
    assert.ok(opts(t).explicitHttpConfig.http2ProtocolOptions);
    const db: AnyJson = get(t.clusters, 'outbound|5432||db.default.svc.cluster.local');
    assert.equal(db.typedExtensionProtocolOptions, undefined);
  });
  it('useClientProtocol -> use_downstream_protocol_config', () => {
    const t = withRule(
      '  host: reviews\n  trafficPolicy: { connectionPool: { http: { useClientProtocol: true } } }',
    );
    assert.ok(opts(t).useDownstreamProtocolConfig);
  });
});

describe('locality load balancing (loadbalancer.go)', () => {
  const LOCALITIES = `
    - { address: 10.0.0.1, locality: us-east/a/1, labels: { version: v1 } }
    - { address: 10.0.0.2, locality: us-east/a/2, labels: { version: v1 } }
    - { address: 10.0.0.3, locality: us-east/b/1, labels: { version: v1 } }
    - { address: 10.0.0.4, locality: us-west/c/1, labels: { version: v1 } }
    - { address: 10.0.0.5, locality: eu-west/d/1, labels: { version: v1 } }`;
  const translate = (ruleSpec: string, workload: AnyJson = { locality: 'us-east/a/1' }) => {
    const yaml = serviceEntry('reviews', RV, { endpoints: LOCALITIES }) + (ruleSpec ? dr(ruleSpec) : '');
    const t = translateYaml(yaml, workload);
    assert.deepEqual(t.issues, []);
    const cla: AnyJson = get(t.endpoints, `outbound|9080||${RV}`);
    return {
      cluster: cluster(t),
      byAddress: Object.fromEntries(
        cla.endpoints.flatMap((l: AnyJson) =>
          l.lbEndpoints.map((e: AnyJson) => [
            e.endpoint.address.socketAddress.address,
            [l.priority ?? 0, l.loadBalancingWeight],
          ]),
        ),
      ),
    };
  };
  const priorities = (r: AnyJson) =>
    Object.fromEntries(Object.entries(r.byAddress).map(([a, v]) => [a, (v as number[])[0]]));
  const OD = '    outlierDetection: { consecutive5xxErrors: 5 }';

  it('no priorities without outlier detection (failover needs it)', () => {
    const r = translate('');
    assert.deepEqual(new Set(Object.values(priorities(r))), new Set([0]));
    assert.equal(r.cluster.commonLbConfig.localityWeightedLbConfig, undefined);
  });
  it('priorities 0-3 by region/zone/subzone with outlier detection (LbPriority)', () => {
    const r = translate(`  host: reviews\n  trafficPolicy:\n${OD}`);
    assert.deepEqual(priorities(r), {
      '10.0.0.1': 0,
      '10.0.0.2': 1,
      '10.0.0.3': 2,
      '10.0.0.4': 3,
      '10.0.0.5': 3,
    });
  });
  it('failover from/to: the named region stays at 3, the other regions drop to 4 (renumbered without gaps)', () => {
    const r = translate(`  host: reviews
  trafficPolicy:
${OD}
    loadBalancer: { localityLbSetting: { enabled: true, failover: [{ from: us-east, to: eu-west }] } }`);
    assert.deepEqual(priorities(r), {
      '10.0.0.1': 0,
      '10.0.0.2': 1,
      '10.0.0.3': 2,
      '10.0.0.4': 4,
      '10.0.0.5': 3,
    });
    assert.ok(r.cluster.commonLbConfig.localityWeightedLbConfig);
  });
  it('failoverPriority labels rank endpoints by the first differing label (applyFailoverPriorityPerLocality)', () => {
    const r = translate(
      `  host: reviews
  trafficPolicy:
${OD}
    loadBalancer: { localityLbSetting: { failoverPriority: [topology.kubernetes.io/region, topology.kubernetes.io/zone] } }`,
    );
    // same region and zone: 0; same region only: 1; other region: 2.
    assert.deepEqual(priorities(r), {
      '10.0.0.1': 0,
      '10.0.0.2': 0,
      '10.0.0.3': 1,
      '10.0.0.4': 2,
      '10.0.0.5': 2,
    });
  });
  it('failoverPriority combined with failover: priority*5 + locality priority, renumbered', () => {
    const r = translate(
      `  host: reviews
  trafficPolicy:
${OD}
    loadBalancer: { localityLbSetting: { failoverPriority: [topology.kubernetes.io/region], failover: [{ from: us-east, to: eu-west }] } }`,
    );
    // region match (0): 0*5+{0,1,2} -> 0,1,2; other regions (1): 5+3 (eu-west), 5+4 (us-west) -> 3, 4.
    assert.deepEqual(priorities(r), {
      '10.0.0.1': 0,
      '10.0.0.2': 1,
      '10.0.0.3': 2,
      '10.0.0.4': 4,
      '10.0.0.5': 3,
    });
  });
  it('failoverPriority label overrides (label=value)', () => {
    const r = translate(
      `  host: reviews
  trafficPolicy:
${OD}
    loadBalancer: { localityLbSetting: { failoverPriority: ["topology.kubernetes.io/region=eu-west"] } }`,
    );
    assert.deepEqual(priorities(r), {
      '10.0.0.1': 1,
      '10.0.0.2': 1,
      '10.0.0.3': 1,
      '10.0.0.4': 1,
      '10.0.0.5': 0,
    });
  });
  it('distribute: weights split across a wildcard, unmatched localities lose their endpoints (applyLocalityWeights)', () => {
    const r = translate(`  host: reviews
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        distribute:
          - from: us-east/a/*
            to: { "us-east/a/*": 80, "us-west/*": 20 }`);
    assert.deepEqual(r.byAddress, { '10.0.0.1': [0, 40], '10.0.0.2': [0, 40], '10.0.0.4': [0, 20] });
    assert.ok(r.cluster.commonLbConfig.localityWeightedLbConfig);
  });
  it('distribute from another locality does not apply', () => {
    const r = translate(`  host: reviews
  trafficPolicy:
    loadBalancer: { localityLbSetting: { distribute: [{ from: eu-west/*, to: { "us-west/*": 100 } }] } }`);
    assert.equal(Object.keys(r.byAddress).length, 5);
  });
  it('enabled: false turns locality LB off even with outlier detection', () => {
    const r = translate(
      `  host: reviews\n  trafficPolicy:\n${OD}\n    loadBalancer: { localityLbSetting: { enabled: false } }`,
    );
    assert.deepEqual(new Set(Object.values(priorities(r))), new Set([0]));
  });
});
