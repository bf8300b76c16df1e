/**
 * A RouteConfiguration as Dabba uses it, free of protobuf types: what the RouteConfiguration
 * decoder returns and the data plane compiles. Every value in it has been validated (the model
 * is valid by construction), oneofs are discriminated unions or optional fields, enums are
 * string unions, durations are milliseconds and wrappers plain values. Envoy's defaults are not
 * filled in: a field left unset stays unset, so the model says what the configuration says.
 */

import type { DirectResponseModel } from './direct-response.ts';
import type { HeaderMutationLists } from './header-mutations.ts';
import type { HttpFaultModel } from './http-fault.ts';
import type { RedirectActionModel } from './redirect-action.ts';
import type { RetryPolicyModel } from './retry-policy.ts';
import type { RouteActionModel } from './route-action.ts';
import type { RouteMatch } from './route-match.ts';

/**
 * A route whose action Dabba does not implement (`filter_action`, `non_forwarding_action`). It
 * still takes part in matching, so first-match order is kept; requests it matches fail.
 */
export interface UnsupportedRouteActionModel {
  readonly kind: 'unsupported';
  readonly field: 'filterAction' | 'nonForwardingAction';
}

/** What a route does: Route.action. */
export type RouteActionChoice =
  | RouteActionModel
  | RedirectActionModel
  | DirectResponseModel
  | UnsupportedRouteActionModel;

/** route_components.proto Route. */
export interface RouteModel extends HeaderMutationLists {
  readonly name: string;
  readonly match: RouteMatch;
  readonly action: RouteActionChoice;
  /** `typed_per_filter_config["envoy.filters.http.fault"]`, decoded; undefined when absent. */
  readonly fault: HttpFaultModel | undefined;
}

/** route_components.proto VirtualHost. */
export interface VirtualHostModel extends HeaderMutationLists {
  readonly name: string;
  /** No domain appears twice in a route configuration, and `*` at most once. */
  readonly domains: readonly string[];
  readonly routes: readonly RouteModel[];
  /** Applies to the forwarding routes that have no retry policy of their own. */
  readonly retryPolicy: RetryPolicyModel | undefined;
  /** The fault config of the routes that have none of their own. */
  readonly fault: HttpFaultModel | undefined;
}

/** route.proto RouteConfiguration. */
export interface RouteConfigurationModel extends HeaderMutationLists {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHostModel[];
  readonly mostSpecificHeaderMutationsWins: boolean;
  readonly ignorePortInHostMatching: boolean;
}
