/**
 * The RouteConfiguration decoder: every problem of a resource reported at once with its field
 * path (what an xDS client NACKs with), and for a valid resource a frozen model with no protobuf
 * types left in it, durations in whole milliseconds and the fault filter's per-route config
 * decoded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { type RouteConfiguration, RouteConfigurationSchema } from '#xds/envoy/config/route/v3/route_pb.js';
import {
  decodeRouteConfiguration,
  decodeRouteConfigurationSteps,
} from '../src/decode/route-configuration.ts';
import type { RouteConfigurationModel } from '../src/model/route-configuration.ts';
import { xdsRegistry } from '../src/xds/registry.ts';

const FAULT = 'envoy.filters.http.fault';
const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const PREVIOUS_PRIORITIES_TYPE =
  'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';

/** A RouteConfiguration from Envoy's proto3 JSON, as Envoy's docs write them. */
function config(json: JsonValue): RouteConfiguration {
  return fromJson(RouteConfigurationSchema, json, { registry: xdsRegistry });
}

function decoded(json: JsonValue): RouteConfigurationModel {
  const result = decodeRouteConfiguration(config(json), 'test.yaml');
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues, null, 2));
  return result.value;
}

function oneRoute(route: Record<string, JsonValue>, vhost: Record<string, JsonValue> = {}): JsonValue {
  return {
    name: 'rc',
    virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, ...route }], ...vhost }],
  };
}

describe('decodeRouteConfiguration: issues', () => {
  it('reports every problem of the resource with its path, several in one route included', () => {
    const result = decodeRouteConfiguration(
      config({
        name: 'rc',
        ignorePathParametersInPathMatching: true,
        requestHeadersToRemove: [':path'],
        virtualHosts: [
          {
            name: 'a',
            domains: ['a.example', 'b.example'],
            routes: [
              {
                match: { safeRegex: { regex: '/api/(' }, headers: [{ name: '', presentMatch: true }] },
                route: {
                  cluster: 'c',
                  regexRewrite: { pattern: { regex: '(?<=x)' }, substitution: 'y\\z' },
                  retryPolicy: { retryBackOff: { baseInterval: '2s', maxInterval: '1s' } },
                },
                requestHeadersToAdd: [{ header: { key: 'host', value: 'x' } }],
              },
              {
                match: { prefix: '/w' },
                route: { weightedClusters: { clusters: [{ name: 'w', weight: 0 }] } },
              },
              { match: { prefix: '/d' }, directResponse: { status: 99 } },
            ],
          },
          { name: 'b', domains: ['B.example'], matcher: {}, routes: [] },
        ],
      }),
      'test.yaml',
    );
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((i) => [i.path, i.message.replace(/: .*$/, '')]),
      [
        ['ignorePathParametersInPathMatching', 'not supported by Dabba'],
        ['requestHeadersToRemove[0]', ':-prefixed or host headers may not be removed'],
        ['virtualHosts[0].routes[0].match.safeRegex.regex', 'invalid RE2 regex'],
        ['virtualHosts[0].routes[0].match.headers[0].name', 'header name is required'],
        ['virtualHosts[0].routes[0].route.regexRewrite.pattern.regex', 'invalid RE2 regex'],
        ['virtualHosts[0].routes[0].route.regexRewrite.substitution', 'invalid rewrite pattern at offset 1'],
        [
          'virtualHosts[0].routes[0].route.retryPolicy.retryBackOff.maxInterval',
          'must be greater than or equal to the base_interval',
        ],
        [
          'virtualHosts[0].routes[0].requestHeadersToAdd[0].header.key',
          ':-prefixed or host headers may not be modified',
        ],
        [
          'virtualHosts[0].routes[1].route.weightedClusters.clusters',
          'Sum of weights in the weighted_cluster must be greater than 0.',
        ],
        ['virtualHosts[0].routes[2].directResponse.status', 'must be in [200, 600)'],
        ['virtualHosts[1].matcher', 'not supported by Dabba'],
        ['virtualHosts[1].domains[0]', 'duplicate domain "B.example"'],
      ],
    );
    for (const issue of result.issues) {
      assert.equal(issue.source, 'test.yaml');
      assert.deepEqual(issue.resource, { kind: 'RouteConfiguration', name: 'rc' });
    }
  });

  it('a fault config that is not an HTTPFault, or that restricts by headers, is an issue', () => {
    const result = decodeRouteConfiguration(
      config(
        oneRoute(
          {
            route: { cluster: 'c' },
            typedPerFilterConfig: {
              [FAULT]: {
                '@type': FAULT_TYPE,
                abort: { httpStatus: 503, percentage: { numerator: 1 } },
                headers: [{ name: 'x' }],
              },
            },
          },
          {
            typedPerFilterConfig: {
              [FAULT]: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '1s' },
            },
          },
        ),
      ),
      'test.yaml',
    );
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((i) => i.path),
      [
        `virtualHosts[0].typedPerFilterConfig["${FAULT}"]`,
        `virtualHosts[0].routes[0].typedPerFilterConfig["${FAULT}"].headers`,
      ],
    );
  });

  it('decoding in steps yields inside the resource and reports the same issues', () => {
    const virtualHosts: JsonValue[] = [];
    for (let v = 0; v < 20; v++)
      virtualHosts.push({
        name: `vh${v}`,
        domains: [v === 19 ? 'svc-0' : `svc-${v}`],
        routes: [{ match: { path: `/p${v}` }, route: { cluster: v === 3 ? '' : `c${v}` } }],
      });
    const resource = config({ name: 'rc', virtualHosts });
    const steps = decodeRouteConfigurationSteps(resource, 'test.yaml');
    let yields = 0;
    let step = steps.next();
    while (!step.done) {
      yields++;
      step = steps.next();
    }
    assert.ok(yields >= 20, `${yields} yields`);
    assert.deepEqual(step.value, decodeRouteConfiguration(resource, 'test.yaml'));
    assert.ok(!step.value.ok);
    // The domains are checked once every virtual host is decoded, so their issue comes last.
    assert.deepEqual(
      step.value.issues.map((i) => i.path),
      ['virtualHosts[3].routes[0].route.cluster', 'virtualHosts[19].domains[0]'],
    );
  });
});

