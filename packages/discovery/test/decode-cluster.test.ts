/**
 * The Cluster and ClusterLoadAssignment decoders: every problem of a resource at once, with its
 * field path (what an xDS client NACKs with), and a frozen model with no protobuf types in it.
 * The bounds are the proto's validation rules (cluster.proto, endpoint.proto,
 * endpoint_components.proto, percent.proto) and the checks Envoy's ClusterInfoImpl, ring hash
 * and Maglev load balancers make when a cluster loads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import type { Cluster } from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import { decodeCluster } from '../src/decode/cluster.ts';
import { decodeClusterLoadAssignment } from '../src/decode/cluster-load-assignment.ts';
import type { Decoded } from '../src/decode/decoded.ts';
import { resourceFromJson } from '../src/xds/codec.ts';
import { XdsTypeUrl } from '../src/xds/type-urls.ts';

const cluster = (json: JsonValue) =>
  decodeCluster(resourceFromJson(XdsTypeUrl.CLUSTER, json) as Cluster, 'xds');
const assignment = (json: JsonValue) =>
  decodeClusterLoadAssignment(fromJson(ClusterLoadAssignmentSchema, json), 'xds');

function issuesOf<T>(decoded: Decoded<T>): string[] {
  assert.equal(decoded.ok, false, 'expected issues');
  return decoded.ok ? [] : decoded.issues.map((i) => `${i.path}: ${i.message}`);
}

function modelOf<T>(decoded: Decoded<T>): T {
  if (!decoded.ok) assert.fail(decoded.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return decoded.value;
}

/** Fails when a protobuf message, or anything not frozen, is left in the model. */
function assertPlainAndFrozen(value: unknown, at = 'model'): void {
  if (typeof value !== 'object' || value === null) return;
  assert.ok(Object.isFrozen(value), `${at} is frozen`);
  assert.ok(!('$typeName' in value), `${at} is not a protobuf message`);
  for (const [k, v] of Object.entries(value)) assertPlainAndFrozen(v, `${at}.${k}`);
}

describe('decodeCluster', () => {
  it('reports every problem of a cluster at once, each with its field path', () => {
    const bad = {
      name: 'c',
      type: 'EDS',
      lbPolicy: 'RING_HASH',
      ringHashLbConfig: { minimumRingSize: '9000000', maximumRingSize: '2048' },
      connectTimeout: '0s',
      commonLbConfig: { healthyPanicThreshold: { value: 150 } },
      circuitBreakers: { thresholds: [{ priority: 'HIGH', retryBudget: { budgetPercent: { value: 120 } } }] },
      outlierDetection: { maxEjectionPercent: 101 },
      loadAssignment: {
        clusterName: 'c',
        endpoints: [{ lbEndpoints: [{ endpoint: { address: { pipe: { path: '/tmp/s' } } } }] }],
      },
    };
    assert.deepEqual(issuesOf(cluster(bad)).sort(), [
      'circuit_breakers.thresholds[0].retry_budget.budget_percent.value: must be within 0 and 100, got 120',
      'common_lb_config.healthy_panic_threshold.value: must be within 0 and 100, got 150',
      'connect_timeout: must be greater than 0s',
      'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.pipe: a pipe address is not supported by Dabba',
      'outlier_detection.max_ejection_percent: must be at most 100, got 101',
      'ring_hash_lb_config.minimum_ring_size: must be at most 8388608, got 9000000',
      'ring_hash_lb_config: ring hash: minimum_ring_size (9000000) > maximum_ring_size (2048)',
    ]);
  });

  it('checks each load-balancing policy as Envoy does (LEAST_REQUEST choice_count, MAGLEV prime table)', () => {
    assert.deepEqual(
      issuesOf(cluster({ name: 'c', lbPolicy: 'LEAST_REQUEST', leastRequestLbConfig: { choiceCount: 1 } })),
      ['least_request_lb_config.choice_count: must be at least 2, got 1'],
    );
    assert.deepEqual(
      issuesOf(cluster({ name: 'c', lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: '8' } })),
      ['maglev_lb_config.table_size: The table size of maglev must be prime number'],
    );
    assert.deepEqual(
      issuesOf(cluster({ name: 'c', lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: '5000017' } })),
      ['maglev_lb_config.table_size: must be at most 5000011, got 5000017'],
    );
    assert.deepEqual(
      modelOf(cluster({ name: 'c', lbPolicy: 'MAGLEV', maglevLbConfig: { tableSize: '65537' } })).lbPolicy,
      {
        type: 'MAGLEV',
        tableSize: 65537,
      },
    );
  });

  it('refuses what would be silently mis-served: CLUSTER_PROVIDED off ORIGINAL_DST, ORIGINAL_DST without it, typed LB policies, custom cluster types', () => {
    assert.deepEqual(issuesOf(cluster({ name: 'c', type: 'EDS', lbPolicy: 'CLUSTER_PROVIDED' })), [
      'lb_policy: CLUSTER_PROVIDED is only valid for cluster type ORIGINAL_DST, not EDS',
    ]);
    assert.deepEqual(issuesOf(cluster({ name: 'c', type: 'ORIGINAL_DST', lbPolicy: 'ROUND_ROBIN' })), [
      'lb_policy: LB policy ROUND_ROBIN is not valid for cluster type ORIGINAL_DST; only CLUSTER_PROVIDED is allowed',
    ]);
    assert.deepEqual(
      issuesOf(
        cluster({
          name: 'c',
          loadBalancingPolicy: { policies: [] },
        }),
      ),
      ['load_balancing_policy: typed load balancing policies are not supported by Dabba'],
    );
    assert.deepEqual(issuesOf(cluster({ name: 'c', clusterType: { name: 'envoy.clusters.aggregate' } })), [
      'cluster_type: custom cluster type "envoy.clusters.aggregate" is not supported by Dabba',
    ]);
  });

  it('refuses a subject alt name regex that is not RE2, naming the field', () => {
    const tls = (regex: string) => ({
      name: 'c',
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          commonTlsContext: {
            validationContext: {
              trustedCa: { filename: '/ca.pem' },
              matchSubjectAltNames: [{ safeRegex: { regex } }],
            },
          },
        },
      },
    });
    const issues = issuesOf(cluster(tls('spiffe://(a')));
    assert.equal(issues.length, 1);
    assert.match(
      issues[0]!,
      /^transportSocket\.typedConfig\.commonTlsContext\.validationContext\.matchSubjectAltNames\[0\]\.safeRegex\.regex: invalid RE2 regex/,
    );
    assert.ok(modelOf(cluster(tls('spiffe://cluster\\.local/ns/[a-z]+/sa/api'))));
  });

  it('gives a frozen model with Envoy defaults and no protobuf types', () => {
    const model = modelOf(
      cluster({
        name: 'outbound|9080||reviews.default.svc.cluster.local',
        type: 'EDS',
        edsClusterConfig: { serviceName: 'reviews' },
        connectTimeout: '0.0015s',
        outlierDetection: {},
        metadata: {
          filterMetadata: {
            istio: {
              services: [
                { host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' },
              ],
            },
          },
        },
      }),
    );
    assertPlainAndFrozen(model);
    assert.equal(model.edsServiceName, 'reviews');
    assert.equal(model.connectTimeoutMs, 1, "Envoy's truncation to whole milliseconds");
    assert.equal(model.panicThresholdPercent, 50);
    assert.deepEqual(model.lbPolicy, { type: 'ROUND_ROBIN' });
    assert.equal(model.circuitBreakers.default.maxRequests, 1024);
    assert.equal(model.outlierDetection?.consecutive5xx, 5);
    assert.deepEqual(model.istioServices, [
      { host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' },
    ]);
    assert.equal(modelOf(cluster({ name: 'c' })).connectTimeoutMs, 5000);
  });
});

