import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteMatch } from '../../src/route/match/index.ts';
import { compileRouteMatch } from './checked-matchers.ts';
import { ctx } from './helpers.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';

// route_components.proto RouteMatch; router/config_impl.cc *RouteEntryImpl::matches and
// common/matchers.cc PathMatcher::match (path compared without query string and fragment).
const cases: [string, RouteMatch, string, boolean][] = [
  ['prefix "" matches everything', { prefix: '' }, '/anything', true],
  ['prefix "/" matches every absolute path', { prefix: '/' }, '/a/b', true],
  ['prefix /api matches /api/v1', { prefix: '/api' }, '/api/v1', true],
  ['prefix /api matches /apiv2 (plain prefix)', { prefix: '/api' }, '/apiv2', true],
  ['prefix is case sensitive by default', { prefix: '/API' }, '/api', false],
  ['prefix case_sensitive false', { prefix: '/API', caseSensitive: false }, '/api/x', true],
  ['prefix ignores the query string', { prefix: '/a?x' }, '/a?x=1', false],
  ['path exact', { path: '/api' }, '/api', true],
  ['path ignores the query string', { path: '/api' }, '/api?x=1', true],
  ['path exact does not match a longer path', { path: '/api' }, '/api/', false],
  ['path case_sensitive false', { path: '/Api', caseSensitive: false }, '/aPI', true],
  // safe_regex must match the whole path: "/api" must NOT match "/api/v1".
  ['safe_regex full match', { safeRegex: { regex: '/api' } }, '/api', true],
  ['safe_regex is not a search', { safeRegex: { regex: '/api' } }, '/api/v1', false],
  [
    'safe_regex ignores the query string',
    { safeRegex: { regex: '/products/\\d+' } },
    '/products/12?x=1',
    true,
  ],
  // case_sensitive: "Ignored for safe_regex matching".
  [
    'safe_regex ignores case_sensitive',
    { safeRegex: { regex: '/api' }, caseSensitive: false },
    '/API',
    false,
  ],
  // path_separated_prefix doc: "/api/dev would match /api/dev, /api/dev/, /api/dev/v1, and
  // /api/dev?param=true but would not match /api/developer".
  ['path_separated_prefix exact', { pathSeparatedPrefix: '/api/dev' }, '/api/dev', true],
  ['path_separated_prefix trailing slash', { pathSeparatedPrefix: '/api/dev' }, '/api/dev/', true],
  ['path_separated_prefix child', { pathSeparatedPrefix: '/api/dev' }, '/api/dev/v1', true],
  ['path_separated_prefix with query', { pathSeparatedPrefix: '/api/dev' }, '/api/dev?param=true', true],
  ['path_separated_prefix not /api/developer', { pathSeparatedPrefix: '/api/dev' }, '/api/developer', false],
  ['path_separated_prefix shorter path', { pathSeparatedPrefix: '/api/dev' }, '/api', false],
  [
    'path_separated_prefix case_sensitive false',
    { pathSeparatedPrefix: '/API', caseSensitive: false },
    '/api/x',
    true,
  ],
  ['path_separated_prefix case sensitive', { pathSeparatedPrefix: '/API' }, '/api/x', false],
];

for (const [name, match, url, want] of cases) {
  test(`route_components.proto RouteMatch: ${name}`, () => {
    assert.equal(compileRouteMatch(match, 'm')(ctx(url)), want);
  });
}

test('route_components.proto RouteMatch: headers and query parameters must all match', () => {
  const m = compileRouteMatch(
    {
      prefix: '/',
      headers: [
        { name: 'x-v', exactMatch: 'v2' },
        { name: ':method', exactMatch: 'GET' },
      ],
      queryParameters: [{ name: 'debug', presentMatch: true }],
    },
    'm',
  );
  assert.equal(m(ctx('/a?debug', { 'x-v': 'v2' })), true);
  assert.equal(m(ctx('/a', { 'x-v': 'v2' })), false);
  assert.equal(m(ctx('/a?debug', { 'x-v': 'v1' })), false);
  assert.equal(m(ctx('/a?debug', { 'x-v': 'v2' }, { method: 'POST' })), false);
});

