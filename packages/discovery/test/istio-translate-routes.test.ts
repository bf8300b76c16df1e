/**
 * VirtualService -> RouteConfiguration, checked against istiod's pilot/pkg/networking/core/
 * route/route.go (TranslateRouteMatch, translateRoute, applyHTTPRouteDestination,
 * TranslateHeadersOperations, ApplyRedirect), route/retry/retry.go and httproute.go.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnyJson, REVIEWS, serviceEntry, translateYaml, vhost } from './fixtures/istio-helpers.ts';

const RV = 'reviews.default.svc.cluster.local';
const VH = `${RV}:9080`;

function vs(http: string, extra = ''): string {
  return `${REVIEWS}apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
${extra}  http:
${http}`;
}

function routesOf(http: string, workload = {}, extra = ''): AnyJson[] {
  const t = translateYaml(vs(http, extra), workload);
  assert.deepEqual(t.issues, []);
  return vhost(t, 9080, VH).routes;
}

const TO_V1 = `      route: [{ destination: { host: reviews, subset: v1 } }]`;
/** A whole http route to v1 (TO_V1 continues the route before it). */
const ROUTE_V1 = `    - route: [{ destination: { host: reviews, subset: v1 } }]`;

describe('default routes and catch-all virtual hosts (httproute.go, route.go)', () => {
  it('a service without VirtualService gets route "default" to outbound|port||host, timeout 0s, Istio default retries', () => {
    const t = translateYaml(REVIEWS);
    const [route] = vhost(t, 9080, VH).routes;
    assert.deepEqual(route, {
      name: 'default',
      match: { prefix: '/' },
      route: {
        cluster: `outbound|9080||${RV}`,
        timeout: '0s',
        retryPolicy: {
          // retry.go DefaultPolicy; EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY (default true) leaves the codes empty.
          retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
          numRetries: 2,
          retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
          hostSelectionRetryMaxAttempts: '5',
        },
      },
    });
  });

  it('ALLOW_ANY adds the allow_any virtual host to PassthroughCluster with timeout 0s (buildCatchAllVirtualHost)', () => {
    const rc: AnyJson = translateYaml(REVIEWS).routes.get('9080');
    const last = rc.virtualHosts.at(-1);
    assert.equal(last.name, 'allow_any');
    assert.deepEqual(last.domains, ['*']);
    assert.deepEqual(last.routes[0].route, { cluster: 'PassthroughCluster', timeout: '0s' });
  });

  it('REGISTRY_ONLY adds block_all answering 502', () => {
    const rc: AnyJson = translateYaml(REVIEWS, {}, { outboundTrafficPolicy: 'REGISTRY_ONLY' }).routes.get(
      '9080',
    );
    const last = rc.virtualHosts.at(-1);
    assert.equal(last.name, 'block_all');
    assert.deepEqual(last.routes[0].directResponse, { status: 502 });
  });

  it('the listener of a port refers to the route configuration named after it', () => {
    const t = translateYaml(REVIEWS);
    const l: AnyJson = t.listeners.get('0.0.0.0_9080');
    assert.equal(l.filterChains[0].filters[0].typedConfig.rds.routeConfigName, '9080');
  });
});

