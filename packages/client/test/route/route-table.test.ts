import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '@dabba/discovery';
import { clusterFor, type RouteSelection, type WeightedRoute } from '../../src/route/index.ts';
import type { RequestView } from '../../src/route/match/index.ts';
import { mulberry32 } from '../lb/mulberry32.ts';
import { compileRouteTable, RouteConfigError } from './helpers.ts';

// Route configurations are written in Envoy's proto3 JSON, as in Envoy's docs.
function table(json: JsonValue, random?: () => number) {
  const config = fromJson(RouteConfigurationSchema, json);
  return compileRouteTable(config, random === undefined ? {} : { random });
}

function req(url: string, extra: Partial<RequestView> = {}): RequestView {
  const q = url.indexOf('?');
  return {
    method: 'GET',
    scheme: 'http',
    authority: 'reviews:9080',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers: {},
    ...extra,
  };
}

function vh(routes: JsonValue[], extra: Record<string, JsonValue> = {}): JsonValue {
  return { virtualHosts: [{ name: 'reviews', domains: ['reviews:9080'], routes, ...extra }] };
}

function selected(t: ReturnType<typeof table>, r: RequestView): RouteSelection {
  const s = t.select(r);
  assert.ok(s !== undefined, `no route for ${r.path}`);
  return s;
}

// Envoy route matching docs: "Each route entry in the virtual host is checked, in order. If there
// is a match, the route is used and no further route checks are made."
test('first match wins: an earlier broad prefix shadows a later exact path', () => {
  const t = table(
    vh([
      { name: 'broad', match: { prefix: '/api' }, route: { cluster: 'a' } },
      { name: 'exact', match: { path: '/api/v1' }, route: { cluster: 'b' } },
      { name: 'other', match: { prefix: '/' }, route: { cluster: 'c' } },
    ]),
  );
  assert.equal(selected(t, req('/api/v1')).route.name, 'broad');
  assert.equal(selected(t, req('/x')).route.name, 'other');
  assert.deepEqual(selected(t, req('/api/v1')).route, { name: 'broad', index: 0 });
});

test('first match wins: header condition decides between routes with the same path', () => {
  const t = table(
    vh([
      {
        name: 'canary',
        match: { path: '/p', headers: [{ name: 'x-canary', stringMatch: { exact: '1' } }] },
        route: { cluster: 'canary' },
      },
      { name: 'stable', match: { path: '/p' }, route: { cluster: 'stable' } },
    ]),
  );
  assert.equal(selected(t, req('/p', { headers: { 'x-canary': '1' } })).route.name, 'canary');
  assert.equal(selected(t, req('/p')).route.name, 'stable');
});

test('no virtual host or no route gives undefined (Envoy: 404, flag NR)', () => {
  const t = table(vh([{ match: { prefix: '/only' }, route: { cluster: 'a' } }]));
  assert.equal(t.select(req('/elsewhere')), undefined);
  assert.equal(t.select(req('/only', { authority: 'ratings:9080' })), undefined);
});

test('route-level fields: timeout default 15 s, 0 kept, retry policy from the virtual host', () => {
  const t = table(
    vh(
      [
        { match: { path: '/default' }, route: { cluster: 'a' } },
        { match: { path: '/off' }, route: { cluster: 'a', timeout: '0s' } },
        {
          match: { path: '/own' },
          route: { cluster: 'a', timeout: '1.5s', retryPolicy: { retryOn: '5xx', numRetries: 3 } },
        },
      ],
      { retryPolicy: { retryOn: 'connect-failure', numRetries: 2 } },
    ),
  );
  const d = selected(t, req('/default')).action;
  const off = selected(t, req('/off')).action;
  const own = selected(t, req('/own')).action;
  assert.ok(d.kind === 'cluster' && off.kind === 'cluster' && own.kind === 'cluster');
  // route_components.proto RouteAction.timeout: "If not specified, the default is 15s", 0 disables.
  assert.equal(d.timeoutMs, 15_000);
  assert.equal(off.timeoutMs, 0);
  assert.equal(own.timeoutMs, 1500);
  // VirtualHost.retry_policy: "setting a route level entry will take precedence over this config".
  assert.equal(d.retryPolicy?.retryOn, 'connect-failure');
  assert.equal(own.retryPolicy?.retryOn, '5xx');
  assert.equal(own.retryPolicy?.numRetries, 3);
});

