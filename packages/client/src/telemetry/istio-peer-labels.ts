import type { IstioServiceRef, Workload } from '@dabba/discovery';
import type { IstioPeerLabels } from './istio-label-set.ts';
import { ISTIO_LATEST, ISTIO_UNKNOWN } from './istio-metric-names.ts';

/** The `source_*` labels: this process as Istio's stats filter describes the client workload. */
export type IstioSourceLabels = Pick<IstioPeerLabels, Extract<keyof IstioPeerLabels, `source_${string}`>>;
/** The `destination_*` labels: the peer, from the cluster's Istio metadata and its endpoints. */
export type IstioDestinationLabels = Pick<
  IstioPeerLabels,
  Extract<keyof IstioPeerLabels, `destination_${string}`>
>;

const CANONICAL_NAME = 'service.istio.io/canonical-name';
const CANONICAL_REVISION = 'service.istio.io/canonical-revision';

/**
 * This workload's labels as a sidecar's stats filter would write them (istio_stats.cc reads the
 * node metadata: WORKLOAD_NAME, NAMESPACE, labels, and the peer's mTLS identity).
 *
 * - `source_workload`: Istio writes the Deployment name, which Dabba is not told; the `app` label
 *   stands in for it (for most workloads the two are equal), else `unknown`.
 * - `source_principal`: Istio writes the client's SPIFFE ID only when the connection is mTLS, and
 *   `unknown` otherwise; Dabba does not speak mTLS yet, so `unknown`.
 * - canonical service and revision: the `service.istio.io/canonical-*` labels, else `app` and
 *   `version` (Istio's fallback), else `unknown` and `latest`.
 * - `source_cluster`: Dabba has no multicluster identity: `unknown`.
 */
export function istioSourceLabels(workload: Workload): IstioSourceLabels {
  const l = workload.labels;
  const app = nonEmpty(l.app);
  const version = nonEmpty(l.version);
  return {
    source_workload: app ?? ISTIO_UNKNOWN,
    source_workload_namespace: nonEmpty(workload.namespace) ?? ISTIO_UNKNOWN,
    source_principal: ISTIO_UNKNOWN,
    source_app: app ?? ISTIO_UNKNOWN,
    source_version: version ?? ISTIO_UNKNOWN,
    source_canonical_service: nonEmpty(l[CANONICAL_NAME]) ?? app ?? ISTIO_UNKNOWN,
    source_canonical_revision: nonEmpty(l[CANONICAL_REVISION]) ?? version ?? ISTIO_LATEST,
    source_cluster: ISTIO_UNKNOWN,
  };
}

/** Destination labels when nothing is known (no route, a direct response or redirect). */
export const UNKNOWN_DESTINATION: IstioDestinationLabels = Object.freeze({
  destination_workload: ISTIO_UNKNOWN,
  destination_workload_namespace: ISTIO_UNKNOWN,
  destination_principal: ISTIO_UNKNOWN,
  destination_app: ISTIO_UNKNOWN,
  destination_version: ISTIO_UNKNOWN,
  destination_service: ISTIO_UNKNOWN,
  destination_service_name: ISTIO_UNKNOWN,
  destination_service_namespace: ISTIO_UNKNOWN,
  destination_canonical_service: ISTIO_UNKNOWN,
  destination_canonical_revision: ISTIO_UNKNOWN,
  destination_cluster: ISTIO_UNKNOWN,
});

/**
 * Destination labels of a request Istio's catch-all routes take: `destination_service_name` names
 * the virtual cluster (istio.io blog "Monitoring blocked and passthrough external service
 * traffic", HTTP proxy listener case), the rest stays `unknown`. Istio also writes the request's
 * host in `destination_service`; Dabba keeps `unknown` there, as that value is request data and
 * would make the series unbounded.
 */
function catchAllDestination(cluster: string): IstioDestinationLabels {
  return Object.freeze({ ...UNKNOWN_DESTINATION, destination_service_name: cluster });
}

/** Requests Istio's `block_all` route refuses (REGISTRY_ONLY: a direct 502). */
export const BLACKHOLE_DESTINATION: IstioDestinationLabels = catchAllDestination('BlackHoleCluster');

/** Requests sent to their original destination (ALLOW_ANY: `allow_any` route, unknown ports). */
export const PASSTHROUGH_DESTINATION: IstioDestinationLabels = catchAllDestination('PassthroughCluster');

/** What {@link istioDestinationLabels} reads: a cluster's metadata and its endpoints' labels. */
export interface IstioDestinationInput {
  /** The cluster's `istio` metadata `services` (Istio's `[{host, name, namespace}]`). */
  readonly istioServices: readonly IstioServiceRef[];
  readonly endpointLabels: readonly Readonly<Record<string, string>>[];
}

/**
 * The destination labels of a cluster, from configuration only.
 *
 * - service, its name and namespace: the first entry of the cluster's `istio.services` metadata
 *   (what Envoy's stats filter reads on the source side), else `unknown`.
 * - app, version, canonical service and revision, workload: on the source side Istio learns them
 *   from the peer's metadata exchange; Dabba takes them from the endpoints' labels when every
 *   endpoint of the cluster agrees (a subset cluster, or a service with one version), else
 *   `unknown`. The workload namespace is the service's when the endpoints agree on an `app`.
 * - principal and destination cluster: `unknown` (no mTLS, no multicluster).
 */
export function istioDestinationLabels(input: IstioDestinationInput): IstioDestinationLabels {
  const service = input.istioServices[0];
  if (service === undefined) return UNKNOWN_DESTINATION;
  const { host, namespace } = service;
  const agreed = (name: string): string | undefined => {
    let value: string | undefined;
    for (const labels of input.endpointLabels) {
      const v = nonEmpty(labels[name]);
      if (v === undefined || (value !== undefined && v !== value)) return undefined;
      value = v;
    }
    return value;
  };
  const app = agreed('app');
  const version = agreed('version');
  return Object.freeze({
    destination_workload: app ?? ISTIO_UNKNOWN,
    destination_workload_namespace: app !== undefined ? (namespace ?? ISTIO_UNKNOWN) : ISTIO_UNKNOWN,
    destination_principal: ISTIO_UNKNOWN,
    destination_app: app ?? ISTIO_UNKNOWN,
    destination_version: version ?? ISTIO_UNKNOWN,
    destination_service: host ?? ISTIO_UNKNOWN,
    destination_service_name: service.name ?? ISTIO_UNKNOWN,
    destination_service_namespace: namespace ?? ISTIO_UNKNOWN,
    destination_canonical_service: agreed(CANONICAL_NAME) ?? app ?? ISTIO_UNKNOWN,
    destination_canonical_revision:
      agreed(CANONICAL_REVISION) ?? version ?? (app !== undefined ? ISTIO_LATEST : ISTIO_UNKNOWN),
    destination_cluster: ISTIO_UNKNOWN,
  });
}

/**
 * The full peer labels of outbound HTTP requests: `request_protocol` is `http` (Dabba does not
 * yet tell gRPC apart per request; the closed set would be `http` | `grpc`), and
 * `connection_security_policy` is `unknown`, as Istio writes on the source side.
 */
export function istioOutboundPeerLabels(
  source: IstioSourceLabels,
  destination: IstioDestinationLabels,
): IstioPeerLabels {
  return Object.freeze({
    ...source,
    ...destination,
    request_protocol: 'http',
    connection_security_policy: ISTIO_UNKNOWN,
  });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