describe('HTTPMatchRequest -> RouteMatch (route.go TranslateRouteMatch)', () => {
  const cases: [string, string, AnyJson][] = [
    ['uri exact -> path', '{ uri: { exact: /a } }', { path: '/a' }],
    ['uri prefix -> prefix', '{ uri: { prefix: /a } }', { prefix: '/a' }],
    ['uri regex -> safe_regex', '{ uri: { regex: "/a/[0-9]+" } }', { safeRegex: { regex: '/a/[0-9]+' } }],
    [
      'ignoreUriCase -> case_sensitive false',
      '{ uri: { prefix: /A }, ignoreUriCase: true }',
      { prefix: '/A', caseSensitive: false },
    ],
    [
      'header exact',
      '{ headers: { end-user: { exact: jason } } }',
      { prefix: '/', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] },
    ],
    [
      'header prefix',
      '{ headers: { x: { prefix: a } } }',
      { prefix: '/', headers: [{ name: 'x', stringMatch: { prefix: 'a' } }] },
    ],
    [
      'header regex',
      '{ headers: { x: { regex: "a.*" } } }',
      { prefix: '/', headers: [{ name: 'x', stringMatch: { safeRegex: { regex: 'a.*' } } }] },
    ],
    [
      'header {} -> present_match',
      '{ headers: { x: {} } }',
      { prefix: '/', headers: [{ name: 'x', presentMatch: true }] },
    ],
    [
      'header regex "*" -> present_match (canBeConvertedToPresentMatch, istio#20629)',
      '{ headers: { x: { regex: "*" } } }',
      { prefix: '/', headers: [{ name: 'x', presentMatch: true }] },
    ],
    [
      'withoutHeaders -> invert_match with treat_missing_header_as_empty',
      '{ withoutHeaders: { x: { exact: a } } }',
      {
        prefix: '/',
        headers: [
          { name: 'x', stringMatch: { exact: 'a' }, invertMatch: true, treatMissingHeaderAsEmpty: true },
        ],
      },
    ],
    [
      'withoutHeaders {} -> inverted present_match, without treat_missing_header_as_empty',
      '{ withoutHeaders: { x: {} } }',
      { prefix: '/', headers: [{ name: 'x', presentMatch: true, invertMatch: true }] },
    ],
    [
      'authority, method, scheme -> pseudo-header matchers',
      '{ authority: { exact: a.b }, method: { exact: GET }, scheme: { exact: https } }',
      {
        prefix: '/',
        headers: [
          { name: ':authority', stringMatch: { exact: 'a.b' } },
          { name: ':method', stringMatch: { exact: 'GET' } },
          { name: ':scheme', stringMatch: { exact: 'https' } },
        ],
      },
    ],
    [
      'queryParams exact and present',
      '{ queryParams: { a: { exact: "1" }, b: {} } }',
      {
        prefix: '/',
        queryParameters: [
          { name: 'a', stringMatch: { exact: '1' } },
          { name: 'b', presentMatch: true },
        ],
      },
    ],
  ];
  for (const [name, match, want] of cases) {
    it(name, () => {
      const [route] = routesOf(`    - match: [${match}]\n${TO_V1}`);
      assert.deepEqual(route.match, want);
    });
  }

  it('each match entry becomes its own route with the same action, named <route>.<match>', () => {
    const routes = routesOf(`    - name: r
      match: [{ name: a, uri: { prefix: /a } }, { name: b, uri: { prefix: /b } }]
${TO_V1}`);
    // The catch-all "default" route is not added when the VirtualService ends without one.
    assert.deepEqual(
      routes.map((r: AnyJson) => [r.name, r.match.prefix, r.route.cluster]),
      [
        ['r.a', '/a', `outbound|9080|v1|${RV}`],
        ['r.b', '/b', `outbound|9080|v1|${RV}`],
      ],
    );
  });

  it('routes after an http route without match are dropped (BuildHTTPRoutesForVirtualService catchall)', () => {
    const routes = routesOf(`    - route: [{ destination: { host: reviews, subset: v2 } }]
    - match: [{ uri: { prefix: /never } }]
${TO_V1}`);
    assert.equal(routes.length, 1);
  });

  it('a match entry that matches everything (prefix /, no headers) ends the route list too (IsCatchAllRoute)', () => {
    const routes = routesOf(`    - match: [{ uri: { prefix: / } }, { uri: { prefix: /unreachable } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - match: [{ uri: { prefix: /never } }]
${TO_V1}`);
    assert.deepEqual(
      routes.map((r: AnyJson) => r.match.prefix),
      ['/'],
    );
  });

  it('a prefix / match with a header condition is not a catch-all', () => {
    const routes = routesOf(`    - match: [{ uri: { prefix: / }, headers: { x: { exact: a } } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
${ROUTE_V1}`);
    assert.equal(routes.length, 2);
  });

  it('match.port keeps a match entry only on that port (translateRoute)', () => {
    const t = translateYaml(
      vs(
        `    - match: [{ port: 9080, uri: { prefix: /on } }, { port: 9999, uri: { prefix: /off } }]\n${TO_V1}`,
      ),
    );
    assert.deepEqual(
      vhost(t, 9080, VH).routes.map((r: AnyJson) => r.match.prefix),
      ['/on'],
    );
  });

  it('sourceLabels and sourceNamespace keep a match only for matching workloads (sourceMatchHTTP)', () => {
    const http = `    - match: [{ sourceLabels: { app: productpage }, sourceNamespace: default, uri: { prefix: /pp } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
${ROUTE_V1}`;
    const names = (w: AnyJson) => routesOf(http, w).map((r: AnyJson) => r.route.cluster.split('|')[2]);
    assert.deepEqual(names({ labels: { app: 'productpage', version: 'v1' } }), ['v2', 'v1']);
    assert.deepEqual(names({ labels: { app: 'ratings' } }), ['v1']);
    assert.deepEqual(names({ labels: { app: 'productpage' }, namespace: 'other' }), ['v1']);
  });

  it('match.gateways decides alone: with mesh the entry applies whatever sourceLabels say (sourceMatchHTTP)', () => {
    const http = `    - match: [{ gateways: [mesh], sourceLabels: { app: nobody }, uri: { prefix: /m } }, { gateways: [ingress], uri: { prefix: /g } }]
${TO_V1}`;
    assert.deepEqual(
      routesOf(http, { labels: { app: 'x' } }).map((r: AnyJson) => r.match.prefix),
      ['/m'],
    );
  });

  it('a VirtualService bound only to gateways does not apply to sidecars', () => {
    const t = translateYaml(vs(ROUTE_V1, '  gateways: [istio-system/ingress]\n'));
    assert.equal(vhost(t, 9080, VH).routes[0].name, 'default');
  });
});