test('hash policies are kept as plain data, in order', () => {
  const t = table(
    vh([
      {
        match: { prefix: '/' },
        route: {
          cluster: 'a',
          hashPolicy: [
            { header: { headerName: 'X-User' } },
            { cookie: { name: 'sid', ttl: '10s', path: '/' }, terminal: true },
            { queryParameter: { name: 'u' } },
            { connectionProperties: { sourceIp: true } },
          ],
        },
      },
    ]),
  );
  const a = selected(t, req('/')).action;
  assert.ok(a.kind === 'cluster');
  assert.deepEqual(a.hashPolicy, [
    { kind: 'header', headerName: 'x-user', terminal: false },
    { kind: 'cookie', name: 'sid', ttlMs: 10_000, path: '/', terminal: true },
    { kind: 'queryParameter', name: 'u', terminal: false },
    { kind: 'sourceIp', terminal: false },
  ]);
});

// route_components.proto WeightedCluster: weights are relative; Envoy picks random % total over
// the cumulative intervals [0, w1), [w1, w1 + w2), ... (router/weighted_cluster_specifier.cc).
test('weighted clusters split by relative weight (seeded, 40,000 picks, +-1.5 points)', () => {
  const t = table(
    vh([
      {
        match: { prefix: '/' },
        route: {
          weightedClusters: {
            clusters: [
              { name: 'v1', weight: 1 },
              { name: 'v2', weight: 0 },
              { name: 'v3', weight: 3 },
              { name: 'v4', weight: 6 },
            ],
          },
        },
      },
    ]),
    mulberry32(42),
  );
  const counts = new Map<string, number>();
  const n = 40_000;
  for (let i = 0; i < n; i++) {
    const r = req('/');
    const ctx = t.createContext(r);
    const s = t.select(r, ctx);
    assert.ok(s !== undefined);
    const c = clusterFor(s, ctx) as string;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const share = (c: string) => (100 * (counts.get(c) ?? 0)) / n;
  assert.equal(counts.get('v2'), undefined, 'weight 0 is never picked');
  assert.ok(Math.abs(share('v1') - 10) < 1.5, `v1 ${share('v1')}%`);
  assert.ok(Math.abs(share('v3') - 30) < 1.5, `v3 ${share('v3')}%`);
  assert.ok(Math.abs(share('v4') - 60) < 1.5, `v4 ${share('v4')}%`);
});

test('weighted pick is exact at interval boundaries and honours the random-value header', () => {
  const t = table(
    vh([
      {
        match: { prefix: '/' },
        route: {
          weightedClusters: {
            headerName: 'x-random',
            clusters: [
              { name: 'a', weight: 2 },
              { name: 'b', weight: 3 },
            ],
          },
        },
      },
    ]),
  );
  const s = selected(t, req('/'));
  const a = s.action as WeightedRoute;
  assert.equal(a.kind, 'weighted');
  assert.equal(a.totalWeight, 5);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 7].map((v) => a.choose(v)),
    ['a', 'a', 'b', 'b', 'b', 'a', 'b'],
  );
  // header_name: the value is used as the random value (mod total); invalid falls back.
  const withHeader = req('/', { headers: { 'x-random': '7' } });
  assert.equal(clusterFor(s, t.createContext(withHeader)), 'b');
  const bad = req('/', { headers: { 'x-random': 'nope' } });
  const ctx = t.createContext(bad);
  assert.equal(clusterFor(s, ctx), a.choose(ctx.randomValue()));
});

