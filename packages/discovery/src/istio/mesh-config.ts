/**
 * The parts of Istio's MeshConfig that change what istiod generates for a sidecar. Defaults
 * are Istio's (mesh/v1alpha1/config.proto and istiod's default mesh config).
 */
import type { IstioLocalityLbSetting } from './destination-rule-schema.ts';

export interface MeshConfig {
  /** ALLOW_ANY sends requests for unknown hosts straight to them (PassthroughCluster). */
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Upstream connect timeout when a DestinationRule sets none. Istio: 10 s. */
  readonly connectTimeoutMs: number;
  /** Mesh-wide locality LB setting; Istio enables locality LB by default. */
  readonly localityLbSetting: IstioLocalityLbSetting;
  /** Whether HTTP/1.1 upstream connections are upgraded to HTTP/2. Istio: DO_NOT_UPGRADE. */
  readonly h2UpgradePolicy: 'DO_NOT_UPGRADE' | 'UPGRADE';
  /**
   * How request paths are normalized before routing (MeshConfig
   * `pathNormalization.normalization`). Istio's default behaves as BASE: RFC 3986 normalization
   * (Envoy's `normalize_path`); MERGE_SLASHES adds `merge_slashes`; DECODE_AND_MERGE_SLASHES
   * also decodes `%2F` and `%5C`; NONE leaves paths as they are.
   */
  readonly pathNormalization: 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
  /**
   * Auto mTLS (MeshConfig `enableAutoMtls`, on by default): a service with no DestinationRule
   * `tls` is reached over Istio mTLS on its endpoints that have a sidecar (`tlsMode: istio`).
   */
  readonly enableAutoMtls: boolean;
}

export const MESH_CONFIG_DEFAULTS: MeshConfig = Object.freeze({
  outboundTrafficPolicy: 'ALLOW_ANY',
  connectTimeoutMs: 10_000,
  localityLbSetting: Object.freeze({ enabled: true }),
  h2UpgradePolicy: 'DO_NOT_UPGRADE',
  pathNormalization: 'BASE',
  enableAutoMtls: true,
});

/** Envoy/Istio names of the clusters that are not services. */
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
