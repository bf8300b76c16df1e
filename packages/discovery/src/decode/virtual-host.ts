import type { VirtualHost } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { RouteModel, VirtualHostModel } from '../model/route-configuration.ts';
import type { IssueSink } from './decoded.ts';
import { deepFreeze } from './deep-freeze.ts';
import { decodeHeaderMutationLists } from './header-mutations.ts';
import { decodeFaultConfig } from './http-fault.ts';
import { decodeRetryPolicy } from './retry-policy.ts';
import { decodeRoute } from './route.ts';

/** Routes decoded between two yields of {@link decodeVirtualHostSteps}. */
const ROUTES_PER_STEP = 32;

/**
 * A VirtualHost, frozen, yielding every {@link ROUTES_PER_STEP} routes so that a caller decoding
 * in slices can pause inside a large one. `matcher` is refused (Dabba selects virtual hosts by
 * domain only); fields about the downstream side or about features Dabba does not have
 * (`require_tls`, CORS, rate limits, virtual clusters, hedging) are not kept. Its domains are
 * checked together with the whole configuration's (validateVirtualHostDomains).
 *
 * @param path field path of the VirtualHost, e.g. `virtualHosts[2]`.
 */
export function* decodeVirtualHostSteps(
  vhost: VirtualHost,
  path: string,
  maxDirectResponseBodyBytes: number,
  sink: IssueSink,
): Generator<void, VirtualHostModel, void> {
  if (vhost.matcher !== undefined) sink.add(`${path}.matcher`, 'not supported by Dabba');
  const lists = decodeHeaderMutationLists(vhost, `${path}.`, sink);
  const retryPolicy =
    vhost.retryPolicy === undefined
      ? undefined
      : decodeRetryPolicy(vhost.retryPolicy, `${path}.retryPolicy`, sink);
  const fault = decodeFaultConfig(vhost.typedPerFilterConfig, path, sink);
  const routes: RouteModel[] = [];
  for (let r = 0; r < vhost.routes.length; r++) {
    if (r > 0 && r % ROUTES_PER_STEP === 0) yield;
    const route = decodeRoute(vhost.routes[r]!, `${path}.routes[${r}]`, maxDirectResponseBodyBytes, sink);
    if (route !== undefined) routes.push(route);
  }
  return deepFreeze({ name: vhost.name, domains: [...vhost.domains], routes, retryPolicy, fault, ...lists });
}
