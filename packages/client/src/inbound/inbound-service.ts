import type { Workload } from '@dabba/discovery';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import { ISTIO_UNKNOWN } from '../telemetry/istio-metric-names.ts';

/** A mesh service, as Istio's cluster metadata names it (`istio.services[]`). */
export interface InboundService {
  /** `reviews.default.svc.cluster.local`. */
  readonly host: string;
  /** `reviews`. */
  readonly name: string;
  readonly namespace: string;
  /** The service port (of the cluster `outbound|<port>||<host>`), for span names. */
  readonly port: number;
}

/**
 * The service an inbound request on `port` reached. Istio builds one inbound cluster per target
 * port and puts in its `istio.services` metadata every service that selects the pod on that port
 * (istio/istio cluster builder, `addTelemetryMetadata`); the stats filter takes the first. Dabba
 * has no inbound clusters, so it looks for the same services in the outbound ones: clusters of
 * an Istio service (no subset) in this workload's namespace with an endpoint on `port` whose
 * labels include every label of this workload. Several: the first by host name.
 * `undefined` when none matches or the workload has no labels to match on.
 */
export function resolveInboundService(
  clusters: Iterable<CompiledCluster>,
  workload: Workload,
  port: number,
): InboundService | undefined {
  const own = Object.entries(workload.labels);
  if (own.length === 0) return undefined;
  let found: InboundService | undefined;
  for (const c of clusters) {
    const d = c.istioDestination;
    if (d.destination_service === ISTIO_UNKNOWN) continue;
    // outbound|<port>|<subset>|<host>: a subset cluster repeats its service's endpoints.
    const parts = c.name.split('|');
    if (parts.length !== 4 || parts[0] !== 'outbound' || parts[2] !== '') continue;
    if (d.destination_service_namespace !== workload.namespace) continue;
    const selects = c.hosts.some((h) => h.port === port && own.every(([k, v]) => h.labels[k] === v));
    if (!selects) continue;
    if (found === undefined || d.destination_service < found.host) {
      found = {
        host: d.destination_service,
        name: d.destination_service_name,
        namespace: d.destination_service_namespace,
        port: Number(parts[1]),
      };
    }
  }
  return found;
}
