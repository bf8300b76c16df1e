/**
 * Values istiod refuses when a resource is created are refused here too, with istiod's words:
 * host names (pkg/config/validation/agent/validation.go ValidateWildcardDomain, the
 * VirtualService, ServiceEntry and destination host rules of pkg/config/validation/
 * validation.go), durations (agent.ValidateDuration: at least 1 ms, whole milliseconds, no upper
 * bound), and weights Envoy would refuse (a weighted-cluster sum past a uint32).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateGatewayBoundDomain, validateWildcardDomain } from '../src/istio/host-name-validation.ts';
import { parseIstioYaml } from '../src/istio/parse-istio-yaml.ts';
import { parseDurationMs } from '../src/istio/schema-common.ts';
import { REVIEWS, translateYaml } from './fixtures/istio-helpers.ts';

const vs = (spec: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
${spec}`;

const issuesOf = (text: string) =>
  parseIstioYaml('f.yaml', text).issues.map((i) => `${i.path}: ${i.message}`);

describe('host names as istiod validates them', () => {
  const cases: [string, string | undefined][] = [
    ['reviews', undefined],
    ['reviews.default.svc.cluster.local', undefined],
    ['istio.io.', undefined],
    ['*', undefined],
    ['*.example.com', undefined],
    ['*-foo.example.com', undefined],
    ['*foo.example.com', undefined],
    ['UPPER.example.com', undefined],
    ['bad host', 'domain name "bad host" invalid (label "bad host" invalid)'],
    ['nul\u0000.example.com', 'domain name "nul\\u0000.example.com" invalid (label "nul\\u0000" invalid)'],
    // istiod checks the labels after the first as a name of their own, and names that part.
    ['a..b', 'domain name ".b" invalid (label "" invalid)'],
    ['-a.example.com', 'domain name "-a.example.com" invalid (label "-a" invalid)'],
    ['a.*.example.com', 'domain name "*.example.com" invalid (label "*" invalid)'],
    ['example.123', 'domain name "123" invalid (top level domain "123" cannot be all-numeric)'],
    ['example.-1', 'domain name "-1" invalid (top level domain "-1" cannot be all-numeric)'],
    // Go's strconv.Atoi fails past int64, so istiod reads this top-level domain as a label.
    ['example.99999999999999999999', undefined],
    ['', 'empty domain name not allowed'],
    [
      `${'a'.repeat(64)}.com`,
      `domain name "${'a'.repeat(64)}.com" invalid (label "${'a'.repeat(64)}" invalid)`,
    ],
    [`${'a.'.repeat(128)}com`, `domain name "${'a.'.repeat(128)}com" too long (max 255)`],
  ];
  for (const [host, expected] of cases) {
    it(`ValidateWildcardDomain(${JSON.stringify(host)}) -> ${expected ?? 'valid'}`, () => {
      assert.equal(validateWildcardDomain(host), expected);
    });
  }

  it('regression: a VirtualService host with a space or a NUL is refused with its path', () => {
    assert.deepEqual(
      issuesOf(
        vs('  hosts: ["reviews", "bad host"]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n'),
      ),
      ['spec.hosts[1]: domain name "bad host" invalid (label "bad host" invalid)'],
    );
    assert.equal(
      issuesOf(vs('  hosts: ["re\\0views"]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n'))
        .length,
      1,
    );
  });

  it('accepts an IP address as a VirtualService host, refuses * for the mesh but not for a gateway', () => {
    const route = '  http: [{ route: [{ destination: { host: reviews } }] }]\n';
    assert.deepEqual(issuesOf(vs(`  hosts: ["10.0.0.1", "::1"]\n${route}`)), []);
    assert.deepEqual(issuesOf(vs(`  hosts: ["*"]\n${route}`)), [
      'spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway',
    ]);
    assert.deepEqual(issuesOf(vs(`  hosts: ["*"]\n  gateways: [istio-system/ingress]\n${route}`)), []);
    assert.equal(issuesOf(vs(`  hosts: ["*"]\n  gateways: [mesh, ingress]\n${route}`)).length, 1);
  });

  it('gateway-bound hosts: the outbound_ SNI form only with tls sniHosts (istiod TestValidateWildcardDomainForVirtualServiceBoundToGateway)', () => {
    const cases: [boolean, string, string | undefined][] = [
      [false, '', 'empty domain name not allowed'],
      [false, 'x'.repeat(256), `domain name "${'x'.repeat(256)}" too long (max 255)`],
      [false, '*foo.bar.com', undefined],
      [false, 'foo.*.com', 'domain name "*.com" invalid (label "*" invalid)'],
      [true, 'outbound_.80_._.e2e.foobar.mesh', undefined],
      [true, 'outbound.com', undefined],
      [
        true,
        'neverbound_.80_._.e2e.foobar.mesh',
        'domain name "neverbound_.80_._.e2e.foobar.mesh" invalid (label "neverbound_" invalid)',
      ],
      [
        true,
        'outbound_.thisIsNotAPort_._.e2e.foobar.mesh',
        'domain name "outbound_.thisIsNotAPort_._.e2e.foobar.mesh" invalid (label "thisIsNotAPort" invalid). should follow outbound_.<PORT>_._.<HOSTNAME> format',
      ],
      [
        true,
        'outbound_.80',
        "domain name outbound_.80 invalid, should follow 'outbound_.<PORT>_._.<HOSTNAME>' format",
      ],
      [
        true,
        // Go's strings.Split keeps the trailing empty part: four parts, an empty host name.
        'outbound_.80_._',
        'domain name "outbound_.80_._" invalid (label "" invalid). should follow outbound_.<PORT>_._.<HOSTNAME> format',
      ],
      [
        false,
        'outbound_.80_._.e2e.foobar.mesh',
        'domain name "outbound_.80_._.e2e.foobar.mesh" invalid (label "outbound_" invalid)',
      ],
    ];
    for (const [sni, host, expected] of cases)
      assert.equal(validateGatewayBoundDomain(sni, host), expected, `${sni} ${host}`);
    const tlsRoute =
      '  tls: [{ match: [{ sniHosts: [a.example.com] }], route: [{ destination: { host: reviews } }] }]\n';
    const sniHost = 'outbound_.9080_._.reviews.default.svc.cluster.local';
    assert.deepEqual(issuesOf(vs(`  hosts: ["${sniHost}"]\n  gateways: [ingress]\n${tlsRoute}`)), []);
    assert.equal(issuesOf(vs(`  hosts: ["${sniHost}"]\n${tlsRoute}`)).length, 1, 'not on the mesh');
    assert.equal(
      issuesOf(
        vs(
          `  hosts: ["${sniHost}"]\n  gateways: [ingress]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n`,
        ),
      ).length,
      1,
      'not without sniHosts',
    );
  });

  it('refuses * as a route destination, as a ServiceEntry host and a bad DestinationRule host', () => {
    assert.deepEqual(
      issuesOf(vs('  hosts: [reviews]\n  http: [{ route: [{ destination: { host: "*" } }] }]\n')),
      ['spec.http[0].route[0].destination.host: invalid destination host *'],
    );
    const se = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: any }
spec:
  hosts: ["*", "ok.example.com", "no way.example.com"]
  ports: [{ number: 80, name: http, protocol: HTTP }]
`;
    assert.deepEqual(issuesOf(se), [
      'spec.hosts[0]: invalid host *',
      'spec.hosts[2]: domain name "no way.example.com" invalid (label "no way" invalid)',
    ]);
    const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: r }
spec:
  host: "reviews\\n.example.com"
`;
    assert.equal(issuesOf(dr).length, 1);
  });
});

describe('durations as istiod validates them', () => {
  const route = (extra: string) =>
    vs(`  hosts: [reviews]\n  http:\n    - route: [{ destination: { host: reviews } }]\n${extra}`);

  it('refuses 0s and sub-millisecond timeouts with istiod words (ValidateDuration)', () => {
    assert.deepEqual(issuesOf(route('      timeout: 0s\n')), [
      'spec.http[0].timeout: duration must be greater than 1ms',
    ]);
    assert.deepEqual(issuesOf(route('      timeout: 1.5ms\n')), [
      'spec.http[0].timeout: only durations to ms precision are supported',
    ]);
    assert.deepEqual(issuesOf(route('      retries: { attempts: 2, perTryTimeout: 500us }\n')), [
      'spec.http[0].retries.perTryTimeout: duration must be greater than 1ms',
    ]);
    assert.deepEqual(
      issuesOf(route('      fault: { delay: { fixedDelay: 0s, percentage: { value: 1 } } }\n')),
      ['spec.http[0].fault.delay.fixedDelay: duration must be greater than 1ms'],
    );
  });

  it('regression: decimal fractions are whole milliseconds when they are (1.001s, 0.3s, 2.1s were refused in floating point)', () => {
    for (const text of ['1.001s', '0.3s', '2.1s', '0.007s', '1.000000000s', '1m0.001s'])
      assert.deepEqual(issuesOf(route(`      timeout: ${text}\n`)), [], text);
    assert.equal(parseDurationMs('1.001s'), 1001);
    assert.equal(parseDurationMs('0.3s'), 300);
    assert.equal(parseDurationMs('1.0005s'), 1000.5);
    assert.deepEqual(issuesOf(route('      timeout: 1.0005s\n')), [
      'spec.http[0].timeout: only durations to ms precision are supported',
    ]);
  });

  it('accepts long durations istiod accepts (600h), refuses what a protobuf Duration cannot hold', () => {
    assert.deepEqual(issuesOf(route('      timeout: 600h\n')), []);
    assert.deepEqual(issuesOf(route('      timeout: 87660000h\n')), []); // about 10,000 years
    assert.deepEqual(issuesOf(route('      timeout: 87660001h\n')), [
      'spec.http[0].timeout: "87660001h" is longer than a protobuf Duration can hold (315576000000s)',
    ]);
  });

  it('DestinationRule: outlier interval and connectTimeout need >= 1ms; a tcp idleTimeout of 0s turns it off', () => {
    const dr = (policy: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: r }
spec:
  host: reviews
  trafficPolicy:
${policy}`;
    assert.deepEqual(issuesOf(dr('    outlierDetection: { interval: 0s }\n')), [
      'spec.trafficPolicy.outlierDetection.interval: duration must be greater than 1ms',
    ]);
    assert.deepEqual(issuesOf(dr('    connectionPool: { tcp: { connectTimeout: 0.1ms } }\n')), [
      'spec.trafficPolicy.connectionPool.tcp.connectTimeout: duration must be greater than 1ms',
    ]);
    assert.deepEqual(issuesOf(dr('    connectionPool: { tcp: { idleTimeout: 0s } }\n')), []);
  });
});

describe('weights', () => {
  it('regression: weights adding up past a uint32 are reported against the VirtualService, with its line', () => {
    const t = translateYaml(`${REVIEWS}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - route:
        - { destination: { host: reviews, subset: v1 }, weight: 2147483647 }
        - { destination: { host: reviews, subset: v2 }, weight: 2147483647 }
        - { destination: { host: reviews, subset: v3 }, weight: 2 }
`);
    const issue = t.issues.find((i) => /add up/.test(i.message));
    assert.ok(issue, JSON.stringify(t.issues));
    assert.equal(issue.source, 'mesh.yaml');
    assert.equal(issue.path, 'spec.http[0].route');
    assert.ok(issue.line !== undefined && issue.line > 1);
    assert.match(issue.message, /4294967296, over Envoy's limit of 4294967295/);
  });

  it('a weight over int32 (Istio API type) is refused by the schema', () => {
    assert.equal(
      issuesOf(
        vs(
          '  hosts: [reviews]\n  http:\n    - route:\n        - { destination: { host: reviews }, weight: 4294967295 }\n',
        ),
      ).length,
      1,
    );
  });
});