test('direct_response keeps status and inline body; over-size body is rejected', () => {
  const t = table(
    vh([
      { match: { path: '/health' }, directResponse: { status: 200, body: { inlineString: 'ok' } } },
      { match: { path: '/gone' }, directResponse: { status: 410 } },
    ]),
  );
  // `fault` is on every action (Envoy's fault filter runs before direct responses too); none here.
  assert.deepEqual(
    { ...selected(t, req('/health')).action },
    { kind: 'direct', status: 200, body: 'ok', fault: undefined },
  );
  assert.deepEqual(
    { ...selected(t, req('/gone')).action },
    { kind: 'direct', status: 410, body: undefined, fault: undefined },
  );
  // RouteConfiguration.max_direct_response_body_size_bytes defaults to 4096.
  assert.throws(
    () =>
      table(
        vh([
          {
            match: { prefix: '/' },
            directResponse: { status: 200, body: { inlineString: 'x'.repeat(4097) } },
          },
        ]),
      ),
    (e: unknown) =>
      e instanceof RouteConfigError && e.path === 'virtualHosts[0].routes[0].directResponse.body',
  );
});

// RouteAction.prefix_rewrite: "the matched prefix (or path) should be swapped with this value";
// the proto's example: prefix "/prefix/" + rewrite "/" turns "/prefix/etc" into "/etc".
test('prefix_rewrite replaces the matched prefix and keeps the query', () => {
  const t = table(
    vh([
      { match: { prefix: '/prefix/' }, route: { cluster: 'a', prefixRewrite: '/' } },
      { match: { prefix: '/prefix' }, route: { cluster: 'a', prefixRewrite: '/' } },
      { match: { path: '/old' }, route: { cluster: 'a', prefixRewrite: '/new' } },
      { match: { prefix: '/keep' }, route: { cluster: 'a' } },
    ]),
  );
  const rewrite = (url: string) => {
    const r = req(url);
    const a = selected(t, r).action;
    assert.ok(a.kind === 'cluster');
    return a.rewritePath(r);
  };
  assert.equal(rewrite('/prefix/etc?x=1'), '/etc?x=1');
  assert.equal(rewrite('/prefix'), '/');
  assert.equal(rewrite('/old?q'), '/new?q');
  assert.equal(rewrite('/keep/x'), undefined);
});

// RouteAction.regex_rewrite examples from route_components.proto.
test('regex_rewrite replaces every match in the path, keeps the query (proto examples)', () => {
  const cases: [string, string, string, string][] = [
    ['^/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/foo/v1/api', '/v1/api/instance/foo'],
    ['one', 'two', '/xxx/one/yyy/one/zzz', '/xxx/two/yyy/two/zzz'],
    ['^(.*?)one(.*)$', '\\1two\\2', '/xxx/one/yyy/one/zzz', '/xxx/two/yyy/one/zzz'],
    ['(?i)/xxx/', '/yyy/', '/aaa/XxX/bbb', '/aaa/yyy/bbb'],
  ];
  for (const [regex, substitution, from, to] of cases) {
    const t = table(
      vh([
        {
          match: { prefix: '/' },
          route: { cluster: 'a', regexRewrite: { pattern: { regex }, substitution } },
        },
      ]),
    );
    const r = req(`${from}?one=1`);
    const a = selected(t, r).action;
    assert.ok(a.kind === 'cluster');
    assert.equal(a.rewritePath(r), `${to}?one=1`, regex);
  }
});

test('invalid configuration throws RouteConfigError listing every field path', () => {
  const bad = vh([
    { match: { safeRegex: { regex: '/api/(' } }, route: { cluster: 'a' } },
    {
      match: { prefix: '/' },
      route: { cluster: 'a', regexRewrite: { pattern: { regex: '(?<=x)' }, substitution: 'y' } },
    },
    { match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ name: 'a', weight: 0 }] } } },
  ]);
  assert.throws(
    () => table(bad),
    (e: unknown) => {
      assert.ok(e instanceof RouteConfigError);
      assert.equal(e.code, 'DABBA_CONFIG_INVALID');
      assert.deepEqual(
        e.issues.map((i) => i.path),
        [
          'virtualHosts[0].routes[0].match.safeRegex.regex',
          'virtualHosts[0].routes[1].route.regexRewrite.pattern.regex',
          'virtualHosts[0].routes[2].route.weightedClusters.clusters',
        ],
      );
      assert.match(e.issues[0]!.message, /invalid RE2 regex/);
      return true;
    },
  );
});
