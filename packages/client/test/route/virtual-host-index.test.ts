import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileVirtualHostIndex } from './checked-matchers.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';

// route_components.proto VirtualHost.domains: "Domain search order: 1. Exact domain names:
// www.foo.com. 2. Suffix domain wildcards: *.foo.com or *-bar.foo.com. 3. Prefix domain
// wildcards: foo.* or foo-*. 4. Special wildcard * matching any domain." and "The wildcard will
// not match the empty string. e.g. *-bar.foo.com will match baz-bar.foo.com but not -bar.foo.com."
const vhosts = [
  { name: 'exact', domains: ['www.foo.com'] },
  { name: 'suffix-short', domains: ['*.foo.com'] },
  { name: 'suffix-long', domains: ['*-bar.foo.com'] },
  { name: 'prefix-short', domains: ['foo.*'] },
  { name: 'prefix-long', domains: ['foo.bar.*'] },
  { name: 'istio', domains: ['reviews', 'reviews:9080', 'reviews.default.svc.cluster.local:9080'] },
  { name: 'default', domains: ['*'] },
];
const index = compileVirtualHostIndex(vhosts);

const cases: [string, string, string | undefined][] = [
  ['exact beats every wildcard', 'www.foo.com', 'exact'],
  ['suffix wildcard', 'api.foo.com', 'suffix-short'],
  ['longest suffix wildcard first', 'baz-bar.foo.com', 'suffix-long'],
  ['suffix wildcard does not match the empty string', '-bar.foo.com', 'suffix-short'],
  ['*.foo.com does not match .foo.com', '.foo.com', 'default'],
  ['suffix beats prefix', 'foo.foo.com', 'suffix-short'],
  ['prefix wildcard', 'foo.example', 'prefix-short'],
  ['longest prefix wildcard first', 'foo.bar.baz', 'prefix-long'],
  ['prefix wildcard does not match the empty string', 'foo.', 'default'],
  ['* catches the rest', 'unknown.example', 'default'],
  ['domains match case-insensitively', 'WWW.Foo.COM', 'exact'],
  ['port is part of the host by default', 'www.foo.com:80', 'default'],
  ['Istio short name', 'reviews', 'istio'],
  ['Istio short name with port', 'reviews:9080', 'istio'],
  ['Istio FQDN with port', 'reviews.default.svc.cluster.local:9080', 'istio'],
  ['Istio FQDN without a listed form falls through', 'reviews.default.svc.cluster.local', 'default'],
];
for (const [name, authority, want] of cases) {
  test(`route_components.proto VirtualHost.domains: ${name}`, () => {
    assert.equal(index.selectVirtualHost(authority)?.name, want);
  });
}

test('route_components.proto VirtualHost.domains: no match and no * gives undefined', () => {
  const i = compileVirtualHostIndex([{ domains: ['a.com'] }]);
  assert.equal(i.selectVirtualHost('b.com'), undefined);
});

test('route.proto RouteConfiguration.ignore_port_in_host_matching strips the port', () => {
  const i = compileVirtualHostIndex(
    [
      { n: 'a', domains: ['a.com'] },
      { n: 'v6', domains: ['[::1]'] },
    ],
    { ignorePortInHostMatching: true },
  );
  assert.equal(i.selectVirtualHost('a.com:8080')?.n, 'a');
  assert.equal(i.selectVirtualHost('[::1]:80')?.n, 'v6');
  assert.equal(i.selectVirtualHost('[::1]')?.n, 'v6');
});

test('route_components.proto VirtualHost.domains: duplicates and a second * are rejected', () => {
  const isConfigError = (path: string) => (e: unknown) =>
    e instanceof MatcherCompileError && e.code === 'DABBA_CONFIG_INVALID' && e.path === path;
  assert.throws(
    () => compileVirtualHostIndex([{ domains: ['a.com'] }, { domains: ['A.com'] }]),
    isConfigError('virtualHosts[1].domains[0]'),
  );
  assert.throws(
    () => compileVirtualHostIndex([{ domains: ['*'] }, { domains: ['x', '*'] }]),
    isConfigError('virtualHosts[1].domains[1]'),
  );
  assert.throws(
    () => compileVirtualHostIndex([{ domains: ['*.a.com', '*.a.com'] }], { path: 'rc.virtualHosts' }),
    isConfigError('rc.virtualHosts[0].domains[1]'),
  );
});
