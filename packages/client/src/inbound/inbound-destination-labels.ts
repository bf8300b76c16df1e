import type { Workload } from '@dabba/discovery';
import { ISTIO_UNKNOWN } from '../telemetry/istio-metric-names.ts';
import { type IstioDestinationLabels, istioSourceLabels } from '../telemetry/istio-peer-labels.ts';
import type { InboundService } from './inbound-service.ts';

/**
 * The `destination_*` labels of requests this workload serves, as a server-side sidecar writes
 * them (istio/proxy istio_stats.cc, `populatePeerInfo`, `Reporter::ServerSidecar`): this
 * workload's own name, namespace, app, version and canonical service/revision (the same values
 * its `source_*` labels carry on outbound requests); `destination_service` and
 * `destination_service_name` from the inbound service, else the canonical service name (the
 * filter's fallback when neither the cluster nor the Host header gives one: Dabba never labels
 * with the Host header, which is request data); `destination_service_namespace` this workload's
 * namespace; principal and cluster `unknown` (no mTLS, no multicluster yet).
 */
export function inboundDestinationLabels(
  workload: Workload,
  service: InboundService | undefined,
): IstioDestinationLabels {
  const own = istioSourceLabels(workload);
  return Object.freeze({
    destination_workload: own.source_workload,
    destination_workload_namespace: own.source_workload_namespace,
    destination_principal: ISTIO_UNKNOWN,
    destination_app: own.source_app,
    destination_version: own.source_version,
    destination_service: service?.host ?? own.source_canonical_service,
    destination_service_name: service?.name ?? own.source_canonical_service,
    destination_service_namespace: own.source_workload_namespace,
    destination_canonical_service: own.source_canonical_service,
    destination_canonical_revision: own.source_canonical_revision,
    destination_cluster: ISTIO_UNKNOWN,
  });
}
