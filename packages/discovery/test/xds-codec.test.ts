import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { create, equals, isMessage, type JsonObject } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import {
  type Cluster,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
} from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '#xds/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '#xds/envoy/config/route/v3/route_pb.js';
import { RouterSchema } from '#xds/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpConnectionManagerSchema } from '#xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { HttpProtocolOptionsSchema } from '#xds/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { DiscoveryResponseSchema } from '#xds/envoy/service/discovery/v3/discovery_pb.js';
import { DabbaError, XdsDecodeError } from '../src/errors.ts';
import {
  decodeAny,
  encodeAny,
  resourceFromBinary,
  resourceFromJson,
  resourceToBinary,
  resourceToJson,
} from '../src/xds/codec.ts';
import { xdsFiles, xdsRegistry } from '../src/xds/registry.ts';
import { typeNameOf, XdsTypeUrl } from '../src/xds/type-urls.ts';

function isDecodeError(err: unknown): boolean {
  assert.ok(err instanceof XdsDecodeError, `expected XdsDecodeError, got ${String(err)}`);
  assert.ok(err instanceof DabbaError);
  assert.equal(err.code, 'DABBA_XDS_DECODE');
  return true;
}

function sampleCluster(): Cluster {
  return create(ClusterSchema, {
    name: 'outbound|8080||reviews.default.svc.cluster.local',
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    connectTimeout: create(DurationSchema, { seconds: 10n, nanos: 250_000_000 }),
    lbPolicy: Cluster_LbPolicy.LEAST_REQUEST,
    perConnectionBufferLimitBytes: 32768,
    metadata: {
      filterMetadata: {
        istio: { services: [{ host: 'reviews.default.svc.cluster.local', namespace: 'default' }] },
      },
    },
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': encodeAny(
        create(HttpProtocolOptionsSchema, {
          commonHttpProtocolOptions: { maxRequestsPerConnection: 100 },
          upstreamProtocolOptions: { case: 'useDownstreamProtocolConfig', value: {} },
        }),
      ),
    },
  });
}

