import { ISTIO_LATEST, ISTIO_UNKNOWN } from '../istio-metric-names.ts';
import type { IstioSourceLabels } from '../istio-peer-labels.ts';
import type { PeerWorkload } from './peer-workload.ts';

/**
 * The `source_*` labels a server-side sidecar writes for a peer (istio/proxy istio_stats.cc,
 * `populatePeerInfo`, `Reporter::ServerSidecar`): each peer field, else `unknown`; the canonical
 * revision, else `latest`. `source_principal` is the peer's mTLS SAN, which Dabba does not have
 * yet: `unknown`. With no peer metadata every label is `unknown` and the revision `latest`.
 */
export function istioPeerSourceLabels(peer: PeerWorkload | undefined): IstioSourceLabels {
  const or = (v: string | undefined, fallback: string) => (v === undefined || v === '' ? fallback : v);
  return Object.freeze({
    source_workload: or(peer?.workloadName, ISTIO_UNKNOWN),
    source_workload_namespace: or(peer?.namespace, ISTIO_UNKNOWN),
    source_principal: ISTIO_UNKNOWN,
    source_app: or(peer?.app, ISTIO_UNKNOWN),
    source_version: or(peer?.version, ISTIO_UNKNOWN),
    source_canonical_service: or(peer?.canonicalService, ISTIO_UNKNOWN),
    source_canonical_revision: or(peer?.canonicalRevision, ISTIO_LATEST),
    source_cluster: or(peer?.clusterId, ISTIO_UNKNOWN),
  });
}

/** Labels with no peer metadata: what a sidecar writes for a caller outside the mesh. */
export const UNKNOWN_SOURCE: IstioSourceLabels = istioPeerSourceLabels(undefined);
