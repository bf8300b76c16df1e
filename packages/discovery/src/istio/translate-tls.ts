/**
 * A cluster's upstream TLS, as istiod builds it for a sidecar (pilot/pkg/networking/core/
 * cluster_tls.go: buildUpstreamTLSSettings, buildUpstreamClusterTLSContext, constructUpstreamTLS,
 * setAutoSniAndAutoSanValidation, applyUpstreamTLSSettings; pkg/model/authentication.go for the
 * SDS configs; pilot/pkg/xds/endpoints/mtls_checker.go for the endpoint metadata):
 *
 * - DISABLE: no transport socket.
 * - SIMPLE / MUTUAL with files: an UpstreamTlsContext whose certificates come from istio-agent's
 *   SDS file secrets (`file-cert:<cert>~<key>`, `file-root:<ca>`, `file-root:system` when no
 *   `caCertificates`), exact SAN matchers, TLS 1.2 to 1.3, `h2` ALPN only for HTTP/2 clusters;
 *   `auto_sni` when no `sni`, `auto_san_validation` when neither `sni` nor SANs are set (and
 *   verification is not skipped); `insecureSkipVerify` leaves an empty validation context.
 * - ISTIO_MUTUAL: the workload certificate `default` and root `ROOTCA` from SDS, SNI
 *   `outbound_.<port>_.<subset>_.<host>`, ALPN `istio-peer-exchange`, `istio` (and `h2`).
 * - No `tls` at all: auto mTLS (MeshConfig `enableAutoMtls`, on by default) for services that are
 *   not MESH_EXTERNAL: the Istio mTLS socket for endpoints whose metadata says
 *   `tlsMode: istio`, plaintext for the others (`transport_socket_matches`).
 *
 * One deliberate difference: istiod drops a sidecar DestinationRule's SIMPLE or MUTUAL `tls`
 * that names a `credentialName` (no workloadSelector) and sends plaintext. Dabba keeps the TLS
 * context with the Kubernetes SDS names istiod uses for gateways (`kubernetes://<name>`), which
 * no source here can serve, so such requests are refused rather than sent in clear.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  type Cluster,
  type Cluster_TransportSocketMatch,
  Cluster_TransportSocketMatchSchema,
} from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import { type TransportSocket, TransportSocketSchema } from '#xds/envoy/config/core/v3/base_pb.js';
import { ApiConfigSource_ApiType, ApiVersion } from '#xds/envoy/config/core/v3/config_source_pb.js';
import { RawBufferSchema } from '#xds/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { TlsParameters_TlsProtocol } from '#xds/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { SdsSecretConfigSchema } from '#xds/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  type CommonTlsContextSchema,
  type UpstreamTlsContext,
  UpstreamTlsContextSchema,
} from '#xds/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { IstioClientTls } from './destination-rule-schema.ts';

type SdsSecretInit = MessageInitShape<typeof SdsSecretConfigSchema>;
type CommonTlsInit = MessageInitShape<typeof CommonTlsContextSchema>;

export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';
export const RAW_BUFFER_TRANSPORT_SOCKET = 'envoy.transport_sockets.raw_buffer';
/** The endpoint metadata key transport socket matches read (Envoy's well-known name). */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';
/** istio-agent's SDS cluster and the secret names of the workload identity. */
export const SDS_CLUSTER = 'sds-grpc';
export const SDS_WORKLOAD_CERT = 'default';
export const SDS_ROOT_CA = 'ROOTCA';
/** Istio's ALPN values for in-mesh mTLS (pilot/pkg/networking/util ALPNInMesh...). */
const ALPN_IN_MESH = ['istio-peer-exchange', 'istio'];

export interface ClusterTlsInputs {
  /** The DestinationRule's `tls` for this cluster (top level, subset and port level merged). */
  readonly tls: IstioClientTls | undefined;
  readonly clusterName: string;
  /** Istio's SNI for this cluster: `outbound_.<port>_.<subset>_.<host>`. */
  readonly istioSni: string;
  readonly meshExternal: boolean;
  readonly autoMtls: boolean;
  /** The cluster speaks HTTP/2 upstream (ALPN `h2`). */
  readonly http2: boolean;
  /**
   * The service's identities: a ServiceEntry's `subjectAltNames` and its workloads' SPIFFE IDs,
   * sorted (push_context.go addServiceAccounts).
   */
  readonly serviceAccounts: readonly string[];
}