describe('xDS codec', () => {
  it('round-trips a Cluster through binary', () => {
    const cluster = sampleCluster();
    const bytes = resourceToBinary(cluster);
    assert.ok(bytes.length > 0);
    const back = resourceFromBinary(XdsTypeUrl.CLUSTER, bytes);
    assert.ok(equals(ClusterSchema, cluster, back));
    assert.equal(back.clusterDiscoveryType.case, 'type');
    assert.equal(back.clusterDiscoveryType.value, Cluster_DiscoveryType.EDS);
    assert.equal(back.perConnectionBufferLimitBytes, 32768);
  });

  it('round-trips a Cluster through proto3 JSON, with Any expanded and Duration as a string', () => {
    const cluster = sampleCluster();
    const json = resourceToJson(cluster) as JsonObject;
    assert.equal(json.connectTimeout, '10.250s');
    assert.equal(json.type, 'EDS');
    assert.equal(json.lbPolicy, 'LEAST_REQUEST');
    assert.equal(json.perConnectionBufferLimitBytes, 32768);
    const options = json.typedExtensionProtocolOptions as JsonObject;
    const http = options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] as JsonObject;
    assert.equal(http['@type'], XdsTypeUrl.HTTP_PROTOCOL_OPTIONS);
    assert.deepEqual(http.commonHttpProtocolOptions, { maxRequestsPerConnection: 100 });

    // Through text, as a file or an HTTP body would carry it.
    const back = resourceFromJson(XdsTypeUrl.CLUSTER, JSON.parse(JSON.stringify(json)));
    assert.ok(equals(ClusterSchema, cluster, back));
    assert.deepEqual(
      resourceToJson(back, { useProtoFieldName: true }),
      resourceToJson(cluster, { useProtoFieldName: true }),
    );
  });

  it('reads connect_timeout and connectTimeout "1.5s" as 1 s 500000000 ns', () => {
    for (const key of ['connect_timeout', 'connectTimeout']) {
      const cluster = resourceFromJson(XdsTypeUrl.CLUSTER, { name: 'c', [key]: '1.5s' });
      assert.ok(cluster.connectTimeout, key);
      assert.equal(cluster.connectTimeout.seconds, 1n);
      assert.equal(cluster.connectTimeout.nanos, 500_000_000);
    }
  });

  it('decodes the Any resources of a JSON DiscoveryResponse into typed messages', () => {
    const response = resourceFromJson(XdsTypeUrl.DISCOVERY_RESPONSE, {
      version_info: '7',
      type_url: XdsTypeUrl.CLUSTER,
      nonce: 'n1',
      resources: [
        {
          '@type': XdsTypeUrl.CLUSTER,
          name: 'reviews',
          type: 'EDS',
          eds_cluster_config: { eds_config: { ads: {} } },
          connect_timeout: '1.5s',
        },
        {
          '@type': XdsTypeUrl.CLUSTER_LOAD_ASSIGNMENT,
          cluster_name: 'reviews',
          endpoints: [
            {
              locality: { region: 'eu-west-1', zone: 'eu-west-1a' },
              load_balancing_weight: 3,
              lb_endpoints: [
                { endpoint: { address: { socket_address: { address: '10.0.0.7', port_value: 9080 } } } },
              ],
            },
          ],
        },
      ],
    });
    assert.ok(isMessage(response, DiscoveryResponseSchema));
    assert.equal(response.versionInfo, '7');
    assert.equal(response.resources.length, 2);

    const [first, second] = response.resources.map((any) => decodeAny(any));
    assert.ok(isMessage(first, ClusterSchema));
    assert.equal(first.name, 'reviews');
    assert.equal(first.clusterDiscoveryType.case, 'type');
    assert.equal(first.clusterDiscoveryType.value, Cluster_DiscoveryType.EDS);
    assert.equal(first.edsClusterConfig?.edsConfig?.configSourceSpecifier.case, 'ads');
    assert.equal(first.connectTimeout?.nanos, 500_000_000);

    assert.ok(isMessage(second, ClusterLoadAssignmentSchema));
    assert.equal(second.clusterName, 'reviews');
    const locality = second.endpoints[0];
    assert.equal(locality?.locality?.zone, 'eu-west-1a');
    assert.equal(locality?.loadBalancingWeight, 3);
    const address = locality?.lbEndpoints[0]?.hostIdentifier;
    assert.equal(address?.case, 'endpoint');
    const socket = address?.value.address?.address;
    assert.equal(socket?.case, 'socketAddress');
    assert.equal(socket?.value.address, '10.0.0.7');
    assert.deepEqual(socket?.value.portSpecifier, { case: 'portValue', value: 9080 });

    // With the expected schema, the result is typed without a guard.
    const cluster = decodeAny(response.resources[0]!, ClusterSchema);
    assert.equal(cluster.name, 'reviews');
    assert.throws(() => decodeAny(response.resources[1]!, ClusterSchema), isDecodeError);
  });

  it('decodes an HttpConnectionManager inside a Listener filter typed_config', () => {
    const listener = resourceFromJson(XdsTypeUrl.LISTENER, {
      name: '0.0.0.0_9080',
      address: { socket_address: { address: '0.0.0.0', port_value: 9080 } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': XdsTypeUrl.HTTP_CONNECTION_MANAGER,
                stat_prefix: 'outbound_0.0.0.0_9080',
                rds: { route_config_name: '9080', config_source: { ads: {}, resource_api_version: 'V3' } },
                http_filters: [
                  { name: 'envoy.filters.http.router', typed_config: { '@type': XdsTypeUrl.ROUTER } },
                ],
                stream_idle_timeout: '0s',
              },
            },
          ],
        },
      ],
    });
    assert.ok(isMessage(listener, ListenerSchema));
    const filter = listener.filterChains[0]?.filters[0];
    assert.equal(filter?.configType.case, 'typedConfig');
    const hcm = decodeAny(filter.configType.value, HttpConnectionManagerSchema);
    assert.equal(hcm.statPrefix, 'outbound_0.0.0.0_9080');
    assert.equal(hcm.routeSpecifier.case, 'rds');
    assert.equal(hcm.routeSpecifier.value.routeConfigName, '9080');
    assert.equal(hcm.streamIdleTimeout?.seconds, 0n);
    const router = hcm.httpFilters[0]?.configType;
    assert.equal(router?.case, 'typedConfig');
    assert.ok(isMessage(decodeAny(router.value), RouterSchema));

    // And back: the nested Any comes out expanded with its @type.
    const json = resourceToJson(listener) as JsonObject;
    const chains = json.filterChains as JsonObject[];
    const filters = chains[0]?.filters as JsonObject[];
    const typedConfig = filters[0]?.typedConfig as JsonObject;
    assert.equal(typedConfig['@type'], XdsTypeUrl.HTTP_CONNECTION_MANAGER);
    assert.equal(typedConfig.statPrefix, 'outbound_0.0.0.0_9080');
  });

  it('decodes a RouteConfiguration with a safe_regex route', () => {
    const config = resourceFromJson(XdsTypeUrl.ROUTE_CONFIGURATION, {
      name: '9080',
      virtual_hosts: [
        {
          name: 'reviews.default.svc.cluster.local:9080',
          domains: ['reviews.default.svc.cluster.local', 'reviews'],
          routes: [
            {
              match: { safe_regex: { regex: '^/api/v[0-9]+/.*' }, case_sensitive: false },
              route: {
                weighted_clusters: {
                  clusters: [
                    { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 90 },
                    { name: 'outbound|9080|v2|reviews.default.svc.cluster.local', weight: 10 },
                  ],
                },
                timeout: '0.250s',
                retry_policy: { retry_on: 'connect-failure,refused-stream', num_retries: 2 },
              },
            },
          ],
        },
      ],
    });
    assert.ok(isMessage(config, RouteConfigurationSchema));
    const route = config.virtualHosts[0]?.routes[0];
    assert.equal(route?.match?.pathSpecifier.case, 'safeRegex');
    assert.equal(route.match.pathSpecifier.value.regex, '^/api/v[0-9]+/.*');
    assert.equal(route.match.caseSensitive, false);
    assert.equal(route.action.case, 'route');
    const action = route.action.value;
    assert.equal(action.clusterSpecifier.case, 'weightedClusters');
    assert.deepEqual(
      action.clusterSpecifier.value.clusters.map((c) => [c.name, c.weight]),
      [
        ['outbound|9080|v1|reviews.default.svc.cluster.local', 90],
        ['outbound|9080|v2|reviews.default.svc.cluster.local', 10],
      ],
    );
    assert.equal(action.timeout?.nanos, 250_000_000);
    assert.equal(action.retryPolicy?.numRetries, 2);
  });

  it('fails with XdsDecodeError on an unknown @type', () => {
    const unknown = 'type.googleapis.com/envoy.config.cluster.v3.NoSuchThing';
    assert.throws(
      () =>
        resourceFromJson(XdsTypeUrl.DISCOVERY_RESPONSE, {
          type_url: XdsTypeUrl.CLUSTER,
          resources: [{ '@type': unknown, name: 'x' }],
        }),
      isDecodeError,
    );
    assert.throws(
      () => resourceFromJson(unknown, {}),
      (err) => isDecodeError(err) && (err as XdsDecodeError).typeUrl === unknown,
    );
    assert.throws(
      () => decodeAny({ $typeName: 'google.protobuf.Any', typeUrl: unknown, value: new Uint8Array() }),
      isDecodeError,
    );
    assert.throws(() => resourceFromBinary(unknown, new Uint8Array()), isDecodeError);
  });

  it('fails with XdsDecodeError on malformed input', () => {
    assert.throws(
      () => resourceFromJson(XdsTypeUrl.CLUSTER, { name: 'c', connect_timeout: 'soon' }),
      isDecodeError,
    );
    assert.throws(() => resourceFromJson(XdsTypeUrl.CLUSTER, { name: 'c', no_such_field: 1 }), isDecodeError);
    assert.equal(
      resourceFromJson(XdsTypeUrl.CLUSTER, { name: 'c', no_such_field: 1 }, { ignoreUnknownFields: true })
        .name,
      'c',
    );
    assert.throws(
      () => resourceFromJson(XdsTypeUrl.CLUSTER, { '@type': XdsTypeUrl.LISTENER, name: 'c' }),
      isDecodeError,
    );
    // Field 1 (name) as a length-delimited string whose length runs past the end.
    assert.throws(
      () => resourceFromBinary(XdsTypeUrl.CLUSTER, new Uint8Array([0x0a, 0x20, 0x61])),
      isDecodeError,
    );
  });
});

describe('xDS registry and type URLs', () => {
  it('holds every generated file', () => {
    const generated: string[] = JSON.parse(
      readFileSync(new URL('../gen/.files.json', import.meta.url), 'utf8'),
    );
    const protoNames = new Set(
      generated.filter((f) => f.endsWith('_pb.js')).map((f) => f.slice(0, -'_pb.js'.length)),
    );
    const registered = new Set(xdsFiles.map((f) => f.name));
    assert.ok(protoNames.size > 50);
    for (const name of protoNames) assert.ok(registered.has(name), `${name} is missing from the registry`);
    assert.ok(registered.has('google/protobuf/duration'));
  });

  it('resolves every XdsTypeUrl to a message of that name', () => {
    for (const [key, url] of Object.entries(XdsTypeUrl)) {
      assert.ok(url.startsWith('type.googleapis.com/'), key);
      assert.equal(xdsRegistry.getMessage(typeNameOf(url))?.typeName, typeNameOf(url), key);
    }
  });
});
