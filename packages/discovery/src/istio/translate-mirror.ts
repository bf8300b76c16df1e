/**
 * VirtualService `mirror` / `mirrors` -> RouteAction.request_mirror_policies, as istiod builds
 * them (pilot/pkg/networking/core/route/route.go applyHTTPRouteDestination, MirrorPercent,
 * MirrorPercentByPolicy, TranslateRequestMirrorPolicyCluster):
 *
 * - `mirror` first, then each `mirrors` entry in order, each to the cluster
 *   `outbound|<port>|<subset>|<host>` its destination resolves to (the same rules as a route
 *   destination: destination.port, else the service's only port, else the listener port);
 * - `mirrorPercentage` (per MILLION, value x 10000 truncated), else the deprecated integer
 *   `mirrorPercent` (per HUNDRED), else 100%; a `mirrors` entry has only its own `percentage`
 *   (`mirrorPercentage` applies to `mirror` alone); an explicit 0 drops the policy;
 * - `trace_sampled: false` on every policy; `disable_shadow_host_suffix_append` is never set, so
 *   the mirror's authority always gets Envoy's `-shadow` suffix.
 *
 * istiod lets an unresolvable mirror destination blackhole; Dabba reports it like a route
 * destination, since a mirror that silently goes nowhere defeats its purpose.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { RouteAction_RequestMirrorPolicySchema } from '#xds/envoy/config/route/v3/route_components_pb.js';
import { FractionalPercent_DenominatorType } from '#xds/envoy/type/v3/percent_pb.js';
import { resolveShortName } from './host-names.ts';
import { percentToFraction } from './translate-fault.ts';
import type { ClusterResolver } from './translate-routes.ts';
import type { IstioHttpRoute } from './virtual-service-schema.ts';

type MirrorPolicyInit = MessageInitShape<typeof RouteAction_RequestMirrorPolicySchema>;
type Destination = NonNullable<IstioHttpRoute['mirror']>;
type FractionInit = NonNullable<MirrorPolicyInit['runtimeFraction']>['defaultValue'];

export interface MirrorInputs {
  readonly namespace: string;
  readonly clusterDomain: string;
  readonly listenerPort: number;
  readonly resolveCluster: ClusterResolver;
}

/** A mirror destination istiod's translation could not resolve, relative to the http route. */
export interface MirrorProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const HUNDRED_PERCENT: FractionInit = {
  numerator: 100,
  denominator: FractionalPercent_DenominatorType.HUNDRED,
};

/** istiod MirrorPercent: the share `mirror` gets, or undefined for an explicit 0 (no policy). */
function mirrorFraction(h: IstioHttpRoute): FractionInit | undefined {
  if (h.mirrorPercentage !== undefined)
    return h.mirrorPercentage.value > 0 ? percentToFraction(h.mirrorPercentage.value) : undefined;
  if (h.mirrorPercent !== undefined)
    return h.mirrorPercent > 0
      ? { numerator: h.mirrorPercent, denominator: FractionalPercent_DenominatorType.HUNDRED }
      : undefined;
  return HUNDRED_PERCENT;
}

/**
 * The mirror policies of one http route, or the problems that keep it from being translated.
 * Returns an empty list when the route mirrors nothing.
 */
export function mirrorPolicies(
  h: IstioHttpRoute,
  input: MirrorInputs,
): { policies: MirrorPolicyInit[] } | { problems: MirrorProblem[] } {
  const entries: { path: (string | number)[]; destination: Destination; fraction: FractionInit }[] = [];
  if (h.mirror) {
    const fraction = mirrorFraction(h);
    if (fraction) entries.push({ path: ['mirror'], destination: h.mirror, fraction });
  }
  (h.mirrors ?? []).forEach((m, i) => {
    const fraction =
      m.percentage === undefined
        ? HUNDRED_PERCENT
        : m.percentage.value > 0
          ? percentToFraction(m.percentage.value)
          : undefined;
    if (fraction) entries.push({ path: ['mirrors', i, 'destination'], destination: m.destination, fraction });
  });
  const policies: MirrorPolicyInit[] = [];
  const problems: MirrorProblem[] = [];
  for (const e of entries) {
    const host = resolveShortName(e.destination.host, input.namespace, input.clusterDomain);
    const resolved = input.resolveCluster(
      host,
      e.destination.port?.number,
      e.destination.subset,
      input.listenerPort,
    );
    if ('error' in resolved) problems.push({ path: e.path, message: resolved.error });
    else
      policies.push({
        cluster: resolved.cluster,
        runtimeFraction: { defaultValue: e.fraction },
        traceSampled: false,
      });
  }
  return problems.length > 0 ? { problems } : { policies };
}
