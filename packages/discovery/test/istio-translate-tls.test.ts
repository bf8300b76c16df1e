/**
 * DestinationRule `tls` and auto mTLS translated as istiod translates them for a sidecar
 * (pilot/pkg/networking/core/cluster_tls.go; SDS configs from pkg/model/authentication.go;
 * endpoint metadata from pilot/pkg/xds/endpoints/mtls_checker.go and
 * serviceentry/conversion.go getTLSModeFromWorkloadEntry), compared field by field as proto3
 * JSON, and the ClientTLSSettings istiod's ValidateTLS refuses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeClusterTransport } from '../src/decode/upstream-transport.ts';
import { parseIstioYaml } from '../src/istio/parse-istio-yaml.ts';
import { resourceFromJson } from '../src/xds/codec.ts';
import { XdsTypeUrl } from '../src/xds/type-urls.ts';
import { type AnyJson, get, serviceEntry, translateYaml } from './fixtures/istio-helpers.ts';

const EXTERNAL = serviceEntry('api', 'api.example.com', {
  ports: '[{ number: 443, name: http, protocol: HTTP }]',
  endpoints: '[{ address: 10.0.0.9 }]',
  extra: '  subjectAltNames: [spiffe://example.com/ns/api/sa/api]',
}).replace('MESH_INTERNAL', 'MESH_EXTERNAL');

const rule = (tls: string, host = 'api.example.com') => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: r }
spec:
  host: ${host}
  trafficPolicy:
    tls: ${tls}
`;

function sds(name: string, initialFetchTimeoutZero = false): AnyJson {
  return {
    name,
    sdsConfig: {
      apiConfigSource: {
        apiType: 'GRPC',
        transportApiVersion: 'V3',
        grpcServices: [{ envoyGrpc: { clusterName: 'sds-grpc' } }],
        setNodeOnFirstMessageOnly: true,
      },
      ...(initialFetchTimeoutZero ? { initialFetchTimeout: '0s' } : {}),
      resourceApiVersion: 'V3',
    },
  };
}

const TLS_PARAMS = { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' };

describe('DestinationRule tls as istiod translates it', () => {
  it('SIMPLE without caCertificates: file-root:system, the ServiceEntry SANs, auto_sni and auto_san_validation', () => {
    const t = translateYaml(`${EXTERNAL}${rule('{ mode: SIMPLE }')}`);
    const c = get(t.clusters, 'outbound|443||api.example.com') as AnyJson;
    assert.deepEqual(c.transportSocket, {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': XdsTypeUrl.UPSTREAM_TLS_CONTEXT,
        commonTlsContext: {
          tlsParams: TLS_PARAMS,
          combinedValidationContext: {
            defaultValidationContext: {
              matchSubjectAltNames: [{ exact: 'spiffe://example.com/ns/api/sa/api' }],
            },
            validationContextSdsSecretConfig: sds('file-root:system'),
          },
        },
      },
    });
    const options = c.typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    assert.deepEqual(options.upstreamHttpProtocolOptions, { autoSni: true, autoSanValidation: true });
    assert.deepEqual(
      options.explicitHttpConfig,
      { httpProtocolOptions: {} },
      "clusterWrapper.build()'s HTTP/1.1",
    );
    assert.equal(c.metadata.filterMetadata.istio.alpn_override, 'false');
  });

  it('MUTUAL with files: file-cert and file-root secrets, the rule SANs, explicit sni (no auto_sni), CRL', () => {
    const t = translateYaml(
      `${EXTERNAL}${rule('{ mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, subjectAltNames: [api.example.com], sni: api.example.com, caCrl: /crl.pem }')}`,
    );
    const c = get(t.clusters, 'outbound|443||api.example.com') as AnyJson;
    const ctx = c.transportSocket.typedConfig;
    assert.equal(ctx.sni, 'api.example.com');
    assert.deepEqual(ctx.commonTlsContext.tlsCertificateSdsSecretConfigs, [sds('file-cert:/c.pem~/k.pem')]);
    assert.deepEqual(ctx.commonTlsContext.combinedValidationContext, {
      defaultValidationContext: {
        matchSubjectAltNames: [{ exact: 'api.example.com' }],
        crl: { filename: '/crl.pem' },
      },
      validationContextSdsSecretConfig: sds('file-root:/ca.pem'),
    });
    assert.equal(c.typedExtensionProtocolOptions, undefined, 'sni and SANs set: no auto options');
  });

  it('insecureSkipVerify: an empty validation context; auto_sni without auto_san_validation', () => {
    const t = translateYaml(`${EXTERNAL}${rule('{ mode: SIMPLE, insecureSkipVerify: true }')}`);
    const c = get(t.clusters, 'outbound|443||api.example.com') as AnyJson;
    assert.deepEqual(c.transportSocket.typedConfig.commonTlsContext.validationContext, {});
    assert.deepEqual(
      c.typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']
        .upstreamHttpProtocolOptions,
      { autoSni: true },
    );
  });

  it('ISTIO_MUTUAL: SDS default and ROOTCA (initial fetch timeout 0s), Istio SNI, in-mesh ALPN; a warning', () => {
    const t = translateYaml(`${EXTERNAL}${rule('{ mode: ISTIO_MUTUAL }')}`);
    const c = get(t.clusters, 'outbound|443||api.example.com') as AnyJson;
    assert.deepEqual(c.transportSocket.typedConfig, {
      '@type': XdsTypeUrl.UPSTREAM_TLS_CONTEXT,
      commonTlsContext: {
        tlsParams: TLS_PARAMS,
        tlsCertificateSdsSecretConfigs: [sds('default', true)],
        combinedValidationContext: {
          defaultValidationContext: {
            matchSubjectAltNames: [{ exact: 'spiffe://example.com/ns/api/sa/api' }],
          },
          validationContextSdsSecretConfig: sds('ROOTCA', true),
        },
        alpnProtocols: ['istio-peer-exchange', 'istio'],
      },
      sni: 'outbound_.443_._.api.example.com',
    });
    assert.ok(t.notices.some((n) => n.severity === 'warning' && n.path === 'spec.trafficPolicy.tls.mode'));
  });

  it('DISABLE: no transport socket (and it opts an internal service out of auto mTLS)', () => {
    const internal = serviceEntry('db', 'db.default.svc.cluster.local', {
      endpoints: '[{ address: 10.0.0.5, labels: { security.istio.io/tlsMode: istio } }]',
    });
    const t = translateYaml(`${internal}${rule('{ mode: DISABLE }', 'db')}`);
    const c = get(t.clusters, 'outbound|9080||db.default.svc.cluster.local') as AnyJson;
    assert.equal(c.transportSocket, undefined);
    assert.equal(c.transportSocketMatches, undefined);
    const e = get(t.endpoints, 'outbound|9080||db.default.svc.cluster.local') as AnyJson;
    assert.equal(
      e.endpoints[0].lbEndpoints[0].metadata.filterMetadata['envoy.transport_socket_match'],
      undefined,
    );
  });

  it('auto mTLS: an internal service gets tlsMode-istio / tlsMode-disabled matches; endpoints with a sidecar are marked', () => {
    const internal = serviceEntry('db', 'db.default.svc.cluster.local', {
      endpoints: `
    - { address: 10.0.0.5, labels: { security.istio.io/tlsMode: istio } }
    - { address: 10.0.0.6, serviceAccount: db }
    - { address: 10.0.0.7 }`,
    });
    const t = translateYaml(internal, { trustDomain: 'example.org' });
    const c = get(t.clusters, 'outbound|9080||db.default.svc.cluster.local') as AnyJson;
    assert.equal(c.transportSocket, undefined);
    assert.deepEqual(
      c.transportSocketMatches.map((m: AnyJson) => [m.name, m.match, m.transportSocket.name]),
      [
        ['tlsMode-istio', { tlsMode: 'istio' }, 'envoy.transport_sockets.tls'],
        ['tlsMode-disabled', {}, 'envoy.transport_sockets.raw_buffer'],
      ],
    );
    const istio = c.transportSocketMatches[0].transportSocket.typedConfig;
    assert.equal(istio.sni, 'outbound_.9080_._.db.default.svc.cluster.local');
    assert.deepEqual(istio.commonTlsContext.combinedValidationContext.defaultValidationContext, {
      matchSubjectAltNames: [{ exact: 'spiffe://example.org/ns/default/sa/db' }],
    });
    const e = get(t.endpoints, 'outbound|9080||db.default.svc.cluster.local') as AnyJson;
    const marks = e.endpoints[0].lbEndpoints.map(
      (l: AnyJson) => l.metadata.filterMetadata['envoy.transport_socket_match']?.tlsMode ?? '-',
    );
    assert.deepEqual(marks, ['istio', 'istio', '-']);
    assert.ok(t.notices.some((n) => n.severity === 'warning' && /auto mTLS/.test(n.message)));
  });

  it('auto mTLS is off for MESH_EXTERNAL services and with enableAutoMtls: false', () => {
    const t = translateYaml(EXTERNAL);
    assert.equal(
      (get(t.clusters, 'outbound|443||api.example.com') as AnyJson).transportSocketMatches,
      undefined,
    );
    const internal = serviceEntry('db', 'db.default.svc.cluster.local');
    const off = translateYaml(internal, {}, { enableAutoMtls: false });
    assert.equal(
      (get(off.clusters, 'outbound|9080||db.default.svc.cluster.local') as AnyJson).transportSocketMatches,
      undefined,
    );
  });

  it('credentialName on a sidecar rule: kept as the Kubernetes SDS secret (refused by the client), with a warning', () => {
    const t = translateYaml(`${EXTERNAL}${rule('{ mode: SIMPLE, credentialName: api-ca }')}`);
    const c = get(t.clusters, 'outbound|443||api.example.com') as AnyJson;
    assert.equal(
      c.transportSocket.typedConfig.commonTlsContext.combinedValidationContext
        .validationContextSdsSecretConfig.name,
      'kubernetes://api-ca-cacert',
    );
    assert.ok(
      t.notices.some((n) => n.severity === 'warning' && n.path === 'spec.trafficPolicy.tls.credentialName'),
    );
  });

  it('HTTPS and TLS ports are marked for TLS (istiod routes them by SNI, never in clear)', () => {
    const t = translateYaml(
      serviceEntry('pay', 'pay.example.com', { ports: '[{ number: 443, name: https, protocol: HTTPS }]' }),
    );
    assert.deepEqual(
      (get(t.clusters, 'outbound|443||pay.example.com') as AnyJson).metadata.filterMetadata.dabba,
      { port_protocol: 'HTTPS' },
    );
  });
});

describe('ClientTLSSettings validation (agent.ValidateTLS)', () => {
  const issues = (tls: string) =>
    parseIstioYaml('dr.yaml', rule(tls)).issues.map((i) => `${i.path}: ${i.message}`);
  it('MUTUAL without files', () => {
    assert.deepEqual(issues('{ mode: MUTUAL }'), [
      'spec.trafficPolicy.tls: client certificate required for mutual tls',
      'spec.trafficPolicy.tls: private key required for mutual tls',
    ]);
  });
  it('insecureSkipVerify with a CA or SANs', () => {
    assert.deepEqual(issues('{ mode: SIMPLE, insecureSkipVerify: true, caCertificates: /ca.pem }'), [
      'spec.trafficPolicy.tls: cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true',
    ]);
  });
  it('credentialName with files', () => {
    assert.deepEqual(issues('{ mode: SIMPLE, credentialName: x, caCertificates: /ca.pem }'), [
      'spec.trafficPolicy.tls: cannot specify client certificates or CA certificate or CA CRL If credentialName is set',
    ]);
  });
});

describe('decodeClusterTransport on xDS clusters', () => {
  it('an UpstreamTlsContext with an inline CA and typed SAN matchers', () => {
    const cluster = resourceFromJson(XdsTypeUrl.CLUSTER, {
      name: 'c',
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: {
          '@type': XdsTypeUrl.UPSTREAM_TLS_CONTEXT,
          sni: 'svc.example.com',
          commonTlsContext: {
            validationContext: {
              trustedCa: { inlineString: '-----BEGIN CERTIFICATE-----' },
              matchTypedSubjectAltNames: [{ sanType: 'URI', matcher: { prefix: 'spiffe://example.com/' } }],
            },
            alpnProtocols: ['h2'],
          },
        },
      },
    });
    const decoded = decodeClusterTransport(cluster);
    assert.ok('transport' in decoded);
    const t = decoded.transport.default;
    assert.equal(t.kind, 'tls');
    if (t.kind !== 'tls') return;
    assert.equal(t.tls.sni, 'svc.example.com');
    assert.deepEqual(t.tls.trust, {
      kind: 'data',
      data: { kind: 'inline', value: '-----BEGIN CERTIFICATE-----' },
    });
    assert.deepEqual(t.tls.sanMatchers, [
      { kind: 'prefix', value: 'spiffe://example.com/', ignoreCase: false, sanType: 'URI' },
    ]);
    assert.deepEqual(t.tls.alpn, ['h2']);
  });

  it('a transport socket Dabba does not implement is an issue with its field path (Envoy would refuse it)', () => {
    const cluster = resourceFromJson(XdsTypeUrl.CLUSTER, {
      name: 'c',
      transportSocket: { name: 'envoy.transport_sockets.alts' },
    });
    const decoded = decodeClusterTransport(cluster);
    assert.ok('issues' in decoded);
    assert.equal(decoded.issues[0]!.path, 'transportSocket.name');
  });

  it('an SDS secret that is not istio-agent file or identity secret makes the transport unavailable (refused, never plaintext)', () => {
    const cluster = resourceFromJson(XdsTypeUrl.CLUSTER, {
      name: 'c',
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: {
          '@type': XdsTypeUrl.UPSTREAM_TLS_CONTEXT,
          commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'vault://x' }] },
        },
      },
    });
    const decoded = decodeClusterTransport(cluster);
    assert.ok('transport' in decoded);
    assert.equal(decoded.transport.default.kind, 'unavailable');
  });

  const tlsCluster = (context: Record<string, unknown>, name = 'envoy.transport_sockets.tls') =>
    resourceFromJson(XdsTypeUrl.CLUSTER, {
      name: 'c',
      transportSocket: { name, typedConfig: { '@type': XdsTypeUrl.UPSTREAM_TLS_CONTEXT, ...context } },
    });
  const issueOf = (context: Record<string, unknown>) => {
    const decoded = decodeClusterTransport(tlsCluster(context));
    assert.ok('issues' in decoded, 'refused');
    return `${decoded.issues[0]!.path}: ${decoded.issues[0]!.message}`;
  };

  it('what would verify less than asked is refused, never dropped (pins, SANs without a CA, providers, custom validators)', () => {
    const vc = (v: Record<string, unknown>) => ({ commonTlsContext: { validationContext: v } });
    assert.match(issueOf(vc({ matchSubjectAltNames: [{ exact: 'a' }] })), /without trusted CA is insecure/);
    assert.match(
      issueOf(vc({ trustedCa: { filename: '/ca' }, verifyCertificateSpki: ['x'] })),
      /verifyCertificateSpki/,
    );
    assert.match(
      issueOf(vc({ trustedCa: { filename: '/ca' }, verifyCertificateHash: ['x'] })),
      /verifyCertificateHash/,
    );
    assert.match(
      issueOf(vc({ caCertificateProviderInstance: { instanceName: 'x' } })),
      /caCertificateProviderInstance/,
    );
    assert.match(
      issueOf(vc({ customValidatorConfig: { name: 'envoy.tls.cert_validator.spiffe' } })),
      /customValidatorConfig/,
    );
    assert.match(
      issueOf(vc({ trustedCa: { filename: '/ca' }, allowExpiredCertificate: true })),
      /allowExpiredCertificate/,
    );
    assert.match(
      issueOf({ commonTlsContext: { tlsCertificateProviderInstance: { instanceName: 'x' } } }),
      /tlsCertificateProviderInstance/,
    );
  });

  it("the typed config's type decides the socket, not its name (as Envoy picks the factory)", () => {
    const decoded = decodeClusterTransport(
      tlsCluster(
        { commonTlsContext: { validationContext: { trustedCa: { filename: '/ca' } } } },
        'envoy.transport_sockets.raw_buffer',
      ),
    );
    assert.ok('transport' in decoded);
    assert.equal(decoded.transport.default.kind, 'tls');
  });

  it('a context carrying fields this build does not know is refused', () => {
    const cluster = tlsCluster({ commonTlsContext: {} });
    const socket = cluster.transportSocket!;
    if (socket.configType.case !== 'typedConfig') assert.fail('typed');
    // Field 99 of UpstreamTlsContext does not exist: a newer control plane's field.
    const value = socket.configType.value;
    value.value = new Uint8Array([...value.value, 0x98, 0x06, 0x01]);
    const decoded = decodeClusterTransport(cluster);
    assert.ok('issues' in decoded);
    assert.match(decoded.issues[0]!.message, /fields this version of Dabba does not know/);
  });
});
