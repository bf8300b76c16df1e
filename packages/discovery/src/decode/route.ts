import type { Route } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { RouteActionChoice, RouteModel } from '../model/route-configuration.ts';
import type { IssueSink } from './decoded.ts';
import { decodeDirectResponse } from './direct-response.ts';
import { decodeHeaderMutationLists } from './header-mutations.ts';
import { decodeFaultConfig } from './http-fault.ts';
import { decodeRedirectAction } from './redirect-action.ts';
import { decodeRouteAction } from './route-action.ts';
import { decodeRouteMatch } from './route-match.ts';

/**
 * A Route: its match, fault config, action and header lists, each checked; undefined when the
 * match or the action cannot be had (the issues say why).
 *
 * @param path field path of the Route, e.g. `virtualHosts[0].routes[3]`.
 * @param maxDirectResponseBodyBytes the route configuration's limit on direct response bodies.
 */
export function decodeRoute(
  route: Route,
  path: string,
  maxDirectResponseBodyBytes: number,
  sink: IssueSink,
): RouteModel | undefined {
  const match = decodeRouteMatch(route.match, `${path}.match`, sink);
  const fault = decodeFaultConfig(route.typedPerFilterConfig, path, sink);
  const action = decodeAction(route, path, maxDirectResponseBodyBytes, sink);
  const lists = decodeHeaderMutationLists(route, `${path}.`, sink);
  if (match === undefined || action === undefined) return undefined;
  return { name: route.name, match, action, fault, ...lists };
}

function decodeAction(
  route: Route,
  path: string,
  maxDirectResponseBodyBytes: number,
  sink: IssueSink,
): RouteActionChoice | undefined {
  const action = route.action;
  switch (action.case) {
    case 'route':
      return decodeRouteAction(action.value, `${path}.route`, sink);
    case 'redirect':
      return decodeRedirectAction(action.value, `${path}.redirect`, sink);
    case 'directResponse':
      return decodeDirectResponse(action.value, `${path}.directResponse`, maxDirectResponseBodyBytes, sink);
    case 'filterAction':
    case 'nonForwardingAction':
      return { kind: 'unsupported', field: action.case };
    case undefined:
      sink.add(path, 'one of route, redirect, directResponse is required');
      return undefined;
  }
}
