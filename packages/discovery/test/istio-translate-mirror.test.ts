/**
 * VirtualService `mirror` / `mirrors` -> RouteAction.request_mirror_policies, as istiod builds
 * them (pilot/pkg/networking/core/route/route.go applyHTTPRouteDestination, MirrorPercent,
 * MirrorPercentByPolicy, TranslateRequestMirrorPolicyCluster, GetDestinationCluster).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnyJson, REVIEWS, serviceEntry, translateYaml, vhost } from './fixtures/istio-helpers.ts';

const RV = 'reviews.default.svc.cluster.local';
const VH = `${RV}:9080`;
const RATINGS = serviceEntry('ratings', 'ratings.default.svc.cluster.local');
const MULTI = serviceEntry('multi', 'multi.default.svc.cluster.local', {
  ports: '[{ number: 9080, name: http, protocol: HTTP }, { number: 7000, name: http-alt, protocol: HTTP }]',
});

/** The reviews virtual host's routes for one http route (extra keys as YAML, 6-space indent). */
function translateRoute(fields: string) {
  const t = translateYaml(`${REVIEWS}${RATINGS}${MULTI}apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - ${fields}
      route: [{ destination: { host: reviews } }]
`);
  return { issues: t.issues, notices: t.notices, routes: vhost(t, 9080, VH).routes as AnyJson[] };
}

function mirrorsOf(fields: string): AnyJson {
  const { issues, routes } = translateRoute(fields);
  assert.deepEqual(issues, []);
  return routes[0].route.requestMirrorPolicies;
}

describe('VirtualService mirror (route.go MirrorPercent, TranslateRequestMirrorPolicy)', () => {
  it('mirror without a percentage: 100% per HUNDRED, to outbound|port||host, trace_sampled false', () => {
    assert.deepEqual(mirrorsOf('mirror: { host: ratings }'), [
      {
        cluster: 'outbound|9080||ratings.default.svc.cluster.local',
        runtimeFraction: { defaultValue: { numerator: 100 } },
        traceSampled: false,
      },
    ]);
  });

  it('mirrorPercentage: FractionalPercent per MILLION, value x 10000 truncated', () => {
    const [p] = mirrorsOf(`mirror: { host: ratings }
      mirrorPercentage: { value: 0.57 }`);
    // float64 0.57 * 10000 is 5699.999999999999; Go's uint32() conversion truncates it.
    assert.deepEqual(p.runtimeFraction, { defaultValue: { numerator: 5699, denominator: 'MILLION' } });
  });

  it('deprecated mirrorPercent: integer per HUNDRED; mirrorPercentage wins when both are set', () => {
    assert.deepEqual(
      mirrorsOf(`mirror: { host: ratings }
      mirrorPercent: 30`)[0].runtimeFraction,
      { defaultValue: { numerator: 30 } },
    );
    assert.deepEqual(
      mirrorsOf(`mirror: { host: ratings }
      mirrorPercent: 30
      mirrorPercentage: { value: 25 }`)[0].runtimeFraction,
      { defaultValue: { numerator: 250000, denominator: 'MILLION' } },
    );
  });

  it('an explicit 0% mirrors nothing: no policy at all', () => {
    assert.equal(
      mirrorsOf(`mirror: { host: ratings }
      mirrorPercentage: { value: 0 }`),
      undefined,
    );
    assert.equal(
      mirrorsOf(`mirror: { host: ratings }
      mirrorPercent: 0`),
      undefined,
    );
  });

  it('subset and port name the cluster; without a port the only port, else the listener port', () => {
    assert.equal(
      mirrorsOf('mirror: { host: reviews, subset: v2 }')[0].cluster,
      'outbound|9080|v2|reviews.default.svc.cluster.local',
    );
    assert.equal(
      mirrorsOf('mirror: { host: multi, port: { number: 7000 } }')[0].cluster,
      'outbound|7000||multi.default.svc.cluster.local',
    );
    assert.equal(
      mirrorsOf('mirror: { host: multi }')[0].cluster,
      'outbound|9080||multi.default.svc.cluster.local',
    );
  });

  it('mirrors: each with its own percentage, after `mirror`; mirrorPercentage does not apply to them', () => {
    assert.deepEqual(
      mirrorsOf(`mirror: { host: ratings }
      mirrorPercentage: { value: 50 }
      mirrors:
        - { destination: { host: reviews, subset: v3 }, percentage: { value: 10 } }
        - { destination: { host: multi, port: { number: 7000 } } }
        - { destination: { host: reviews, subset: v2 }, percentage: { value: 0 } }`).map((p: AnyJson) => [
        p.cluster,
        p.runtimeFraction.defaultValue,
      ]),
      [
        ['outbound|9080||ratings.default.svc.cluster.local', { numerator: 500000, denominator: 'MILLION' }],
        ['outbound|9080|v3|reviews.default.svc.cluster.local', { numerator: 100000, denominator: 'MILLION' }],
        ['outbound|7000||multi.default.svc.cluster.local', { numerator: 100 }],
      ],
    );
  });

  it('every match entry of the http route carries the same mirror policies', () => {
    const { issues, routes } = translateRoute(`match: [{ uri: { prefix: /a } }, { uri: { prefix: /b } }]
      mirror: { host: ratings }`);
    assert.deepEqual(issues, []);
    assert.equal(routes.length, 2);
    assert.deepEqual(routes[0].route.requestMirrorPolicies, routes[1].route.requestMirrorPolicies);
  });

  it('no mirror: no requestMirrorPolicies field', () => {
    assert.equal(mirrorsOf('timeout: 1s'), undefined);
  });

  it('an unknown mirror host, subset or port is a config error on its path, like a route destination', () => {
    const cases: [string, string, RegExp][] = [
      [
        'mirror: { host: nowhere }',
        'spec.http[0].mirror',
        /unknown host "nowhere.default.svc.cluster.local"/,
      ],
      ['mirror: { host: reviews, subset: v9 }', 'spec.http[0].mirror', /unknown subset "v9"/],
      ['mirror: { host: ratings, port: { number: 1234 } }', 'spec.http[0].mirror', /has no port 1234/],
      [
        'mirrors: [{ destination: { host: ratings }, percentage: { value: 5 } }, { destination: { host: gone } }]',
        'spec.http[0].mirrors[1].destination',
        /unknown host "gone/,
      ],
    ];
    for (const [fields, path, message] of cases) {
      const { issues } = translateRoute(fields);
      assert.equal(issues.length, 1, fields);
      assert.equal(issues[0]!.path, path);
      assert.match(issues[0]!.message, message);
    }
  });

  it('mirror is no longer reported as not enforced', () => {
    const { notices } = translateRoute('mirror: { host: ratings }');
    assert.deepEqual(
      notices.filter((n) => /not enforced/.test(n.message)),
      [],
    );
  });
});
