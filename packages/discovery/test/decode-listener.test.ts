/**
 * The Listener decoder: the port, each HTTP filter chain's route source and its settings before
 * routing, with Envoy's defaults (60 KiB of headers, 100 headers, no normalization) and the
 * proto's bounds (http_connection_manager.proto max_request_headers_kb, protocol.proto
 * max_headers_count); what Dabba cannot do (scoped routes) is an issue with its path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonValue } from '@bufbuild/protobuf';
import { decodeListener } from '../src/decode/listener.ts';
import { resourceFromJson } from '../src/xds/codec.ts';
import { XdsTypeUrl } from '../src/xds/type-urls.ts';

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

const listener = (chains: JsonValue[]) =>
  decodeListener(
    resourceFromJson(XdsTypeUrl.LISTENER, {
      name: '0.0.0.0_9080',
      address: { socket_address: { address: '0.0.0.0', port_value: 9080 } },
      filter_chains: chains,
    }) as never,
    'xds',
  );

const hcmChain = (config: Record<string, JsonValue>) => ({
  filters: [
    {
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: { '@type': HCM, stat_prefix: 'p', ...config },
    },
  ],
});

describe('decodeListener', () => {
  it("gives the port, the RDS name and Envoy's defaults; a TCP chain is not the HTTP data plane's", () => {
    const decoded = listener([
      { filters: [{ name: 'envoy.filters.network.tcp_proxy' }] },
      hcmChain({ rds: { route_config_name: '9080', config_source: { ads: {} } } }),
    ]);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.port, 9080);
    assert.equal(decoded.value.http.length, 1);
    assert.deepEqual(decoded.value.http[0], {
      routes: { kind: 'rds', name: '9080' },
      settings: {
        pathNormalization: { normalizePath: false, mergeSlashes: false, escapedSlashes: 'KEEP_UNCHANGED' },
        maxRequestHeadersBytes: 60 * 1024,
        maxHeadersCount: 100,
      },
    });
    assert.ok(Object.isFrozen(decoded.value.http[0]!.settings.pathNormalization));
  });

  it('reads the path settings Istio writes for pathNormalization', () => {
    const decoded = listener([
      hcmChain({
        rds: { route_config_name: '9080', config_source: { ads: {} } },
        normalize_path: true,
        merge_slashes: true,
        path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT',
        max_request_headers_kb: 96,
        common_http_protocol_options: { max_headers_count: 200 },
      }),
    ]);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value.http[0]!.settings, {
      pathNormalization: { normalizePath: true, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_REDIRECT' },
      maxRequestHeadersBytes: 96 * 1024,
      maxHeadersCount: 200,
    });
  });

  it('reports every problem with its path: header limits out of bounds, scoped routes', () => {
    const decoded = listener([
      hcmChain({
        rds: { route_config_name: '9080', config_source: { ads: {} } },
        max_request_headers_kb: 9000,
        common_http_protocol_options: { max_headers_count: 0 },
      }),
      hcmChain({ scoped_routes: { name: 's' } }),
    ]);
    assert.equal(decoded.ok, false);
    assert.deepEqual(
      decoded.ok ? [] : decoded.issues.map((i) => `${i.resource?.name} ${i.path}: ${i.message}`),
      [
        '0.0.0.0_9080 filter_chains[0].filters[0].typed_config.max_request_headers_kb: must be within 1 and 8192, got 9000',
        '0.0.0.0_9080 filter_chains[0].filters[0].typed_config.common_http_protocol_options.max_headers_count: must be at least 1, got 0',
        '0.0.0.0_9080 filter_chains[1].filters[0].typed_config.scoped_routes: scoped routes are not supported by Dabba',
      ],
    );
  });

  it('decodes an inline route configuration through the RouteConfiguration decoder, its issues under route_config', () => {
    const good = listener([
      hcmChain({
        route_config: {
          virtual_hosts: [
            { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] },
          ],
        },
      }),
    ]);
    assert.ok(good.ok);
    const routes = good.value.http[0]!.routes;
    assert.equal(routes.kind, 'inline');
    assert.equal(routes.name, '0.0.0.0_9080', 'named after the listener when it has no name');
    assert.equal(
      routes.kind === 'inline' ? routes.config.virtualHosts[0]!.routes[0]!.action.kind : '',
      'route',
    );
    const bad = listener([
      hcmChain({
        route_config: {
          virtual_hosts: [
            {
              name: 'all',
              domains: ['*'],
              routes: [{ match: { safe_regex: { regex: '(a' } }, route: { cluster: 'c' } }],
            },
          ],
        },
      }),
    ]);
    assert.equal(bad.ok, false);
    assert.match(
      bad.ok ? '' : bad.issues[0]!.path,
      /^filter_chains\[0\]\.filters\[0\]\.typed_config\.route_config\.virtualHosts\[0\]\.routes\[0\]\.match\.safeRegex/,
    );
  });
});
