import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '@dabba/discovery';
import {
  applyHeaderMutations,
  type RedirectRoute,
  type RouteSelection,
  type WeightedRoute,
} from '../../src/route/index.ts';
import type { RequestView } from '../../src/route/match/index.ts';
import { compileRouteTable, RouteConfigError } from './helpers.ts';

function table(json: JsonValue) {
  return compileRouteTable(fromJson(RouteConfigurationSchema, json));
}

function req(url: string, extra: Partial<RequestView> = {}): RequestView {
  const q = url.indexOf('?');
  return {
    method: 'GET',
    scheme: 'http',
    authority: 'example.com',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers: {},
    ...extra,
  };
}

function select(json: JsonValue, r: RequestView = req('/')): RouteSelection {
  const s = table(json).select(r);
  assert.ok(s !== undefined);
  return s;
}

const set = (key: string, value: string, appendAction?: string): JsonValue =>
  appendAction === undefined ? { header: { key, value } } : { header: { key, value }, appendAction };

// One header at every level, each overwriting; which value survives shows the evaluation order.
function levels(mostSpecificWins: boolean): JsonValue {
  const ow = (v: string) => [set('x-level', v, 'OVERWRITE_IF_EXISTS_OR_ADD'), set('x-trail', v)];
  return {
    mostSpecificHeaderMutationsWins: mostSpecificWins,
    requestHeadersToAdd: ow('config'),
    responseHeadersToAdd: ow('config'),
    virtualHosts: [
      {
        name: 'vh',
        domains: ['*'],
        requestHeadersToAdd: ow('vhost'),
        routes: [
          {
            match: { prefix: '/' },
            requestHeadersToAdd: ow('route'),
            route: {
              weightedClusters: {
                clusters: [{ name: 'only', weight: 1, requestHeadersToAdd: ow('cluster') }],
              },
            },
          },
        ],
      },
    ],
  };
}

// Envoy docs "Custom request/response headers" and route.proto most_specific_header_mutations_wins:
// by default the least specific level is evaluated last and wins (router/config_impl.cc
// getHeaderParsers); with true the route level wins. Weighted-cluster headers are evaluated
// before the route's levels in both cases (WeightedClusterEntry::finalizeRequestHeaders).
test('header levels: default order cluster, route, vhost, config (config wins)', () => {
  const s = select(levels(false));
  const headers: Record<string, string | string[]> = {};
  applyHeaderMutations((s.action as WeightedRoute).clusters[0]!.requestHeaderMutations, headers);
  assert.equal(headers['x-level'], 'config');
  assert.deepEqual(headers['x-trail'], ['cluster', 'route', 'vhost', 'config']);
  const routeOnly: Record<string, string | string[]> = {};
  applyHeaderMutations(s.requestHeaderMutations, routeOnly);
  assert.deepEqual(routeOnly['x-trail'], ['route', 'vhost', 'config']);
});

test('header levels: most_specific_header_mutations_wins puts config first, route last', () => {
  const s = select(levels(true));
  const headers: Record<string, string | string[]> = {};
  applyHeaderMutations((s.action as WeightedRoute).clusters[0]!.requestHeaderMutations, headers);
  assert.equal(headers['x-level'], 'route');
  assert.deepEqual(headers['x-trail'], ['cluster', 'config', 'vhost', 'route']);
});

// core/v3/base.proto HeaderValueOption.HeaderAppendAction and router/header_parser.cc: removes
// first, then conditions are judged on the headers as they were before the level's additions,
// overwrites applied before appends.
test('append actions within one level', () => {
  const s = select({
    virtualHosts: [
      {
        name: 'vh',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/' },
            route: { cluster: 'c' },
            requestHeadersToRemove: ['X-Drop', 'x-readd'],
            requestHeadersToAdd: [
              set('x-append', 'new'),
              set('x-absent', 'new', 'ADD_IF_ABSENT'),
              set('x-present', 'new', 'ADD_IF_ABSENT'),
              set('x-over', 'new', 'OVERWRITE_IF_EXISTS_OR_ADD'),
              set('x-over-missing', 'new', 'OVERWRITE_IF_EXISTS_OR_ADD'),
              set('x-if-exists', 'new', 'OVERWRITE_IF_EXISTS'),
              set('x-if-exists-missing', 'new', 'OVERWRITE_IF_EXISTS'),
              set('x-readd', 'new', 'ADD_IF_ABSENT'),
              // Same level: both ADD_IF_ABSENT see the header absent, so both are added.
              set('x-twice', 'one', 'ADD_IF_ABSENT'),
              set('x-twice', 'two', 'ADD_IF_ABSENT'),
              // Same level: OVERWRITE_IF_EXISTS does not see a value added by this level.
              set('x-fresh', 'set', 'OVERWRITE_IF_EXISTS_OR_ADD'),
              set('x-fresh', 'cond', 'OVERWRITE_IF_EXISTS'),
              // Empty values are dropped unless keep_empty_value.
              set('x-empty', ''),
              { header: { key: 'x-kept-empty', value: '' }, keepEmptyValue: true },
              // Deprecated `append: false` means OVERWRITE_IF_EXISTS_OR_ADD.
              { header: { key: 'x-legacy', value: 'new' }, append: false },
            ],
          },
        ],
      },
    ],
  });
  const headers: Record<string, string | string[]> = {
    'x-drop': 'old',
    'x-readd': 'old',
    'x-append': 'old',
    'x-present': 'old',
    'x-over': ['old1', 'old2'],
    'x-if-exists': 'old',
    'x-legacy': 'old',
  };
  applyHeaderMutations(s.requestHeaderMutations, headers);
  assert.deepEqual(headers, {
    'x-readd': 'new',
    'x-append': ['old', 'new'],
    'x-absent': 'new',
    'x-present': 'old',
    'x-over': 'new',
    'x-over-missing': 'new',
    'x-if-exists': 'new',
    'x-twice': ['one', 'two'],
    'x-fresh': 'set',
    'x-kept-empty': '',
    'x-legacy': 'new',
  });
});