/** What the TLS settings add to the cluster's upstream HTTP protocol options. */
export interface ClusterTlsResult {
  readonly autoSni: boolean;
  readonly autoSanValidation: boolean;
  /** The DestinationRule TLS mode that decides endpoint mTLS metadata; undefined without `tls`. */
  readonly ruleMode: IstioClientTls['mode'] | 'DISABLE' | undefined;
  /** Set `alpn_override: "false"` in the cluster's istio metadata (SIMPLE, MUTUAL). */
  readonly alpnOverrideOff: boolean;
}

/** pkg/model/authentication.go constructSdsSecretConfig: `default` and `ROOTCA` never wait. */
function sdsSecret(name: string): SdsSecretInit {
  const workload = name === SDS_WORKLOAD_CERT || name === SDS_ROOT_CA;
  return {
    name,
    sdsConfig: {
      configSourceSpecifier: {
        case: 'apiConfigSource',
        value: {
          apiType: ApiConfigSource_ApiType.GRPC,
          setNodeOnFirstMessageOnly: true,
          transportApiVersion: ApiVersion.V3,
          grpcServices: [{ targetSpecifier: { case: 'envoyGrpc', value: { clusterName: SDS_CLUSTER } } }],
        },
      },
      resourceApiVersion: ApiVersion.V3,
      ...(workload ? { initialFetchTimeout: { seconds: 0n, nanos: 0 } } : {}),
    },
  };
}

/** A Kubernetes secret by name over ADS, as istiod sends one to a gateway. */
function kubernetesSecret(name: string): SdsSecretInit {
  return {
    name: name.includes('://') ? name : `kubernetes://${name}`,
    sdsConfig: { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: ApiVersion.V3 },
  };
}

/** util.StringToExactMatch. */
function exactMatchers(names: readonly string[] | undefined) {
  return (names ?? []).map((n) => ({ matchPattern: { case: 'exact' as const, value: n } }));
}

function defaultCommonTlsContext(): CommonTlsInit & { tlsCertificateSdsSecretConfigs: SdsSecretInit[] } {
  return {
    tlsParams: {
      tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_2,
      tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3,
    },
    tlsCertificateSdsSecretConfigs: [],
  };
}

function tlsSocket(context: UpstreamTlsContext): TransportSocket {
  return create(TransportSocketSchema, {
    name: TLS_TRANSPORT_SOCKET,
    configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, context) },
  });
}

/** xdsfilters.RawBufferTransportSocket. */
export function rawBufferSocket(): TransportSocket {
  return create(TransportSocketSchema, {
    name: RAW_BUFFER_TRANSPORT_SOCKET,
    configType: { case: 'typedConfig', value: anyPack(RawBufferSchema, create(RawBufferSchema)) },
  });
}

/** buildUpstreamTLSSettings: the settings that apply, and whether auto mTLS chose them. */
function effectiveTls(input: ClusterTlsInputs): { tls: IstioClientTls; auto: boolean } | undefined {
  const tls = input.tls;
  if (tls !== undefined) {
    if (tls.mode !== 'ISTIO_MUTUAL') return { tls, auto: false };
    return {
      tls: {
        ...tls,
        sni: tls.sni || input.istioSni,
        // A list set (even empty) is kept; only an absent one takes the service accounts.
        subjectAltNames: tls.subjectAltNames ?? [...input.serviceAccounts],
      },
      auto: false,
    };
  }
  // Auto mTLS: never for MESH_EXTERNAL (BestEffortInferServiceMTLSMode: unknown); else
  // PERMISSIVE, Istio's default when no PeerAuthentication says otherwise.
  if (input.meshExternal || !input.autoMtls) return undefined;
  return {
    tls: { mode: 'ISTIO_MUTUAL', sni: input.istioSni, subjectAltNames: [...input.serviceAccounts] },
    auto: true,
  };
}

