import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import {
  type RouteConfiguration,
  type RouteConfigurationModel,
  RouteConfigurationSchema,
} from '@dabba/discovery';
import { compileRouteMatch, MatchContext, type RequestView } from '../../src/route/match/index.ts';
import { mulberry32 } from '../lb/mulberry32.ts';
import { compileRouteTable, decodeRoutes } from './helpers.ts';

// The route table indexes routes by path, but must pick exactly what Envoy's in-order scan picks
// (route_matching docs: routes are "checked, in order"; first match wins). This compares the
// table against a plain linear scan over many random tables and requests. The alphabet is small
// on purpose so that prefixes, partial segments, exact paths and regexes collide often.

const SEGMENTS = ['a', 'b', 'ab', 'api', 'v1', 'A', ''];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

function randomPath(rnd: () => number): string {
  const n = Math.floor(rnd() * 4);
  let p = '';
  for (let i = 0; i < n; i++) p += `/${pick(rnd, SEGMENTS)}`;
  if (rnd() < 0.2) p += '/';
  if (rnd() < 0.05) p = p.slice(1); // no leading slash
  return p;
}

function randomMatch(rnd: () => number): Record<string, JsonValue> {
  const path = randomPath(rnd);
  const r = rnd();
  let m: Record<string, JsonValue>;
  if (r < 0.3) m = { path: path === '' ? '/' : path };
  else if (r < 0.6) m = { prefix: rnd() < 0.3 ? path.slice(0, Math.max(0, path.length - 1)) : path };
  else if (r < 0.75)
    m = { pathSeparatedPrefix: `/${pick(rnd, ['a', 'ab', 'api'])}${rnd() < 0.5 ? '/v1' : ''}` };
  else if (r < 0.85) m = { safeRegex: { regex: pick(rnd, ['/a.*', '/(api|b)/v1', '.*b', '/[aA]b?']) } };
  else m = { prefix: rnd() < 0.5 ? '' : '/' };
  if (rnd() < 0.15) m.caseSensitive = false;
  if (rnd() < 0.2) m.headers = [{ name: 'x-h', stringMatch: { exact: '1' } }];
  if (rnd() < 0.05) m.queryParameters = [{ name: 'q', presentMatch: true }];
  return m;
}

function randomConfig(rnd: () => number): RouteConfiguration {
  const n = 1 + Math.floor(rnd() * 40);
  const routes: JsonValue[] = [];
  for (let i = 0; i < n; i++)
    routes.push({ name: `r${i}`, match: randomMatch(rnd), route: { cluster: `c${i}` } });
  return fromJson(RouteConfigurationSchema, {
    name: 'rc',
    virtualHosts: [
      { name: 'vh', domains: ['*'], routes },
      { name: 'other', domains: ['other'], routes: [{ match: { prefix: '' }, route: { cluster: 'x' } }] },
    ],
  });
}

function linearScan(config: RouteConfigurationModel, ctx: MatchContext): number | undefined {
  // Only the first virtual host is used by the requests below (authority "reviews").
  const vhost = config.virtualHosts[0]!;
  for (let i = 0; i < vhost.routes.length; i++) {
    const match = compileRouteMatch(vhost.routes[i]!.match);
    if (match(ctx)) return i;
  }
  return undefined;
}

test('indexed selection equals a linear first-match scan (1,500 random tables x 80 requests)', () => {
  const rnd = mulberry32(20_240_601);
  let compared = 0;
  let matched = 0;
  for (let t = 0; t < 1500; t++) {
    const config = randomConfig(rnd);
    const table = compileRouteTable(config);
    const decoded = decodeRoutes(config);
    for (let k = 0; k < 80; k++) {
      let path = randomPath(rnd);
      if (rnd() < 0.2) path = path.toUpperCase();
      const view: RequestView = {
        method: 'GET',
        scheme: 'http',
        authority: 'reviews',
        path,
        query: rnd() < 0.1 ? 'q=1' : '',
        headers: rnd() < 0.5 ? { 'x-h': '1' } : {},
      };
      // One fixed random value per request, so both sides see the same runtime draw.
      const expected = linearScan(decoded, new MatchContext(view, () => 7));
      const got = table.select(view, new MatchContext(view, () => 7));
      assert.equal(got?.route.index, expected, `table ${t}, path ${JSON.stringify(path)}`);
      compared++;
      if (expected !== undefined) matched++;
    }
  }
  // The generator must exercise both outcomes, or the comparison proves little.
  assert.equal(compared, 120_000);
  assert.ok(matched > compared * 0.3 && matched < compared * 0.95, `matched ${matched}`);
});

test('large table: 200 prefix routes plus catch-all still pick in order', () => {
  const routes: JsonValue[] = [];
  for (let i = 0; i < 200; i++)
    routes.push({ name: `r${i}`, match: { prefix: `/api/v1/svc${i}/` }, route: { cluster: `c${i}` } });
  routes.splice(100, 0, { name: 'shadow', match: { prefix: '/api/v1/svc15' }, route: { cluster: 'shadow' } });
  routes.push({ name: 'default', match: { prefix: '/' }, route: { cluster: 'default' } });
  const table = compileRouteTable(
    fromJson(RouteConfigurationSchema, { virtualHosts: [{ name: 'vh', domains: ['*'], routes }] }),
  );
  const at = (path: string) =>
    table.select({ method: 'GET', scheme: 'http', authority: 'h', path, query: '', headers: {} })?.route.name;
  assert.equal(at('/api/v1/svc7/x'), 'r7');
  assert.equal(at('/api/v1/svc15/x'), 'r15');
  // "/api/v1/svc150/x" does not match r15's "/api/v1/svc15/" but does match the earlier "shadow".
  assert.equal(at('/api/v1/svc150/x'), 'shadow');
  assert.equal(at('/api/v1/svc199/x'), 'r199');
  assert.equal(at('/api/v2/x'), 'default');
});