describe('decodeRouteConfiguration: the model', () => {
  const everything = {
    name: 'rc',
    mostSpecificHeaderMutationsWins: true,
    ignorePortInHostMatching: true,
    responseHeadersToAdd: [{ header: { key: 'x-rc', value: 'v' }, appendAction: 'OVERWRITE_IF_EXISTS' }],
    virtualHosts: [
      {
        name: 'vh',
        domains: ['reviews', 'reviews:9080', '*.example', 'foo.*', '*'],
        retryPolicy: {
          retryOn: '5xx',
          retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
          retryPriority: {
            name: 'envoy.retry_priorities.previous_priorities',
            typedConfig: { '@type': PREVIOUS_PRIORITIES_TYPE, updateFrequency: 2 },
          },
          retriableHeaders: [{ name: 'x-retry', stringMatch: { prefix: 'y', ignoreCase: true } }],
        },
        requestHeadersToAdd: [
          { header: { key: 'x-legacy', value: 'v' }, append: false },
          { header: { key: 'x-empty', value: '' } },
        ],
        routes: [
          {
            name: 'weighted',
            match: {
              prefix: '/api',
              caseSensitive: false,
              headers: [{ name: 'x-range', rangeMatch: { start: '-10', end: '10' } }],
              queryParameters: [{ name: 'q', stringMatch: { exact: '1' } }],
              runtimeFraction: { defaultValue: { numerator: 5, denominator: 'TEN_THOUSAND' } },
              grpc: {},
            },
            route: {
              weightedClusters: {
                headerName: 'x-pick',
                clusters: [
                  { name: 'a', weight: 1, requestHeadersToRemove: ['x-a'] },
                  { clusterHeader: 'x-cluster', weight: 3, hostRewriteLiteral: 'b.example' },
                ],
              },
              hashPolicy: [
                { header: { headerName: 'X-User' } },
                { cookie: { name: 'sid', ttl: '10s', path: '/' }, terminal: true },
                { connectionProperties: { sourceIp: true } },
              ],
              requestMirrorPolicies: [
                { cluster: 'm', runtimeFraction: { defaultValue: { numerator: 50 } } },
                { cluster: 'all', disableShadowHostSuffixAppend: true },
              ],
              autoHostRewrite: true,
            },
          },
          {
            name: 'redirect',
            match: { safeRegex: { regex: '/old/[0-9]+' } },
            redirect: {
              httpsRedirect: true,
              regexRewrite: { pattern: { regex: '^/old/([0-9]+)$' }, substitution: '/new/\\1' },
              responseCode: 'PERMANENT_REDIRECT',
            },
          },
          {
            name: 'bytes',
            match: { pathSeparatedPrefix: '/bytes' },
            directResponse: { status: 200, body: { inlineBytes: 'AAEC' } },
          },
          { name: 'plugin', match: { path: '/plugin' }, route: { clusterSpecifierPlugin: 'p' } },
        ],
      },
    ],
  };

  it('is frozen throughout and holds no protobuf message', () => {
    const model = decoded(everything);
    let objects = 0;
    const walk = (value: unknown, path: string): void => {
      if (typeof value !== 'object' || value === null) {
        assert.notEqual(typeof value, 'function', path);
        return;
      }
      // A typed array with elements cannot be frozen; it holds bytes, not messages.
      if (ArrayBuffer.isView(value)) return;
      objects++;
      assert.ok(Object.isFrozen(value), `${path} is frozen`);
      assert.ok(!('$typeName' in value), `${path} is a protobuf message`);
      assert.ok(!('$unknown' in value), `${path} carries protobuf unknown fields`);
      const proto = Object.getPrototypeOf(value);
      assert.ok(proto === Object.prototype || proto === Array.prototype, `${path} is plain data`);
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
    };
    walk(model, 'model');
    assert.ok(objects > 40, `${objects} objects walked`);
    const route = model.virtualHosts[0]!.routes[2]!;
    assert.ok(route.action.kind === 'directResponse');
    assert.deepEqual(route.action.body, new Uint8Array([0, 1, 2]));
  });

  it('keeps what the configuration says, as plain values', () => {
    const model = decoded(everything);
    assert.equal(model.mostSpecificHeaderMutationsWins, true);
    assert.equal(model.ignorePortInHostMatching, true);
    assert.deepEqual(model.responseHeadersToAdd, [
      { key: 'x-rc', value: 'v', appendAction: 'OVERWRITE_IF_EXISTS' },
    ]);
    const vh = model.virtualHosts[0]!;
    // The deprecated `append: false` is folded into the action; an empty value without
    // keep_empty_value does nothing in Envoy and is left out.
    assert.deepEqual(vh.requestHeadersToAdd, [
      { key: 'x-legacy', value: 'v', appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
    assert.deepEqual(vh.retryPolicy?.retryHostPredicates, [
      { kind: 'previousHosts', name: 'envoy.retry_host_predicates.previous_hosts' },
    ]);
    assert.deepEqual(vh.retryPolicy?.retryPriority, {
      kind: 'previousPriorities',
      name: 'envoy.retry_priorities.previous_priorities',
      updateFrequency: 2,
    });
    assert.equal(vh.retryPolicy?.numRetries, undefined, 'unset stays unset');
    const [weighted, redirect, , plugin] = vh.routes;
    assert.deepEqual(weighted!.match.headers, [
      {
        name: 'x-range',
        invertMatch: false,
        treatMissingHeaderAsEmpty: false,
        rangeMatch: { start: -10n, end: 10n },
      },
    ]);
    assert.deepEqual(weighted!.match.runtimeFraction, {
      defaultValue: { numerator: 5, denominator: 'TEN_THOUSAND' },
    });
    const action = weighted!.action;
    assert.ok(action.kind === 'route' && action.clusterSpecifier.kind === 'weightedClusters');
    assert.equal(action.clusterSpecifier.weightedClusters.headerName, 'x-pick');
    assert.deepEqual(
      action.clusterSpecifier.weightedClusters.clusters.map((c) => [c.name, c.clusterHeader, c.weight]),
      [
        ['a', '', 1],
        ['', 'x-cluster', 3],
      ],
    );
    assert.deepEqual(action.hashPolicy, [
      { kind: 'header', headerName: 'X-User', terminal: false },
      { kind: 'cookie', name: 'sid', ttlMs: 10_000, path: '/', terminal: true },
      { kind: 'connectionProperties', sourceIp: true, terminal: false },
    ]);
    assert.deepEqual(action.requestMirrorPolicies, [
      {
        cluster: 'm',
        runtimeFraction: { defaultValue: { numerator: 50, denominator: 'HUNDRED' } },
        disableShadowHostSuffixAppend: false,
      },
      { cluster: 'all', runtimeFraction: undefined, disableShadowHostSuffixAppend: true },
    ]);
    assert.equal(action.autoHostRewrite, true);
    assert.equal(action.timeoutMs, undefined, 'unset stays unset');
    assert.deepEqual(redirect!.action, {
      kind: 'redirect',
      httpsRedirect: true,
      schemeRedirect: '',
      hostRedirect: '',
      portRedirect: 0,
      pathRedirect: '',
      prefixRewrite: '',
      regexRewrite: { pattern: { regex: '^/old/([0-9]+)$' }, substitution: '/new/\\1' },
      responseCode: 'PERMANENT_REDIRECT',
      stripQuery: false,
    });
    assert.deepEqual(plugin!.action, {
      kind: 'route',
      clusterSpecifier: { kind: 'unsupported', field: 'clusterSpecifierPlugin' },
      timeoutMs: undefined,
      retryPolicy: undefined,
      hashPolicy: [],
      prefixRewrite: '',
      regexRewrite: undefined,
      hostRewriteLiteral: '',
      autoHostRewrite: false,
      requestMirrorPolicies: [],
    });
  });

  // Envoy reads every Duration with DurationUtil::durationToMilliseconds: whole milliseconds,
  // the nanoseconds truncated (1.9999 ms is 1 ms, 0.5 ms is 0).
  it('durations are whole milliseconds, truncated as Envoy truncates them', () => {
    const model = decoded(
      oneRoute({
        route: {
          cluster: 'c',
          timeout: '1.0019999s',
          retryPolicy: {
            perTryTimeout: '0.0005s',
            perTryIdleTimeout: '2.5s',
            retryBackOff: { baseInterval: '0.0015s', maxInterval: '0.0109s' },
            rateLimitedRetryBackOff: { resetHeaders: [{ name: 'Retry-After' }], maxInterval: '0.999999999s' },
          },
          hashPolicy: [{ cookie: { name: 'sid', ttl: '0.0009s' } }],
        },
        typedPerFilterConfig: {
          [FAULT]: { '@type': FAULT_TYPE, delay: { fixedDelay: '1.999999s', percentage: { numerator: 1 } } },
        },
      }),
    );
    const route = model.virtualHosts[0]!.routes[0]!;
    assert.ok(route.action.kind === 'route');
    assert.equal(route.action.timeoutMs, 1001);
    const retry = route.action.retryPolicy!;
    assert.equal(retry.perTryTimeoutMs, 0);
    assert.equal(retry.perTryIdleTimeoutMs, 2500);
    assert.deepEqual(retry.retryBackOff, { baseIntervalMs: 1, maxIntervalMs: 10 });
    assert.equal(retry.rateLimitedRetryBackOff?.maxIntervalMs, 999);
    assert.deepEqual(route.action.hashPolicy[0], {
      kind: 'cookie',
      name: 'sid',
      ttlMs: 0,
      path: '',
      terminal: false,
    });
    assert.ok(route.fault?.delay?.kind === 'fixed');
    assert.equal(route.fault.delay.fixedDelayMs, 1999);
  });

  it('the fault filter’s per-route and per-host configs are decoded HTTPFaults', () => {
    const model = decoded(
      oneRoute(
        {
          route: { cluster: 'c' },
          typedPerFilterConfig: {
            [FAULT]: {
              '@type': FAULT_TYPE,
              delay: { headerDelay: {}, percentage: { numerator: 20, denominator: 'MILLION' } },
              abort: { grpcStatus: 14 },
              upstreamCluster: 'c',
              downstreamNodes: ['node-a'],
            },
          },
        },
        {
          typedPerFilterConfig: {
            [FAULT]: {
              '@type': FAULT_TYPE,
              abort: { httpStatus: 503, percentage: { numerator: 100 } },
              delay: { percentage: { numerator: 100 } },
            },
          },
        },
      ),
    );
    const vh = model.virtualHosts[0]!;
    assert.deepEqual(vh.routes[0]!.fault, {
      delay: { kind: 'header', percentage: { numerator: 20, denominator: 'MILLION' } },
      abort: { kind: 'grpc', grpcStatus: 14, percentage: undefined },
      upstreamCluster: 'c',
      downstreamNodes: ['node-a'],
    });
    // A delay without its type cannot fire; Envoy's filter has no delay then.
    assert.deepEqual(vh.fault, {
      delay: undefined,
      abort: { kind: 'http', httpStatus: 503, percentage: { numerator: 100, denominator: 'HUNDRED' } },
      upstreamCluster: '',
      downstreamNodes: [],
    });
  });
});
