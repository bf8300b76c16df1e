/**
 * Decoder for a Cluster's transport: `transport_socket`, `transport_socket_matches` and the
 * TLS-related upstream HTTP protocol options (`auto_sni`, `auto_san_validation`), into a model
 * free of protobuf types that the data plane connects with. The same model serves clusters
 * translated from Istio YAML and clusters from an xDS server.
 *
 * What a context says is kept exactly, including what it leaves open: no validation context, or
 * one that names no trust anchor, means Envoy does not verify the server (Istio's
 * `insecureSkipVerify`). Secrets are named as istio-agent's SDS server names them: `file-cert:
 * <cert>~<key>` and `file-root:<ca>` (`file-root:system` for the system roots) are files Dabba
 * reads itself; `default` and `ROOTCA` are the workload identity (Istio mTLS); any other SDS
 * secret (a Kubernetes `credentialName`) cannot be had here, and the transport says why.
 * A transport socket Dabba does not implement is a configuration issue, as Envoy would refuse it.
 */
import type { Cluster } from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import type { DataSource, TransportSocket } from '#xds/envoy/config/core/v3/base_pb.js';
import { RawBufferSchema } from '#xds/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import {
  type CertificateValidationContext,
  CertificateValidationContext_TrustChainVerification,
  SubjectAltNameMatcher_SanType,
  TlsParameters_TlsProtocol,
} from '#xds/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { SdsSecretConfig } from '#xds/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  type CommonTlsContext,
  UpstreamTlsContextSchema,
} from '#xds/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { HttpProtocolOptionsSchema } from '#xds/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type { StringMatcher } from '#xds/envoy/type/matcher/v3/string_pb.js';
import type { ConfigIssue } from '../errors.ts';
import { decodeAny } from '../xds/codec.ts';
import { deepFreeze } from './deep-freeze.ts';
import { re2Problem } from './re2.ts';

/** Where a certificate, key, CA bundle or CRL comes from. */
export type TlsData =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'inline'; readonly value: string | Uint8Array };

/** What the server's certificate chain must lead to. */
export type TrustAnchor = { readonly kind: 'system' } | { readonly kind: 'data'; readonly data: TlsData };

export type SanType = 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS' | 'OTHER_NAME';

