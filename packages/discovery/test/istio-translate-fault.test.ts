/**
 * VirtualService `fault` -> the route's typed_per_filter_config["envoy.filters.http.fault"], as
 * istiod builds it (pilot/pkg/networking/core/route/route.go translateRoute, TranslateFault,
 * translatePercentToFractionalPercent, translateIntegerToFractionalPercent) and as its validation
 * webhook checks it (pkg/config/validation validateHTTPFaultInjectionDelay/Abort).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentToFraction } from '../src/istio/translate-fault.ts';
import { type AnyJson, REVIEWS, translateYaml, vhost } from './fixtures/istio-helpers.ts';

const RV = 'reviews.default.svc.cluster.local';
const VH = `${RV}:9080`;
const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

function vs(http: string): string {
  return `${REVIEWS}apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
${http}`;
}

/** The routes of the reviews virtual host for one http route with `fault` (YAML flow map). */
function translateFault(fault: string, match = '') {
  const t = translateYaml(
    vs(`    - ${match}fault: ${fault}
      route: [{ destination: { host: reviews } }]`),
  );
  return { issues: t.issues, routes: vhost(t, 9080, VH).routes as AnyJson[] };
}

function faultOf(fault: string): AnyJson {
  const { issues, routes } = translateFault(fault);
  assert.deepEqual(issues, []);
  return routes[0].typedPerFilterConfig?.['envoy.filters.http.fault'];
}

describe('TranslateFault (route.go)', () => {
  it('fixed delay with percentage: FractionalPercent per MILLION, value x 10000', () => {
    assert.deepEqual(faultOf('{ delay: { fixedDelay: 5s, percentage: { value: 10 } } }'), {
      '@type': FAULT_TYPE,
      delay: { fixedDelay: '5s', percentage: { numerator: 100000, denominator: 'MILLION' } },
    });
  });

  it('deprecated integer percent: FractionalPercent per HUNDRED (the JSON default denominator)', () => {
    assert.deepEqual(faultOf('{ delay: { fixedDelay: 0.5s, percent: 30 } }'), {
      '@type': FAULT_TYPE,
      delay: { fixedDelay: '0.500s', percentage: { numerator: 30 } },
    });
  });

  it('percentage wins over the deprecated percent', () => {
    const f = faultOf('{ delay: { fixedDelay: 1s, percent: 30, percentage: { value: 0.5 } } }');
    assert.deepEqual(f.delay.percentage, { numerator: 5000, denominator: 'MILLION' });
  });

  it('a delay without any percentage delays nothing: numerator 0 per HUNDRED, still present', () => {
    assert.deepEqual(faultOf('{ delay: { fixedDelay: 2s } }'), {
      '@type': FAULT_TYPE,
      delay: { fixedDelay: '2s', percentage: {} },
    });
  });

  it('HTTP abort with percentage', () => {
    assert.deepEqual(faultOf('{ abort: { httpStatus: 503, percentage: { value: 100 } } }'), {
      '@type': FAULT_TYPE,
      abort: { httpStatus: 503, percentage: { numerator: 1000000, denominator: 'MILLION' } },
    });
  });

  it('an abort without percentage has none (Envoy reads it as 0%)', () => {
    assert.deepEqual(faultOf('{ abort: { httpStatus: 500 } }'), {
      '@type': FAULT_TYPE,
      abort: { httpStatus: 500 },
    });
  });

  it('gRPC abort: the status name becomes its code (istio pkg/util/grpc SupportedGRPCStatus)', () => {
    const f = faultOf('{ abort: { grpcStatus: UNAVAILABLE, percentage: { value: 25 } } }');
    assert.deepEqual(f.abort, { grpcStatus: 14, percentage: { numerator: 250000, denominator: 'MILLION' } });
  });

  it('delay and abort together are both kept, independent of each other', () => {
    const f = faultOf(
      '{ delay: { fixedDelay: 7s, percentage: { value: 50 } }, abort: { httpStatus: 418, percentage: { value: 1 } } }',
    );
    assert.deepEqual(f.delay, {
      fixedDelay: '7s',
      percentage: { numerator: 500000, denominator: 'MILLION' },
    });
    assert.deepEqual(f.abort, { httpStatus: 418, percentage: { numerator: 10000, denominator: 'MILLION' } });
  });

  it('every route of the http route (one per match entry) carries the fault', () => {
    const { issues, routes } = translateFault(
      '{ abort: { httpStatus: 503, percentage: { value: 5 } } }',
      'match: [{ uri: { prefix: /a } }, { uri: { prefix: /b } }]\n      ',
    );
    assert.deepEqual(issues, []);
    assert.equal(routes.length, 2);
    for (const r of routes)
      assert.equal(r.typedPerFilterConfig['envoy.filters.http.fault'].abort.httpStatus, 503);
  });

  it('routes without fault have no typed_per_filter_config', () => {
    const t = translateYaml(vs('    - route: [{ destination: { host: reviews } }]'));
    assert.equal(vhost(t, 9080, VH).routes[0].typedPerFilterConfig, undefined);
  });
});

describe('percent conversion truncates like Go uint32(p * 10000)', () => {
  for (const [value, numerator] of [
    [0, 0],
    [0.0001, 1],
    [0.1, 1000],
    [0.57, 5699], // 0.57 * 10000 = 5699.999999999999 in float64; Go truncates it
    [33.3333, 333333],
    [100, 1_000_000],
  ] as const) {
    it(`${value}% -> ${numerator} per million`, () => {
      assert.equal(percentToFraction(value).numerator, numerator);
    });
  }
});

describe('what istiod validation rejects is an issue', () => {
  const cases: [string, string, string][] = [
    [
      '{ delay: { exponentialDelay: 1s, percentage: { value: 5 } } }',
      'fault.delay.exponentialDelay',
      'exponentialDelay',
    ],
    ['{ abort: { http2Error: REFUSED_STREAM } }', 'fault.abort.http2Error', 'HTTP/2'],
    ['{ abort: { grpcStatus: NOPE } }', 'fault.abort.grpcStatus', 'NOPE'],
    ['{}', 'fault', 'abort and/or a delay'],
  ];
  for (const [fault, path, text] of cases) {
    it(`${fault} -> ${path}`, () => {
      const { issues } = translateFault(fault);
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.match(issues[0]!.path, new RegExp(`spec\\.http\\[0\\]\\.${path.replaceAll('.', '\\.')}$`));
      assert.ok(issues[0]!.message.includes(text), issues[0]!.message);
    });
  }

  it('an abort with no error type is kept as an empty HTTPFault, as istiod packs a nil message', () => {
    const { issues, routes } = translateFault('{ abort: { percentage: { value: 50 } } }');
    assert.deepEqual(issues, []);
    assert.deepEqual(routes[0].typedPerFilterConfig['envoy.filters.http.fault'], { '@type': FAULT_TYPE });
  });
});
