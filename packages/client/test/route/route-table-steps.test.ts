import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '@dabba/discovery';
import type { RequestView } from '../../src/route/match/index.ts';
import type { RouteTable } from '../../src/route/route-table.ts';
import { compileRouteTable, compileRouteTableSteps, RouteConfigError } from './helpers.ts';

const HOSTS = 50;
const ROUTES = 100;

/** HOSTS virtual hosts; the first has ROUTES exact-path routes, the others a prefix route each. */
function configJson(): Record<string, JsonValue> {
  const virtualHosts: JsonValue[] = [];
  for (let v = 0; v < HOSTS; v++) {
    const routes: JsonValue[] =
      v === 0
        ? Array.from({ length: ROUTES }, (_, r) => ({
            name: `r${r}`,
            match: { path: `/p/${r}` },
            route: { cluster: `c${r}` },
          }))
        : [{ name: 'all', match: { prefix: '/' }, route: { cluster: `svc-${v}` } }];
    virtualHosts.push({ name: `vh${v}`, domains: [`svc-${v}`, `svc-${v}:80`], routes });
  }
  return { name: 'big', virtualHosts };
}

function run(steps: Generator<void, RouteTable, void>): { table: RouteTable; yields: number } {
  let yields = 0;
  let step = steps.next();
  while (!step.done) {
    yields++;
    step = steps.next();
  }
  return { table: step.value, yields };
}

function req(authority: string, path: string): RequestView {
  return { method: 'GET', scheme: 'http', authority, path, query: '', headers: {} };
}

test('compileRouteTableSteps yields inside a large configuration and builds the same table', () => {
  const config = fromJson(RouteConfigurationSchema, configJson());
  const { table, yields } = run(compileRouteTableSteps(config));
  // At least once per virtual host, and more within the host that has many routes.
  assert.ok(yields > HOSTS + 1, `${yields} yields`);
  const whole = compileRouteTable(config);
  const requests = [
    req('svc-0', '/p/0'),
    req('svc-0', '/p/57'),
    req('svc-0', '/p/100'),
    req('svc-1', '/'),
    req('svc-49:80', '/x'),
    req('SVC-7', '/y'),
    req('nope', '/'),
  ];
  for (const r of requests) {
    const a = table.select(r);
    const b = whole.select(r);
    assert.deepEqual(a && [a.virtualHost, a.route, a.action], b && [b.virtualHost, b.route, b.action]);
  }
  assert.equal(table.select(req('svc-0', '/p/57'))?.route.name, 'r57');
});

test('compileRouteTableSteps reports every problem at the end, as compileRouteTable does', () => {
  const json = configJson();
  const hosts = json.virtualHosts as Record<string, JsonValue>[];
  (hosts[1] as Record<string, JsonValue>).routes = [
    { match: { safeRegex: { regex: '(' } }, route: { cluster: 'x' } },
  ];
  (hosts[HOSTS - 1] as Record<string, JsonValue>).domains = ['svc-2'];
  const config = fromJson(RouteConfigurationSchema, json);
  const steps = compileRouteTableSteps(config);
  let yields = 0;
  let error: unknown;
  try {
    while (!steps.next().done) yields++;
  } catch (err) {
    error = err;
  }
  assert.ok(yields > HOSTS, 'the problem in the second host does not stop the compile');
  assert.ok(error instanceof RouteConfigError);
  assert.deepEqual(
    error.issues.map((i) => i.path),
    ['virtualHosts[1].routes[0].match.safeRegex.regex', `virtualHosts[${HOSTS - 1}].domains[0]`],
  );
  assert.throws(() => compileRouteTable(config), { name: 'RouteConfigError', issues: error.issues });
});