/** constructUpstreamTLS for SIMPLE and MUTUAL. */
function simpleOrMutual(input: ClusterTlsInputs, tls: IstioClientTls, mutual: boolean): UpstreamTlsContext {
  const common = defaultCommonTlsContext();
  // A ServiceEntry service verifies its own identities when the rule names none.
  const sans = tls.subjectAltNames?.length ? tls.subjectAltNames : input.serviceAccounts;
  if (tls.credentialName) {
    // ApplyCustomSDSToClientCommonTLSContext: certificate and CA from the Kubernetes secret.
    if (mutual) common.tlsCertificateSdsSecretConfigs.push(kubernetesSecret(tls.credentialName));
    common.validationContextType = {
      case: 'combinedValidationContext',
      value: {
        defaultValidationContext: { matchSubjectAltNames: exactMatchers(sans) },
        validationContextSdsSecretConfig: kubernetesSecret(`${tls.credentialName}-cacert`),
      },
    };
  } else {
    if (mutual)
      common.tlsCertificateSdsSecretConfigs.push(
        sdsSecret(`file-cert:${tls.clientCertificate}~${tls.privateKey}`),
      );
    if (tls.insecureSkipVerify === true) {
      common.validationContextType = { case: 'validationContext', value: {} };
    } else {
      common.validationContextType = {
        case: 'combinedValidationContext',
        value: {
          defaultValidationContext: {
            matchSubjectAltNames: exactMatchers(sans),
            ...(tls.caCrl ? { crl: { specifier: { case: 'filename' as const, value: tls.caCrl } } } : {}),
          },
          validationContextSdsSecretConfig: sdsSecret(`file-root:${tls.caCertificates || 'system'}`),
        },
      };
    }
  }
  if (input.http2) common.alpnProtocols = ['h2'];
  return create(UpstreamTlsContextSchema, { commonTlsContext: common, sni: tls.sni ?? '' });
}

function istioMutual(input: ClusterTlsInputs, tls: IstioClientTls): UpstreamTlsContext {
  const common = defaultCommonTlsContext();
  common.tlsCertificateSdsSecretConfigs.push(sdsSecret(SDS_WORKLOAD_CERT));
  common.validationContextType = {
    case: 'combinedValidationContext',
    value: {
      defaultValidationContext: { matchSubjectAltNames: exactMatchers(tls.subjectAltNames) },
      validationContextSdsSecretConfig: sdsSecret(SDS_ROOT_CA),
    },
  };
  common.alpnProtocols = input.http2 ? [...ALPN_IN_MESH, 'h2'] : [...ALPN_IN_MESH];
  return create(UpstreamTlsContextSchema, { commonTlsContext: common, sni: tls.sni || input.clusterName });
}

/**
 * Sets the cluster's transport socket (or transport socket matches, for auto mTLS) and says
 * what goes into its upstream HTTP protocol options.
 */
export function applyUpstreamTls(cluster: Cluster, input: ClusterTlsInputs): ClusterTlsResult {
  const chosen = effectiveTls(input);
  const ruleMode = input.tls === undefined ? undefined : (input.tls.mode ?? 'DISABLE');
  const none: ClusterTlsResult = {
    autoSni: false,
    autoSanValidation: false,
    ruleMode,
    alpnOverrideOff: false,
  };
  if (chosen === undefined) return none;
  const { tls, auto } = chosen;
  switch (tls.mode ?? 'DISABLE') {
    case 'DISABLE':
      return none;
    case 'ISTIO_MUTUAL': {
      const socket = tlsSocket(istioMutual(input, tls));
      if (!auto) {
        cluster.transportSocket = socket;
        return none;
      }
      cluster.transportSocketMatches = [
        create(Cluster_TransportSocketMatchSchema, {
          name: 'tlsMode-istio',
          match: { tlsMode: 'istio' },
          transportSocket: socket,
        }),
        create(Cluster_TransportSocketMatchSchema, {
          name: 'tlsMode-disabled',
          match: {},
          transportSocket: rawBufferSocket(),
        }),
      ] satisfies Cluster_TransportSocketMatch[];
      return none;
    }
    default: {
      const mutual = tls.mode === 'MUTUAL';
      cluster.transportSocket = tlsSocket(simpleOrMutual(input, tls, mutual));
      // setAutoSniAndAutoSanValidation, from the rule's own fields.
      const autoSni = !tls.sni;
      return {
        autoSni,
        autoSanValidation: autoSni && !tls.subjectAltNames?.length && tls.insecureSkipVerify !== true,
        ruleMode,
        alpnOverrideOff: true,
      };
    }
  }
}

/**
 * mtls_checker.go checkMtlsEnabled: whether an endpoint is marked `tlsMode: istio` for the
 * cluster's transport socket matches. The rule's mode decides when it has one; else the
 * endpoint's own mode (PeerAuthentication DISABLE, which Dabba does not read, would clear it).
 */
export function endpointSpeaksIstioMtls(
  ruleMode: ClusterTlsResult['ruleMode'],
  endpointTlsMode: string,
): boolean {
  if (ruleMode !== undefined) return ruleMode === 'ISTIO_MUTUAL';
  return endpointTlsMode === 'istio';
}