describe('decodeClusterLoadAssignment', () => {
  it('reports every endpoint Dabba cannot reach and every bound broken, with paths', () => {
    assert.deepEqual(
      issuesOf(
        assignment({
          clusterName: 'c',
          policy: { overprovisioningFactor: 0 },
          endpoints: [
            {
              priority: 129,
              loadBalancingWeight: 0,
              lbEndpoints: [
                { endpoint: { address: { socketAddress: { address: '10.0.0.1', namedPort: 'http' } } } },
                {
                  endpoint: { address: { socketAddress: { address: '10.0.0.2', portValue: 80 } } },
                  loadBalancingWeight: 0,
                },
                { endpointName: 'named' },
              ],
            },
          ],
        }),
      ).sort(),
      [
        'endpoints[0].lb_endpoints[0].endpoint.address.socket_address.named_port: named ports are not supported by Dabba',
        'endpoints[0].lb_endpoints[1].load_balancing_weight: must be at least 1, got 0',
        'endpoints[0].lb_endpoints[2].endpoint_name: named endpoints are not supported by Dabba',
        'endpoints[0].load_balancing_weight: must be at least 1, got 0',
        'endpoints[0].priority: must be at most 128, got 129',
        'policy.overprovisioning_factor: must be greater than 0, got 0',
      ],
    );
    assert.deepEqual(issuesOf(assignment({ clusterName: '' })), ['cluster_name: a cluster name is required']);
  });

  it('folds health as Envoy does, keeps labels and transport match metadata, and is frozen', () => {
    const ep = (address: string, healthStatus: string) => ({
      endpoint: { address: { socketAddress: { address, portValue: 8080 } } },
      healthStatus,
      metadata: {
        filterMetadata: {
          dabba: { labels: { app: 'reviews', version: 'v1' } },
          'envoy.transport_socket_match': { tlsMode: 'istio' },
        },
      },
    });
    const model = modelOf(
      assignment({
        clusterName: 'reviews',
        endpoints: [
          {
            locality: { region: 'r', zone: 'z' },
            priority: 1,
            lbEndpoints: ['UNKNOWN', 'HEALTHY', 'DEGRADED', 'UNHEALTHY', 'DRAINING', 'TIMEOUT'].map((h, i) =>
              ep(`10.0.0.${i + 1}`, h),
            ),
          },
        ],
      }),
    );
    assertPlainAndFrozen(model);
    assert.equal(model.overprovisioningFactor, 140);
    const [group] = model.localities;
    assert.deepEqual(group!.locality, { region: 'r', zone: 'z', subZone: '' });
    assert.equal(group!.priority, 1);
    assert.deepEqual(
      group!.endpoints.map((e) => e.health),
      ['healthy', 'healthy', 'degraded', 'unhealthy', 'unhealthy', 'unhealthy'],
    );
    assert.deepEqual(group!.endpoints[0]!.labels, { app: 'reviews', version: 'v1' });
    assert.deepEqual(group!.endpoints[0]!.transportSocketMatch, { tlsMode: 'istio' });
    assert.equal(group!.endpoints[0]!.weight, 1);
  });
});
