/**
 * A peer workload as Istio's metadata exchange describes it: the fields of
 * `Istio::Common::WorkloadMetadataObject` that the stats filter turns into labels
 * (istio/proxy extensions/common/metadata_object.h). Empty string = not known.
 */
export interface PeerWorkload {
  /** `NAME`: the pod (instance) name. */
  readonly instanceName: string;
  /** `NAMESPACE`. */
  readonly namespace: string;
  /** `WORKLOAD_NAME`: the Deployment (or other owner) name. */
  readonly workloadName: string;
  /** `CLUSTER_ID`: the Kubernetes cluster the workload runs in. */
  readonly clusterId: string;
  /** `LABELS["service.istio.io/canonical-name"]`. */
  readonly canonicalService: string;
  /** `LABELS["service.istio.io/canonical-revision"]`. */
  readonly canonicalRevision: string;
  /** `LABELS.app`, else `LABELS["app.kubernetes.io/name"]`. */
  readonly app: string;
  /** `LABELS.version`, else `LABELS["app.kubernetes.io/version"]`. */
  readonly version: string;
}

/** The Struct keys a sidecar's node metadata uses (metadata_object.h `*MetadataField`). */
export const PEER_FIELDS = Object.freeze({
  instanceName: 'NAME',
  namespace: 'NAMESPACE',
  workloadName: 'WORKLOAD_NAME',
  clusterId: 'CLUSTER_ID',
  labels: 'LABELS',
  owner: 'OWNER',
} as const);

/** The labels inside `LABELS` that carry meaning (metadata_object.h `*Label`). */
export const PEER_LABELS = Object.freeze({
  canonicalService: 'service.istio.io/canonical-name',
  canonicalRevision: 'service.istio.io/canonical-revision',
  app: 'app',
  appQualified: 'app.kubernetes.io/name',
  version: 'version',
  versionQualified: 'app.kubernetes.io/version',
} as const);
