/**
 * A route's fault config (typed_per_filter_config["envoy.filters.http.fault"]) is compiled with the
 * route table: on every action kind (Envoy's fault filter runs before the router, so before its
 * redirects and direct responses too), the route's config over the virtual host's (Envoy's most
 * specific per-filter config), and a bad or unsupported config is a route issue with its path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { RouteConfigurationSchema, xdsRegistry } from '@dabba/discovery';
import type { RouteSelection } from '../../src/route/index.ts';
import { compileRouteTable, RouteConfigError } from './helpers.ts';

const FAULT = 'envoy.filters.http.fault';
const TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

function table(json: JsonValue) {
  return compileRouteTable(fromJson(RouteConfigurationSchema, json, { registry: xdsRegistry }));
}

function select(json: JsonValue, path = '/'): RouteSelection {
  const s = table(json).select({
    method: 'GET',
    scheme: 'http',
    authority: 'example.com',
    path,
    query: '',
    headers: {},
  });
  assert.ok(s !== undefined);
  return s;
}

const abort503 = { '@type': TYPE, abort: { httpStatus: 503, percentage: { numerator: 100 } } };
const delay2s = {
  '@type': TYPE,
  delay: { fixedDelay: '2s', percentage: { numerator: 50, denominator: 'MILLION' } },
};

function config(routes: JsonValue[], vhostFault?: JsonValue): JsonValue {
  return {
    name: 'rc',
    virtualHosts: [
      {
        name: 'vh',
        domains: ['*'],
        routes,
        ...(vhostFault === undefined ? {} : { typedPerFilterConfig: { [FAULT]: vhostFault } }),
      },
    ],
  };
}

test('forwarding, redirect and direct-response routes all carry their compiled fault', () => {
  const rc = config([
    { match: { path: '/cluster' }, route: { cluster: 'c' }, typedPerFilterConfig: { [FAULT]: abort503 } },
    {
      match: { path: '/redirect' },
      redirect: { pathRedirect: '/x' },
      typedPerFilterConfig: { [FAULT]: abort503 },
    },
    {
      match: { path: '/direct' },
      directResponse: { status: 200 },
      typedPerFilterConfig: { [FAULT]: delay2s },
    },
    { match: { prefix: '/' }, route: { cluster: 'c' } },
  ]);
  for (const p of ['/cluster', '/redirect']) {
    const f = select(rc, p).action.fault;
    assert.equal(f?.abort?.httpStatus, 503, p);
    assert.deepEqual(f?.abort?.percentage, { numerator: 100, denominator: 100 });
  }
  const d = select(rc, '/direct').action.fault;
  assert.equal(d?.delay?.fixedDelayMs, 2000);
  assert.deepEqual(d?.delay?.percentage, { numerator: 50, denominator: 1_000_000 });
  assert.equal(select(rc, '/other').action.fault, undefined);
});

test('the route’s config wins over the virtual host’s, which applies to routes without one', () => {
  const rc = config(
    [
      { match: { path: '/own' }, route: { cluster: 'c' }, typedPerFilterConfig: { [FAULT]: delay2s } },
      { match: { prefix: '/' }, route: { cluster: 'c' } },
    ],
    abort503,
  );
  const own = select(rc, '/own').action.fault;
  assert.equal(own?.abort, undefined);
  assert.equal(own?.delay?.fixedDelayMs, 2000);
  assert.equal(select(rc, '/').action.fault?.abort?.httpStatus, 503);
});

test('an empty HTTPFault (istiod’s when nothing translatable is left) injects nothing', () => {
  const rc = config([
    { match: { prefix: '/' }, route: { cluster: 'c' }, typedPerFilterConfig: { [FAULT]: { '@type': TYPE } } },
  ]);
  assert.equal(select(rc).action.fault, undefined);
});

test('a config of another type, header matchers and max_active_faults are route issues with their path', () => {
  const bad = (fault: JsonValue) =>
    config([{ match: { prefix: '/' }, route: { cluster: 'c' }, typedPerFilterConfig: { [FAULT]: fault } }]);
  const base = `virtualHosts[0].routes[0].typedPerFilterConfig["${FAULT}"]`;
  const cases: [JsonValue, string][] = [
    [{ '@type': 'type.googleapis.com/google.protobuf.Duration', value: '1s' }, base],
    [{ ...abort503, headers: [{ name: 'x-test', presentMatch: true }] }, `${base}.headers`],
    [{ ...abort503, maxActiveFaults: 10 }, `${base}.maxActiveFaults`],
  ];
  for (const [fault, path] of cases) {
    assert.throws(
      () => table(bad(fault)),
      (err: unknown) => err instanceof RouteConfigError && err.issues.some((i) => i.path === path),
      path,
    );
  }
});
