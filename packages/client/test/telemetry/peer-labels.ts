import type { IstioPeerLabels } from '../../src/telemetry/istio-label-set.ts';

/** The configuration-derived labels of a Dabba client `productpage` calling `reviews` at `version`. */
export function reviewsPeer(version = 'v1', overrides: Partial<IstioPeerLabels> = {}): IstioPeerLabels {
  return {
    source_workload: 'productpage-v1',
    source_workload_namespace: 'bookinfo',
    source_principal: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage',
    source_app: 'productpage',
    source_version: 'v1',
    source_canonical_service: 'productpage',
    source_canonical_revision: 'v1',
    source_cluster: 'Kubernetes',
    destination_workload: `reviews-${version}`,
    destination_workload_namespace: 'bookinfo',
    destination_principal: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews',
    destination_app: 'reviews',
    destination_version: version,
    destination_service: 'reviews.bookinfo.svc.cluster.local',
    destination_service_name: 'reviews',
    destination_service_namespace: 'bookinfo',
    destination_canonical_service: 'reviews',
    destination_canonical_revision: version,
    destination_cluster: 'Kubernetes',
    request_protocol: 'http',
    connection_security_policy: 'unknown',
    ...overrides,
  };
}
