/**
 * How a request reaches an endpoint (connection-plan.ts) and whose certificate it accepts
 * (server-identity.ts): pure decisions, each pinned here with the case that would leak or
 * authenticate less if it were wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import type { UpstreamTls, UpstreamTransport } from '@dabba/discovery';
import { APPLICATION_TLS, planConnection } from '../../src/connection/connection-plan.ts';
import { parseSubjectAltNames, serverIdentityCheck } from '../../src/connection/server-identity.ts';

const PLAIN: UpstreamTransport = { kind: 'plaintext', key: 'plaintext' };
const insecure: UpstreamTls = { ...APPLICATION_TLS, autoSanValidation: false, trust: undefined };
const INSECURE: UpstreamTransport = { kind: 'tls', key: 'tls:insecure', tls: insecure };

describe('planConnection', () => {
  it('plaintext only where nothing asks for TLS: not for https://, not for an HTTPS/TLS port', () => {
    assert.equal(planConnection(PLAIN, false, false).kind, 'plaintext');
    assert.equal(planConnection(PLAIN, true, false).kind, 'tls');
    assert.equal(planConnection(PLAIN, false, true).kind, 'tls');
  });

  it('Istio mTLS and unavailable credentials are refused, for either scheme', () => {
    for (const secure of [false, true]) {
      assert.equal(
        planConnection({ kind: 'istio-mutual', key: 'm', sni: '' }, secure, false).kind,
        'refused',
      );
      assert.equal(
        planConnection({ kind: 'unavailable', key: 'u', reason: 'r' }, secure, false).kind,
        'refused',
      );
    }
  });

  it('an https:// request to a cluster whose TLS verifies nothing still checks the server as the application would', () => {
    const plain = planConnection(INSECURE, false, false);
    assert.ok(plain.kind === 'tls' && plain.tls.trust === undefined, 'http:// keeps insecureSkipVerify');
    const secure = planConnection(INSECURE, true, false);
    assert.ok(secure.kind === 'tls');
    assert.deepEqual(secure.tls.trust, { kind: 'system' });
    assert.equal(secure.tls.autoSanValidation, true);
    assert.notEqual(secure.key, plain.key, 'never the same pool');
  });
});

function cert(subjectaltname: string): PeerCertificate {
  return { subjectaltname, subject: { CN: 'x' } } as unknown as PeerCertificate;
}

describe('server identity', () => {
  it("parses Node's subjectaltname, quoted values included", () => {
    assert.deepEqual(
      parseSubjectAltNames('DNS:a.example.com, URI:spiffe://td/ns/x/sa/y, IP Address:10.0.0.1, DNS:"b,c"'),
      [
        { type: 'DNS', value: 'a.example.com' },
        { type: 'URI', value: 'spiffe://td/ns/x/sa/y' },
        { type: 'IP_ADDRESS', value: '10.0.0.1' },
        { type: 'DNS', value: 'b,c' },
      ],
    );
  });

  const withMatchers = (matchers: UpstreamTls['sanMatchers']) =>
    serverIdentityCheck({ ...APPLICATION_TLS, sanMatchers: matchers }, 'host.example.com', undefined)!;

  it('an exact matcher allows the certificate wildcard for one label only (dnsNameMatch)', () => {
    const check = withMatchers([
      { kind: 'exact', value: 'a.example.com', ignoreCase: false, sanType: undefined },
    ]);
    assert.equal(check('', cert('DNS:*.example.com')), undefined);
    const deeper = withMatchers([
      { kind: 'exact', value: 'a.b.example.com', ignoreCase: false, sanType: undefined },
    ]);
    assert.ok(deeper('', cert('DNS:*.example.com')) instanceof Error);
    const apex = withMatchers([
      { kind: 'exact', value: 'example.com', ignoreCase: false, sanType: undefined },
    ]);
    assert.ok(apex('', cert('DNS:*.example.com')) instanceof Error);
  });

  it('an untyped matcher does not read othername SANs (Envoy match_subject_alt_names)', () => {
    const check = withMatchers([
      { kind: 'suffix', value: 'example.com', ignoreCase: false, sanType: undefined },
    ]);
    assert.ok(check('', cert('othername:1.2.3:evil.example.com')) instanceof Error);
    assert.equal(check('', cert('DNS:ok.example.com')), undefined);
  });

  it('a typed matcher reads only its type', () => {
    const check = withMatchers([
      { kind: 'prefix', value: 'spiffe://td/', ignoreCase: false, sanType: 'URI' },
    ]);
    assert.equal(check('', cert('URI:spiffe://td/ns/a/sa/b')), undefined);
    assert.ok(check('', cert('DNS:spiffe://td/ns/a/sa/b')) instanceof Error);
  });

  it('without matchers the host is checked; with nothing trusted, nothing is', () => {
    const check = serverIdentityCheck(APPLICATION_TLS, 'host.example.com', 'host.example.com')!;
    assert.equal(check('', cert('DNS:host.example.com')), undefined);
    assert.ok(check('', cert('DNS:other.example.com')) instanceof Error);
    assert.equal(serverIdentityCheck(insecure, 'host.example.com', undefined), undefined);
  });
});