test('header mutation config errors: host, pseudo-headers, append with append_action', () => {
  const bad = (route: JsonValue) => () =>
    table({
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, ...(route as object) }],
        },
      ],
    });
  const pathOf = (e: unknown) => (e instanceof RouteConfigError ? e.path : '');
  assert.throws(bad({ requestHeadersToAdd: [set('Host', 'x')] }), (e) =>
    pathOf(e).endsWith('routes[0].requestHeadersToAdd[0].header.key'),
  );
  assert.throws(bad({ requestHeadersToRemove: [':path'] }), (e) =>
    pathOf(e).endsWith('routes[0].requestHeadersToRemove[0]'),
  );
  assert.throws(
    bad({
      requestHeadersToAdd: [
        { header: { key: 'a', value: 'b' }, append: true, appendAction: 'ADD_IF_ABSENT' },
      ],
    }),
    (e) => pathOf(e).endsWith('routes[0].requestHeadersToAdd[0]'),
  );
});

function redirect(redirectJson: JsonValue, match: JsonValue = { prefix: '/' }, probe = '/'): RedirectRoute {
  const config = {
    virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match, redirect: redirectJson }] }],
  };
  const s = select(config, req(probe));
  assert.equal(s.action.kind, 'redirect');
  return s.action as RedirectRoute;
}

// route_components.proto RedirectAction and Envoy's Http::Utility::newUri.
test('redirect response codes map to 301/302/303/307/308', () => {
  const codes = ['MOVED_PERMANENTLY', 'FOUND', 'SEE_OTHER', 'TEMPORARY_REDIRECT', 'PERMANENT_REDIRECT'];
  assert.deepEqual(
    codes.map((responseCode) => redirect({ responseCode }).status),
    [301, 302, 303, 307, 308],
  );
  assert.equal(redirect({}).status, 301);
});

test('redirect Location: scheme, host, port, path, prefix rewrite, query handling', () => {
  const r = (url: string, extra: Partial<RequestView> = {}) => req(url, extra);
  // https_redirect drops the default port of the forwarded protocol (x-forwarded-proto, else scheme).
  assert.equal(
    redirect({ httpsRedirect: true }).redirectLocation(r('/a?x=1', { authority: 'example.com:80' })),
    'https://example.com/a?x=1',
  );
  // A non-default port stays.
  assert.equal(
    redirect({ httpsRedirect: true }).redirectLocation(r('/a', { authority: 'example.com:8080' })),
    'https://example.com:8080/a',
  );
  // port_redirect replaces the request's port.
  assert.equal(
    redirect({ portRedirect: 8443, schemeRedirect: 'https' }).redirectLocation(
      r('/a', { authority: 'example.com:8080' }),
    ),
    'https://example.com:8443/a',
  );
  // host_redirect replaces the whole authority; the request's query is kept.
  assert.equal(
    redirect({ hostRedirect: 'new.example.com' }).redirectLocation(r('/a?x=1')),
    'http://new.example.com/a?x=1',
  );
  // path_redirect keeps the request query unless strip_query...
  assert.equal(redirect({ pathRedirect: '/b' }).redirectLocation(r('/a?x=1')), 'http://example.com/b?x=1');
  assert.equal(
    redirect({ pathRedirect: '/b', stripQuery: true }).redirectLocation(r('/a?x=1')),
    'http://example.com/b',
  );
  // ...and a query in path_redirect replaces it and is never stripped.
  assert.equal(
    redirect({ pathRedirect: '/b?y=2', stripQuery: true }).redirectLocation(r('/a?x=1')),
    'http://example.com/b?y=2',
  );
  // prefix_rewrite swaps the matched prefix.
  assert.equal(
    redirect({ prefixRewrite: '/new/' }, { prefix: '/old/' }, '/old/').redirectLocation(r('/old/x?q')),
    'http://example.com/new/x?q',
  );
  // IPv6 literal: only the port after "]:" is dropped.
  assert.equal(
    redirect({ httpsRedirect: true }).redirectLocation(r('/', { authority: '[::1]:80' })),
    'https://[::1]/',
  );
  // regex_rewrite in a redirect rewrites the path without the query.
  assert.equal(
    redirect({
      regexRewrite: { pattern: { regex: '^/u/([0-9]+)$' }, substitution: '/users/\\1' },
    }).redirectLocation(r('/u/42?v=1')),
    'http://example.com/users/42?v=1',
  );
});
