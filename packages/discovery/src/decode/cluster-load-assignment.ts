/**
 * Decoder for a ClusterLoadAssignment (endpoint/v3/endpoint.proto), from EDS or inline in a
 * Cluster's `load_assignment`: endpoints by locality and priority, with the proto's validation
 * rules applied. An endpoint Dabba cannot reach (a pipe, an internal address, a named port) is
 * an issue, never silently left out: dropping it would change the cluster's load distribution.
 */
import { HealthStatus } from '#xds/envoy/config/core/v3/health_check_pb.js';
import type { LbEndpoint } from '#xds/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { ClusterLoadAssignment } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import type {
  EndpointAssignment,
  EndpointHealth,
  EndpointLocality,
  EndpointModel,
  LocalityEndpoints,
} from '../model/endpoint-assignment.ts';
import { type Decoded, IssueSink } from './decoded.ts';
import { deepFreeze } from './deep-freeze.ts';

/** The endpoint metadata transport socket matches read (Envoy's well-known key). */
const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';
/** Envoy's default when `policy.overprovisioning_factor` is unset. */
const DEFAULT_OVERPROVISIONING_FACTOR = 140;
/** `LocalityLbEndpoints.priority`: lte 128 (endpoint_components.proto). */
const MAX_PRIORITY = 128;

const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});

function healthOf(status: HealthStatus): EndpointHealth {
  switch (status) {
    case HealthStatus.UNHEALTHY:
    case HealthStatus.DRAINING:
    case HealthStatus.TIMEOUT:
      return 'unhealthy';
    case HealthStatus.DEGRADED:
      return 'degraded';
    default:
      // Envoy treats UNKNOWN as healthy.
      return 'healthy';
  }
}

/** Workload labels are strings; anything else in the metadata is not a label. */
function labelsOf(value: unknown): Readonly<Record<string, string>> {
  if (typeof value !== 'object' || value === null) return EMPTY_LABELS;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') labels[k] = v;
  return Object.freeze(labels);
}

function endpointOf(lbe: LbEndpoint, path: string, sink: IssueSink): EndpointModel | undefined {
  if (lbe.hostIdentifier.case !== 'endpoint') {
    sink.add(
      lbe.hostIdentifier.case === undefined ? path : `${path}.endpoint_name`,
      lbe.hostIdentifier.case === undefined
        ? 'an endpoint is required'
        : 'named endpoints are not supported by Dabba',
    );
    return undefined;
  }
  const address = lbe.hostIdentifier.value.address?.address;
  const at = `${path}.endpoint.address`;
  if (address?.case !== 'socketAddress') {
    sink.add(
      address?.case === undefined
        ? at
        : `${at}.${address.case === 'envoyInternalAddress' ? 'envoy_internal_address' : address.case}`,
      address?.case === undefined
        ? 'an address is required'
        : `a ${address.case} address is not supported by Dabba`,
    );
    return undefined;
  }
  const socket = address.value;
  if (socket.portSpecifier.case !== 'portValue') {
    sink.add(
      `${at}.socket_address.${socket.portSpecifier.case === 'namedPort' ? 'named_port' : 'port_value'}`,
      socket.portSpecifier.case === 'namedPort'
        ? 'named ports are not supported by Dabba'
        : 'a port is required',
    );
    return undefined;
  }
  const port = socket.portSpecifier.value;
  if (port > 65535) sink.add(`${at}.socket_address.port_value`, `must be at most 65535, got ${port}`);
  if (socket.address === '') sink.add(`${at}.socket_address.address`, 'an address is required');
  const weight = lbe.loadBalancingWeight;
  if (weight !== undefined && weight < 1)
    sink.add(`${path}.load_balancing_weight`, `must be at least 1, got ${weight}`);
  const filterMetadata = lbe.metadata?.filterMetadata;
  const match = filterMetadata?.[TRANSPORT_SOCKET_MATCH_KEY];
  return Object.freeze({
    address: socket.address,
    port,
    weight: weight ?? 1,
    health: healthOf(lbe.healthStatus),
    labels: labelsOf((filterMetadata?.dabba as { labels?: unknown } | undefined)?.labels),
    transportSocketMatch:
      typeof match === 'object' && match !== null && !Array.isArray(match)
        ? deepFreeze(match as Readonly<Record<string, unknown>>)
        : undefined,
  });
}

/**
 * Decodes the endpoints of `assignment` into `sink`. Localities are interned per call by their
 * three names, so the endpoints of one locality share one object.
 */
export function decodeEndpoints(
  assignment: ClusterLoadAssignment,
  sink: IssueSink,
  path = '',
): EndpointAssignment {
  const prefix = path === '' ? '' : `${path}.`;
  const localities: LocalityEndpoints[] = [];
  const shared = new Map<string, EndpointLocality>();
  assignment.endpoints.forEach((group, g) => {
    const at = `${prefix}endpoints[${g}]`;
    if (group.priority > MAX_PRIORITY)
      sink.add(`${at}.priority`, `must be at most ${MAX_PRIORITY}, got ${group.priority}`);
    if (group.loadBalancingWeight !== undefined && group.loadBalancingWeight < 1)
      sink.add(`${at}.load_balancing_weight`, `must be at least 1, got ${group.loadBalancingWeight}`);
    if (group.lbConfig.case !== undefined)
      sink.add(
        `${at}.${group.lbConfig.case === 'loadBalancerEndpoints' ? 'load_balancer_endpoints' : 'leds_cluster_locality_config'}`,
        'not supported by Dabba',
      );
    const region = group.locality?.region ?? '';
    const zone = group.locality?.zone ?? '';
    const subZone = group.locality?.subZone ?? '';
    const id = `${region}\u0000${zone}\u0000${subZone}`;
    let locality = shared.get(id);
    if (locality === undefined) {
      locality = Object.freeze({ region, zone, subZone });
      shared.set(id, locality);
    }
    const endpoints: EndpointModel[] = [];
    group.lbEndpoints.forEach((lbe, e) => {
      const endpoint = endpointOf(lbe, `${at}.lb_endpoints[${e}]`, sink);
      if (endpoint !== undefined) endpoints.push(endpoint);
    });
    localities.push(
      Object.freeze({
        locality,
        priority: group.priority,
        weight: group.loadBalancingWeight,
        endpoints: Object.freeze(endpoints),
      }),
    );
  });
  const factor = assignment.policy?.overprovisioningFactor;
  if (factor !== undefined && factor < 1)
    sink.add(`${prefix}policy.overprovisioning_factor`, `must be greater than 0, got ${factor}`);
  return Object.freeze({
    clusterName: assignment.clusterName,
    localities: Object.freeze(localities),
    overprovisioningFactor: factor ?? DEFAULT_OVERPROVISIONING_FACTOR,
  });
}

/** Decodes a ClusterLoadAssignment resource (EDS), or every issue with its field path. */
export function decodeClusterLoadAssignment(
  assignment: ClusterLoadAssignment,
  source: string,
): Decoded<EndpointAssignment> {
  const sink = new IssueSink(source, { kind: 'ClusterLoadAssignment', name: assignment.clusterName });
  if (assignment.clusterName === '') sink.add('cluster_name', 'a cluster name is required');
  const value = decodeEndpoints(assignment, sink);
  return sink.result(value);
}