// runtime_fraction: N/D matches when random % D < N (ProtobufPercentHelper); Envoy passes one
// random value per stream to every route.
test('route_components.proto RouteMatch: runtime_fraction uses the request random value', () => {
  const m = compileRouteMatch(
    { prefix: '/', runtimeFraction: { defaultValue: { numerator: 25, denominator: 'HUNDRED' } } },
    'm',
  );
  assert.equal(m(ctx('/', {}, { random: () => 124 })), true); // 24 < 25
  assert.equal(m(ctx('/', {}, { random: () => 125 })), false); // 25
  const permille = compileRouteMatch(
    { prefix: '/', runtimeFraction: { defaultValue: { numerator: 1, denominator: 'MILLION' } } },
    'm',
  );
  assert.equal(permille(ctx('/', {}, { random: () => 2_000_000 })), true);
  assert.equal(permille(ctx('/', {}, { random: () => 2_000_001 })), false);
  const everything = compileRouteMatch(
    { prefix: '/', runtimeFraction: { defaultValue: { numerator: 200 } } },
    'm',
  );
  assert.equal(everything(ctx('/', {}, { random: () => 99 })), true);
  const nothing = compileRouteMatch({ prefix: '/', runtimeFraction: {} }, 'm');
  assert.equal(nothing(ctx('/', {}, { random: () => 0 })), false);
});

test('route_components.proto RouteMatch: one random draw per request, shared by routes', () => {
  let draws = 0;
  const c = ctx('/', {}, { random: () => ++draws * 10 + 40 }); // first draw: 50
  const a = compileRouteMatch({ prefix: '/', runtimeFraction: { defaultValue: { numerator: 50 } } }, 'a');
  const b = compileRouteMatch({ prefix: '/', runtimeFraction: { defaultValue: { numerator: 50 } } }, 'b');
  assert.equal(a(c), false);
  assert.equal(b(c), false);
  assert.equal(draws, 1);
});

test('route_components.proto RouteMatch: grpc matches only gRPC content types', () => {
  const m = compileRouteMatch({ prefix: '/', grpc: {} }, 'm');
  assert.equal(m(ctx('/', { 'content-type': 'application/grpc' })), true);
  assert.equal(m(ctx('/', { 'content-type': 'application/grpc+proto' })), true);
  assert.equal(m(ctx('/', { 'content-type': 'application/grpc-web' })), false);
  assert.equal(m(ctx('/', {})), false);
});

const invalid: [string, RouteMatch, string][] = [
  ['no path specifier', {}, 'm'],
  ['two path specifiers', { prefix: '/', path: '/' }, 'm'],
  ['path_separated_prefix ending in /', { pathSeparatedPrefix: '/api/' }, 'm.pathSeparatedPrefix'],
  ['path_separated_prefix with ?', { pathSeparatedPrefix: '/api?x' }, 'm.pathSeparatedPrefix'],
  ['RE2 rejects backreference in path', { safeRegex: { regex: '/(a)\\1' } }, 'm.safeRegex.regex'],
  ['RE2 rejects lookahead in path', { safeRegex: { regex: '/a(?=b)' } }, 'm.safeRegex.regex'],
  [
    'bad header regex names its index',
    { prefix: '/', headers: [{ name: 'a' }, { name: 'x', safeRegexMatch: { regex: '(' } }] },
    'm.headers[1].safeRegexMatch.regex',
  ],
  [
    'bad query matcher names its index',
    { prefix: '/', queryParameters: [{ name: '' }] },
    'm.queryParameters[0].name',
  ],
];
for (const [name, match, path] of invalid) {
  test(`route_components.proto RouteMatch config error: ${name}`, () => {
    assert.throws(
      () => compileRouteMatch(match, 'm'),
      (e: unknown) =>
        e instanceof MatcherCompileError && e.code === 'DABBA_CONFIG_INVALID' && e.path === path,
    );
  });
}
