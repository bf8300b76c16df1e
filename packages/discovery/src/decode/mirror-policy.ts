import type { RouteAction_RequestMirrorPolicy } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { MirrorPolicyModel } from '../model/mirror-policy.ts';
import type { IssueSink } from './decoded.ts';
import { fractionalPercentFromXds } from './fractional-percent.ts';

/**
 * One RouteAction.request_mirror_policies entry; undefined when it names no cluster, or names
 * it by `cluster_header`, which Dabba does not support.
 *
 * @param path field path of the RequestMirrorPolicy.
 */
export function decodeMirrorPolicy(
  m: RouteAction_RequestMirrorPolicy,
  path: string,
  sink: IssueSink,
): MirrorPolicyModel | undefined {
  if (m.clusterHeader.length > 0) {
    sink.add(`${path}.clusterHeader`, 'not supported by Dabba');
    return undefined;
  }
  if (m.cluster.length === 0) {
    sink.add(`${path}.cluster`, 'must not be empty');
    return undefined;
  }
  const rf = m.runtimeFraction;
  const dv = rf?.defaultValue;
  return {
    cluster: m.cluster,
    runtimeFraction:
      rf === undefined ? undefined : dv === undefined ? {} : { defaultValue: fractionalPercentFromXds(dv) },
    disableShadowHostSuffixAppend: m.disableShadowHostSuffixAppend,
  };
}