/** One `match_subject_alt_names` / `match_typed_subject_alt_names` entry. */
export interface SanMatcher {
  readonly kind: 'exact' | 'prefix' | 'suffix' | 'contains' | 'regex';
  readonly value: string;
  readonly ignoreCase: boolean;
  /** The SAN type it applies to; undefined for the untyped form, which tries every SAN. */
  readonly sanType: SanType | undefined;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** An UpstreamTlsContext Dabba can connect with. */
export interface UpstreamTls {
  /** `sni`; empty when none is set. */
  readonly sni: string;
  /** `auto_sni`: the request's host is the SNI (when `sni` is empty). */
  readonly autoSni: boolean;
  /** `auto_san_validation`: the server certificate must name the request's host. */
  readonly autoSanValidation: boolean;
  readonly alpn: readonly string[];
  readonly minVersion: TlsVersion | undefined;
  readonly maxVersion: TlsVersion | undefined;
  readonly cipherSuites: readonly string[];
  readonly ecdhCurves: readonly string[];
  /** undefined: the server certificate is not verified (no trust anchor configured). */
  readonly trust: TrustAnchor | undefined;
  readonly sanMatchers: readonly SanMatcher[];
  readonly crl: TlsData | undefined;
  readonly clientCertificate: { readonly certificate: TlsData; readonly privateKey: TlsData } | undefined;
}

export type UpstreamTransport =
  | { readonly kind: 'plaintext'; readonly key: string }
  | { readonly kind: 'tls'; readonly key: string; readonly tls: UpstreamTls }
  /** Istio mTLS: the workload's own certificate (SDS `default`) and trust bundle (`ROOTCA`). */
  | { readonly kind: 'istio-mutual'; readonly key: string; readonly sni: string }
  /** TLS whose credentials cannot be had in this process; requests must be refused. */
  | { readonly kind: 'unavailable'; readonly key: string; readonly reason: string };

export interface TransportSocketMatch {
  readonly name: string;
  /** Every key must equal the endpoint's `envoy.transport_socket_match` metadata. */
  readonly match: Readonly<Record<string, string>>;
  readonly transport: UpstreamTransport;
}

export interface ClusterTransport {
  /** `transport_socket`, or plaintext when none. */
  readonly default: UpstreamTransport;
  /** `transport_socket_matches`, first match wins; empty when none. */
  readonly matches: readonly TransportSocketMatch[];
}

export const PLAINTEXT: UpstreamTransport = Object.freeze({ kind: 'plaintext', key: 'plaintext' });

const TLS_SOCKET = 'envoy.transport_sockets.tls';
const RAW_BUFFER_SOCKET = 'envoy.transport_sockets.raw_buffer';
const UPSTREAM_TLS_TYPE = `type.googleapis.com/${UpstreamTlsContextSchema.typeName}`;
const RAW_BUFFER_TYPE = `type.googleapis.com/${RawBufferSchema.typeName}`;
const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
/** istio-agent's names for the workload identity. */
const WORKLOAD_CERT = 'default';
const ROOT_CA = 'ROOTCA';

const VERSIONS: Record<number, TlsVersion | undefined> = {
  [TlsParameters_TlsProtocol.TLSv1_0]: 'TLSv1',
  [TlsParameters_TlsProtocol.TLSv1_1]: 'TLSv1.1',
  [TlsParameters_TlsProtocol.TLSv1_2]: 'TLSv1.2',
  [TlsParameters_TlsProtocol.TLSv1_3]: 'TLSv1.3',
};

const SAN_TYPES: Record<number, SanType | undefined> = {
  [SubjectAltNameMatcher_SanType.DNS]: 'DNS',
  [SubjectAltNameMatcher_SanType.URI]: 'URI',
  [SubjectAltNameMatcher_SanType.EMAIL]: 'EMAIL',
  [SubjectAltNameMatcher_SanType.IP_ADDRESS]: 'IP_ADDRESS',
  [SubjectAltNameMatcher_SanType.OTHER_NAME]: 'OTHER_NAME',
};

class TransportIssue extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

function dataOf(source: DataSource | undefined, path: string): TlsData | undefined {
  const s = source?.specifier;
  if (s === undefined) return undefined;
  switch (s.case) {
    case undefined:
      return undefined;
    case 'filename':
      return { kind: 'file', path: s.value };
    case 'inlineString':
    case 'inlineBytes':
      return { kind: 'inline', value: s.value };
    default:
      throw new TransportIssue(path, `data source ${s.case} is not supported by Dabba`);
  }
}

function sanMatcher(m: StringMatcher, sanType: SanType | undefined, path: string): SanMatcher {
  const p = m.matchPattern;
  switch (p.case) {
    case 'exact':
    case 'prefix':
    case 'suffix':
    case 'contains':
      return { kind: p.case, value: p.value, ignoreCase: m.ignoreCase, sanType };
    case 'safeRegex': {
      const problem = re2Problem(p.value.regex);
      if (problem !== undefined)
        throw new TransportIssue(`${path}.safeRegex.regex`, `invalid RE2 regex: ${problem}`);
      return { kind: 'regex', value: p.value.regex, ignoreCase: m.ignoreCase, sanType };
    }
    default:
      throw new TransportIssue(path, `SAN matcher ${String(p.case)} is not supported by Dabba`);
  }
}

/** What an SDS secret name stands for, in istio-agent's naming. */
type SecretRef =
  | { kind: 'files'; certificate: string; privateKey: string }
  | { kind: 'root'; anchor: TrustAnchor }
  | { kind: 'workload' }
  | { kind: 'unavailable'; reason: string };

function secretRef(secret: SdsSecretConfig): SecretRef {
  const name = secret.name;
  if (name === WORKLOAD_CERT || name === ROOT_CA) return { kind: 'workload' };
  if (name.startsWith('file-cert:')) {
    const [certificate, privateKey] = name.slice('file-cert:'.length).split('~');
    if (certificate && privateKey) return { kind: 'files', certificate, privateKey };
  }
  if (name.startsWith('file-root:')) {
    const path = name.slice('file-root:'.length);
    return {
      kind: 'root',
      anchor: path === 'system' ? { kind: 'system' } : { kind: 'data', data: { kind: 'file', path } },
    };
  }
  if (name.startsWith('kubernetes://'))
    return {
      kind: 'unavailable',
      reason: `the secret "${name}" (a DestinationRule credentialName) is held by Kubernetes, which Dabba does not read; name the certificate files instead`,
    };
  return { kind: 'unavailable', reason: `the SDS secret "${name}" cannot be had by Dabba` };
}

/**
 * Refuses what a message carries that Dabba does not do: fields this build does not know
 * (decoded as unknown fields) and the named fields that are set. Ignoring either could verify
 * less than the configuration asks, so it is an issue, as Envoy refuses what it cannot honour.
 */
function refuseUnsupported(
  message: { readonly $unknown?: readonly unknown[] | undefined } & object,
  path: string,
  unsupported: Readonly<Record<string, boolean>>,
): void {
  if ((message.$unknown?.length ?? 0) > 0)
    throw new TransportIssue(path, 'carries fields this version of Dabba does not know');
  for (const [field, set] of Object.entries(unsupported))
    if (set) throw new TransportIssue(`${path}.${field}`, `${field} is not supported by Dabba`);
}

function validationOf(
  ctx: CertificateValidationContext | undefined,
  path: string,
): { trust: TrustAnchor | undefined; sanMatchers: SanMatcher[]; crl: TlsData | undefined } {
  if (ctx === undefined) return { trust: undefined, sanMatchers: [], crl: undefined };
  refuseUnsupported(ctx, path, {
    caCertificateProviderInstance: ctx.caCertificateProviderInstance !== undefined,
    watchedDirectory: ctx.watchedDirectory !== undefined,
    verifyCertificateSpki: ctx.verifyCertificateSpki.length > 0,
    verifyCertificateHash: ctx.verifyCertificateHash.length > 0,
    requireSignedCertificateTimestamp: ctx.requireSignedCertificateTimestamp === true,
    allowExpiredCertificate: ctx.allowExpiredCertificate,
    trustChainVerification:
      ctx.trustChainVerification !== CertificateValidationContext_TrustChainVerification.VERIFY_TRUST_CHAIN,
    customValidatorConfig: ctx.customValidatorConfig !== undefined,
    onlyVerifyLeafCertCrl: ctx.onlyVerifyLeafCertCrl,
    maxVerifyDepth: ctx.maxVerifyDepth !== undefined,
  });
  const sanMatchers = [
    ...ctx.matchSubjectAltNames.map((m, i) => sanMatcher(m, undefined, `${path}.matchSubjectAltNames[${i}]`)),
    ...ctx.matchTypedSubjectAltNames.map((m, i) => {
      const where = `${path}.matchTypedSubjectAltNames[${i}]`;
      if (m.matcher === undefined) throw new TransportIssue(where, 'a typed SAN matcher needs its matcher');
      return sanMatcher(m.matcher, SAN_TYPES[m.sanType], where);
    }),
  ];
  const trustedCa = dataOf(ctx.trustedCa, `${path}.trustedCa`);
  const trust: TrustAnchor | undefined =
    trustedCa !== undefined
      ? { kind: 'data', data: trustedCa }
      : ctx.systemRootCerts !== undefined
        ? { kind: 'system' }
        : undefined;
  return { trust, sanMatchers, crl: dataOf(ctx.crl, `${path}.crl`) };
}

/** An UpstreamTlsContext as a transport; `options` are the cluster's auto SNI and SAN settings. */
function tlsTransport(
  socket: TransportSocket,
  options: { autoSni: boolean; autoSanValidation: boolean },
  path: string,
): UpstreamTransport {
  const config = socket.configType.case === 'typedConfig' ? socket.configType.value : undefined;
  if (config === undefined || config.typeUrl !== UPSTREAM_TLS_TYPE)
    throw new TransportIssue(`${path}.typedConfig`, `expected an ${UpstreamTlsContextSchema.typeName}`);
  const context = decodeAny(config, UpstreamTlsContextSchema);
  const common: CommonTlsContext | undefined = context.commonTlsContext;
  const where = `${path}.typedConfig.commonTlsContext`;
  refuseUnsupported(context, `${path}.typedConfig`, {
    enforceRsaKeyUsage: context.enforceRsaKeyUsage === true,
    autoHostSni: (context as { autoHostSni?: boolean }).autoHostSni === true,
  });
  if (common !== undefined)
    refuseUnsupported(common, where, {
      tlsCertificateProviderInstance: common.tlsCertificateProviderInstance !== undefined,
      tlsCertificateCertificateProvider: common.tlsCertificateCertificateProvider !== undefined,
      tlsCertificateCertificateProviderInstance:
        common.tlsCertificateCertificateProviderInstance !== undefined,
      customHandshaker: common.customHandshaker !== undefined,
      keyLog: common.keyLog !== undefined,
      signatureAlgorithms: (common.tlsParams?.signatureAlgorithms.length ?? 0) > 0,
    });
  let clientCertificate: UpstreamTls['clientCertificate'];
  let workload = false;
  let unavailable: string | undefined;
  const certificates = common?.tlsCertificates ?? [];
  if (certificates.length > 0) {
    const c = certificates[0]!;
    const certificate = dataOf(c.certificateChain, `${where}.tlsCertificates[0].certificateChain`);
    const privateKey = dataOf(c.privateKey, `${where}.tlsCertificates[0].privateKey`);
    if (certificate === undefined || privateKey === undefined)
      throw new TransportIssue(
        `${where}.tlsCertificates[0]`,
        'a certificate needs its chain and private key',
      );
    clientCertificate = { certificate, privateKey };
  }
  (common?.tlsCertificateSdsSecretConfigs ?? []).forEach((secret) => {
    const ref = secretRef(secret);
    if (ref.kind === 'workload') workload = true;
    else if (ref.kind === 'files')
      clientCertificate = {
        certificate: { kind: 'file', path: ref.certificate },
        privateKey: { kind: 'file', path: ref.privateKey },
      };
    else if (ref.kind === 'unavailable') unavailable ??= ref.reason;
    else unavailable ??= `the certificate secret "${secret.name}" is not a certificate`;
  });
  let validation: ReturnType<typeof validationOf> = { trust: undefined, sanMatchers: [], crl: undefined };
  const vc = common?.validationContextType ?? { case: undefined };
  switch (vc.case) {
    case undefined:
      break;
    case 'validationContext':
      validation = validationOf(vc.value, `${where}.validationContext`);
      break;
    case 'combinedValidationContext': {
      refuseUnsupported(vc.value, `${where}.combinedValidationContext`, {
        validationContextCertificateProvider: vc.value.validationContextCertificateProvider !== undefined,
        validationContextCertificateProviderInstance:
          vc.value.validationContextCertificateProviderInstance !== undefined,
      });
      validation = validationOf(
        vc.value.defaultValidationContext,
        `${where}.combinedValidationContext.defaultValidationContext`,
      );
      const secret = vc.value.validationContextSdsSecretConfig;
      if (secret !== undefined) {
        const ref = secretRef(secret);
        if (ref.kind === 'workload') workload = true;
        else if (ref.kind === 'root') validation.trust = ref.anchor;
        else if (ref.kind === 'unavailable') unavailable ??= ref.reason;
        else unavailable ??= `the validation secret "${secret.name}" is not a CA bundle`;
      }
      break;
    }
    case 'validationContextSdsSecretConfig': {
      const ref = secretRef(vc.value);
      if (ref.kind === 'workload') workload = true;
      else if (ref.kind === 'root') validation.trust = ref.anchor;
      else if (ref.kind === 'unavailable') unavailable ??= ref.reason;
      else unavailable ??= `the validation secret "${vc.value.name}" is not a CA bundle`;
      break;
    }
    default:
      throw new TransportIssue(`${where}.${vc.case}`, `${vc.case} is not supported by Dabba`);
  }
  // Envoy refuses this too (DefaultCertValidator): matching names on a chain nobody vouches for
  // proves nothing.
  if (
    validation.trust === undefined &&
    validation.sanMatchers.length > 0 &&
    unavailable === undefined &&
    !workload
  )
    throw new TransportIssue(
      `${where}.validationContext`,
      'SAN-based verification of peer certificates without trusted CA is insecure and not allowed',
    );
  const params = common?.tlsParams;
  const tls: UpstreamTls = {
    sni: context.sni,
    autoSni: options.autoSni,
    autoSanValidation: options.autoSanValidation,
    alpn: [...(common?.alpnProtocols ?? [])],
    minVersion: params === undefined ? undefined : VERSIONS[params.tlsMinimumProtocolVersion],
    maxVersion: params === undefined ? undefined : VERSIONS[params.tlsMaximumProtocolVersion],
    cipherSuites: [...(params?.cipherSuites ?? [])],
    ecdhCurves: [...(params?.ecdhCurves ?? [])],
    trust: validation.trust,
    sanMatchers: validation.sanMatchers,
    crl: validation.crl,
    clientCertificate,
  };
  const key = `tls:${JSON.stringify(tls, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))}`;
  if (workload) return { kind: 'istio-mutual', key: `istio-mutual:${context.sni}`, sni: context.sni };
  if (unavailable !== undefined)
    return { kind: 'unavailable', key: `unavailable:${unavailable}`, reason: unavailable };
  return { kind: 'tls', key, tls };
}

function transportOf(
  socket: TransportSocket | undefined,
  options: { autoSni: boolean; autoSanValidation: boolean },
  path: string,
): UpstreamTransport {
  if (socket === undefined) return PLAINTEXT;
  // Envoy picks the factory by the typed config's type first, the name only without one.
  const typeUrl = socket.configType.case === 'typedConfig' ? socket.configType.value.typeUrl : undefined;
  if (typeUrl === UPSTREAM_TLS_TYPE) return tlsTransport(socket, options, path);
  if (typeUrl === RAW_BUFFER_TYPE) return PLAINTEXT;
  if (typeUrl !== undefined)
    throw new TransportIssue(
      `${path}.typedConfig`,
      `transport socket type "${typeUrl}" is not supported by Dabba`,
    );
  if (socket.name === RAW_BUFFER_SOCKET) return PLAINTEXT;
  if (socket.name === TLS_SOCKET) return tlsTransport(socket, options, path);
  throw new TransportIssue(`${path}.name`, `transport socket "${socket.name}" is not supported by Dabba`);
}

function autoOptions(cluster: Cluster): { autoSni: boolean; autoSanValidation: boolean } {
  const any = cluster.typedExtensionProtocolOptions[HTTP_PROTOCOL_OPTIONS_KEY];
  if (any === undefined) return { autoSni: false, autoSanValidation: false };
  const upstream = decodeAny(any, HttpProtocolOptionsSchema).upstreamHttpProtocolOptions;
  return { autoSni: upstream?.autoSni === true, autoSanValidation: upstream?.autoSanValidation === true };
}

/** Decodes the cluster's transport, or every issue with its field path. */
export function decodeClusterTransport(
  cluster: Cluster,
): { readonly transport: ClusterTransport } | { readonly issues: readonly ConfigIssue[] } {
  try {
    const options = autoOptions(cluster);
    const matches = cluster.transportSocketMatches.map((m, i) => {
      const match: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.match ?? {})) match[k] = String(v);
      return {
        name: m.name,
        match,
        transport: transportOf(m.transportSocket, options, `transportSocketMatches[${i}].transportSocket`),
      };
    });
    return {
      transport: deepFreeze({
        default: transportOf(cluster.transportSocket, options, 'transportSocket'),
        matches,
      }),
    };
  } catch (err) {
    const path = err instanceof TransportIssue ? err.path : 'transportSocket';
    return {
      issues: [
        {
          source: '',
          resource: { kind: 'Cluster', name: cluster.name },
          path,
          message: (err as Error).message,
        },
      ],
    };
  }
}

/** The transport for an endpoint with `envoy.transport_socket_match` metadata `metadata`. */
export function transportForEndpoint(
  transport: ClusterTransport,
  metadata: Readonly<Record<string, unknown>> | undefined,
): UpstreamTransport {
  for (const m of transport.matches) {
    let all = true;
    for (const k in m.match) {
      if (metadata === undefined || String(metadata[k]) !== m.match[k]) {
        all = false;
        break;
      }
    }
    if (all) return m.transport;
  }
  return transport.default;
}