describe('route actions (route.go applyHTTPRouteDestination, ApplyRedirect, ApplyDirectResponse)', () => {
  it('timeout: 0s when unset, the VirtualService value when set (setTimeout)', () => {
    assert.equal(routesOf(ROUTE_V1)[0].route.timeout, '0s');
    assert.equal(routesOf(`    - timeout: 1.5s\n${TO_V1}`)[0].route.timeout, '1.500s');
  });

  it('weighted destinations -> weighted_clusters; weight 0 destinations are left out', () => {
    const [route] = routesOf(`    - route:
        - { destination: { host: reviews, subset: v1 }, weight: 75 }
        - { destination: { host: reviews, subset: v2 }, weight: 25 }
        - { destination: { host: reviews, subset: v3 }, weight: 0 }`);
    assert.deepEqual(route.route.weightedClusters, {
      clusters: [
        { name: `outbound|9080|v1|${RV}`, weight: 75 },
        { name: `outbound|9080|v2|${RV}`, weight: 25 },
      ],
    });
  });

  it('rewrite.uri -> prefix_rewrite for every match kind (Envoy swaps the matched prefix or path)', () => {
    const routes = routesOf(`    - match: [{ uri: { prefix: /api/ } }, { uri: { exact: /old } }]
      rewrite: { uri: /v2/, authority: new.example }
${TO_V1}`);
    for (const r of routes) {
      assert.equal(r.route.prefixRewrite, '/v2/');
      assert.equal(r.route.regexRewrite, undefined);
      assert.equal(r.route.hostRewriteLiteral, 'new.example');
    }
  });

  it('rewrite.uriRegexRewrite -> regex_rewrite', () => {
    const [route] = routesOf(
      `    - rewrite: { uriRegexRewrite: { match: "^/a/(.*)", rewrite: "/b/\\\\1" } }\n${TO_V1}`,
    );
    assert.deepEqual(route.route.regexRewrite, { pattern: { regex: '^/a/(.*)' }, substitution: '/b/\\1' });
  });

  const redirects: [string, string][] = [
    ['', 'MOVED_PERMANENTLY'],
    ['301', 'MOVED_PERMANENTLY'],
    ['302', 'FOUND'],
    ['303', 'SEE_OTHER'],
    ['307', 'TEMPORARY_REDIRECT'],
    ['308', 'PERMANENT_REDIRECT'],
  ];
  for (const [code, want] of redirects) {
    it(`redirect ${code || '(no code)'} -> ${want}`, () => {
      const rc = code ? `, redirectCode: ${code}` : '';
      const [route] = routesOf(`    - redirect: { uri: /new, authority: b.example${rc} }`);
      const expected: AnyJson = { hostRedirect: 'b.example', pathRedirect: '/new' };
      if (want !== 'MOVED_PERMANENTLY') expected.responseCode = want; // proto3 JSON omits the zero value
      assert.deepEqual(route.redirect, expected);
    });
  }

  it('directResponse -> direct_response with an inline body', () => {
    const [route] = routesOf(`    - directResponse: { status: 503, body: { string: unavailable } }`);
    assert.deepEqual(route.directResponse, { status: 503, body: { inlineString: 'unavailable' } });
  });

  it('headers: set -> OVERWRITE_IF_EXISTS_OR_ADD, add -> APPEND_IF_EXISTS_OR_ADD, remove (TranslateHeadersOperations)', () => {
    const [route] = routesOf(`    - headers:
        request: { set: { x-a: "1" }, add: { x-b: "2" }, remove: [x-c] }
        response: { set: { x-d: "3" }, remove: [x-e] }
${TO_V1}`);
    assert.deepEqual(route.requestHeadersToAdd, [
      { header: { key: 'x-a', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      // APPEND_IF_EXISTS_OR_ADD is the enum's zero value, which proto3 JSON leaves out.
      { header: { key: 'x-b', value: '2' } },
    ]);
    assert.deepEqual(route.requestHeadersToRemove, ['x-c']);
    assert.deepEqual(route.responseHeadersToAdd, [
      { header: { key: 'x-d', value: '3' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
    assert.deepEqual(route.responseHeadersToRemove, ['x-e']);
  });

  it('a request host header is a host rewrite, not a header (isAuthorityHeader/isInternalHeader)', () => {
    const [route] = routesOf(`    - headers:
        request: { set: { host: a.example, x-a: "1" }, remove: [":path", x-b] }
${TO_V1}`);
    assert.equal(route.route.hostRewriteLiteral, 'a.example');
    assert.deepEqual(
      route.requestHeadersToAdd.map((h: AnyJson) => h.header.key),
      ['x-a'],
    );
    assert.deepEqual(route.requestHeadersToRemove, ['x-b']);
  });

  it('per-destination headers go on the weighted cluster', () => {
    const [route] = routesOf(`    - route:
        - { destination: { host: reviews, subset: v1 }, weight: 50, headers: { request: { set: { x-v: "1" } } } }
        - { destination: { host: reviews, subset: v2 }, weight: 50 }`);
    assert.deepEqual(route.route.weightedClusters.clusters[0].requestHeadersToAdd, [
      { header: { key: 'x-v', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
  });
});

describe('retry policy (route/retry/retry.go ConvertPolicy)', () => {
  it('VirtualService retries override attempts, perTryTimeout and retryOn, keeping the defaults for the rest', () => {
    const [route] = routesOf(
      `    - retries: { attempts: 4, perTryTimeout: 2s, retryOn: "5xx,gateway-error" }\n${TO_V1}`,
    );
    assert.deepEqual(route.route.retryPolicy, {
      retryOn: '5xx,gateway-error',
      numRetries: 4,
      perTryTimeout: '2s',
      retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
      hostSelectionRetryMaxAttempts: '5',
    });
  });

  it('status codes in retryOn become retriable_status_codes (parseRetryOn)', () => {
    const [route] = routesOf(`    - retries: { attempts: 3, retryOn: "connect-failure,503,504" }\n${TO_V1}`);
    assert.equal(route.route.retryPolicy.retryOn, 'connect-failure,retriable-status-codes');
    assert.deepEqual(route.route.retryPolicy.retriableStatusCodes, [503, 504]);
  });

  it('attempts 0 disables retries', () => {
    const [route] = routesOf(`    - retries: { attempts: 0 }\n${TO_V1}`);
    assert.equal(route.route.retryPolicy, undefined);
  });

  it('retryIgnorePreviousHosts false drops the previous_hosts predicate', () => {
    const [route] = routesOf(`    - retries: { attempts: 2, retryIgnorePreviousHosts: false }\n${TO_V1}`);
    assert.equal(route.route.retryPolicy.retryHostPredicate, undefined);
  });

  it('no previous_hosts predicate under consistent hashing (DefaultConsistentHashPolicy), hash policy on the route', () => {
    const yaml = `${serviceEntry('ratings', 'ratings.default.svc.cluster.local')}apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: x-user } } }
`;
    const route = vhost(translateYaml(yaml), 9080, 'ratings.default.svc.cluster.local:9080').routes[0];
    assert.equal(route.route.retryPolicy.retryHostPredicate, undefined);
    assert.equal(route.route.retryPolicy.numRetries, 2);
    assert.deepEqual(route.route.hashPolicy, [{ header: { headerName: 'x-user' } }]);
  });
});

describe('destination errors name file, line, resource and path', () => {
  it('an unknown subset', () => {
    const yaml = vs(`    - route:
        - { destination: { host: reviews, subset: v1 }, weight: 50 }
        - { destination: { host: reviews, subset: v9 }, weight: 50 }`);
    const t = translateYaml(yaml, {}, {}, 'routes/reviews.yaml');
    assert.equal(t.issues.length, 1);
    const issue = t.issues[0]!;
    assert.equal(issue.source, 'routes/reviews.yaml');
    assert.deepEqual(issue.resource, { kind: 'VirtualService', namespace: 'default', name: 'reviews' });
    assert.equal(issue.path, 'spec.http[0].route[1].destination');
    assert.match(issue.message, /unknown subset "v9"/);
    const line = yaml.split('\n').findIndex((l) => l.includes('subset: v9')) + 1;
    assert.equal(issue.line, line);
  });

  it('an unknown host', () => {
    const t = translateYaml(vs(`    - route: [{ destination: { host: nowhere } }]`));
    assert.equal(t.issues.length, 1);
    assert.equal(t.issues[0]?.path, 'spec.http[0].route[0].destination');
    assert.match(t.issues[0]!.message, /unknown host "nowhere.default.svc.cluster.local"/);
  });

  it('a destination without port on a multi-port service, from another port', () => {
    const yaml = `${serviceEntry('multi', 'multi.default.svc.cluster.local', {
      ports: '[{ number: 8080, name: http, protocol: HTTP }, { number: 8081, name: admin, protocol: HTTP }]',
    })}${vs(`    - route: [{ destination: { host: multi } }]`)}`;
    const t = translateYaml(yaml);
    assert.equal(t.issues.length, 1);
    assert.equal(t.issues[0]?.path, 'spec.http[0].route[0].destination');
    assert.match(t.issues[0]!.message, /destination.port is required/);
  });

  it('an invalid RE2 regex, with the path of the regex', () => {
    const t = translateYaml(vs(`    - match: [{ headers: { x: { regex: "(?<=a)b" } } }]\n${TO_V1}`));
    assert.equal(t.issues.length, 1);
    assert.equal(t.issues[0]?.path, 'spec.http[0].match[0].headers.x.regex');
    assert.match(t.issues[0]!.message, /invalid RE2/);
  });

  it('a uri regex "*" is an error (only header and query matches treat it as presence)', () => {
    const t = translateYaml(vs(`    - match: [{ uri: { regex: "*" } }]\n${TO_V1}`));
    assert.equal(t.issues[0]?.path, 'spec.http[0].match[0].uri.regex');
  });
});
