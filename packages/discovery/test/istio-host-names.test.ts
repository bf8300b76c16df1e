/**
 * Host name rules: ResolveShortnameToFQDN (istio pkg/config/model.go) and the virtual host
 * domains of httproute.go generateVirtualHostDomains / GenerateAltVirtualHosts /
 * generateAltVirtualHostsForKubernetesService.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alternateDomains,
  hostMatches,
  outboundClusterName,
  outboundSni,
  resolveShortName,
  virtualHostDomains,
} from '../src/istio/host-names.ts';

describe('resolveShortName (Istio ResolveShortnameToFQDN)', () => {
  const cases: [string, string, string][] = [
    ['reviews', 'default', 'reviews.default.svc.cluster.local'],
    ['reviews', 'shop', 'reviews.shop.svc.cluster.local'],
    // A name with a dot is taken as fully qualified, even when it is a partial name.
    ['reviews.default', 'shop', 'reviews.default'],
    ['reviews.default.svc.cluster.local', 'shop', 'reviews.default.svc.cluster.local'],
    ['api.example.com', 'default', 'api.example.com'],
    ['*', 'default', '*'],
    ['*.example.com', 'default', '*.example.com'],
    ['10.0.0.1', 'default', '10.0.0.1'],
    ['::1', 'default', '::1'],
    ['2001:db8::1', 'default', '2001:db8::1'],
  ];
  for (const [host, ns, want] of cases) {
    it(`${host} in ${ns} -> ${want}`, () => {
      assert.equal(resolveShortName(host, ns, 'cluster.local'), want);
    });
  }
  it('uses the cluster domain', () => {
    assert.equal(
      resolveShortName('reviews', 'default', 'corp.internal'),
      'reviews.default.svc.corp.internal',
    );
  });
});

describe('virtualHostDomains (generateVirtualHostDomains + GenerateAltVirtualHosts)', () => {
  it('same namespace: name, name.ns.svc and name.ns, each with and without port', () => {
    // generateAltVirtualHostsForKubernetesService, "Same namespace" branch.
    assert.deepEqual(
      virtualHostDomains('reviews.default.svc.cluster.local', 9080, 'default', 'cluster.local'),
      [
        'reviews.default.svc.cluster.local',
        'reviews.default.svc.cluster.local:9080',
        'reviews',
        'reviews:9080',
        'reviews.default.svc',
        'reviews.default.svc:9080',
        'reviews.default',
        'reviews.default:9080',
      ],
    );
  });

  it('other namespace: name.ns and name.ns.svc, never the bare name', () => {
    assert.deepEqual(virtualHostDomains('reviews.shop.svc.cluster.local', 9080, 'default', 'cluster.local'), [
      'reviews.shop.svc.cluster.local',
      'reviews.shop.svc.cluster.local:9080',
      'reviews.shop',
      'reviews.shop:9080',
      'reviews.shop.svc',
      'reviews.shop.svc:9080',
    ]);
  });

  it('external host: only the host itself', () => {
    assert.deepEqual(virtualHostDomains('api.example.com', 443, 'default', 'cluster.local'), [
      'api.example.com',
      'api.example.com:443',
    ]);
  });

  it('a host under the cluster domain but not under svc.<domain> is not expanded', () => {
    // GenerateAltVirtualHosts: with a Kubernetes proxy domain only *.svc.<domain> hosts are expanded.
    assert.deepEqual(virtualHostDomains('db.cluster.local', 5432, 'default', 'cluster.local'), [
      'db.cluster.local',
      'db.cluster.local:5432',
    ]);
  });

  it('honours a custom cluster domain', () => {
    assert.ok(
      virtualHostDomains('reviews.default.svc.corp', 80, 'default', 'corp').includes('reviews.default'),
    );
    assert.deepEqual(virtualHostDomains('reviews.default.svc.cluster.local', 80, 'default', 'corp'), [
      'reviews.default.svc.cluster.local',
      'reviews.default.svc.cluster.local:80',
    ]);
  });
});

describe('alternateDomains with a non-Kubernetes proxy domain (GenerateAltVirtualHosts doc cases)', () => {
  it('foo.local.campus.net on local.campus.net -> foo, foo.local', () => {
    assert.deepEqual(alternateDomains('foo.local.campus.net', 80, 'local.campus.net'), ['foo', 'foo:80']);
  });
  it('foo.local.campus.net on remote.campus.net -> foo.local, foo.local.campus', () => {
    assert.deepEqual(alternateDomains('foo.local.campus.net', 80, 'remote.campus.net'), [
      'foo.local',
      'foo.local:80',
      'foo.local.campus',
      'foo.local.campus:80',
    ]);
  });
  it('foo.local.campus.net on example.com -> nothing', () => {
    assert.deepEqual(alternateDomains('foo.local.campus.net', 80, 'example.com'), []);
  });
});

describe('names', () => {
  it('outbound cluster name and SNI (Istio BuildSubsetKey / BuildDNSSrvSubsetKey)', () => {
    assert.equal(
      outboundClusterName(9080, 'v1', 'reviews.default.svc.cluster.local'),
      'outbound|9080|v1|reviews.default.svc.cluster.local',
    );
    assert.equal(outboundClusterName(9080, '', 'r.x'), 'outbound|9080||r.x');
    assert.equal(outboundSni(9080, 'v1', 'r.x'), 'outbound_.9080_.v1_.r.x');
  });
  it('wildcard host matching (istio host.Name.Matches)', () => {
    assert.equal(hostMatches('*', 'a.b'), true);
    assert.equal(hostMatches('*.example.com', 'api.example.com'), true);
    assert.equal(hostMatches('*.example.com', 'a.b.example.com'), true);
    assert.equal(hostMatches('*.example.com', 'example.com'), false);
    assert.equal(hostMatches('api.example.com', 'api.example.com'), true);
    assert.equal(hostMatches('api.example.com', 'web.example.com'), false);
  });
});
