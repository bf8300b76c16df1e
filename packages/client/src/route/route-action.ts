import type {
  DirectResponseModel,
  HashPolicyModel,
  MirrorPolicyModel,
  RetryPolicyModel,
  RouteActionModel,
  RouteModel,
  VirtualHostModel,
} from '@dabba/discovery';
import { type CompiledFault, compileFault, type Fraction, fractionOf } from '../resilience/fault.ts';
import { type CompiledRetryPolicy, compileRetryPolicy } from '../resilience/retry-policy.ts';
import type { HeaderMutationLevel } from './header-mutations.ts';
import { compilePathRewrite, type PathRewriter } from './path-rewrite.ts';
import { compileRedirect, type RedirectRoute } from './redirect.ts';
import type { RegexRewrite } from './regex-rewrite.ts';
import { compileWeightedClusters, type WeightedClusters } from './weighted-clusters.ts';

/** RouteAction.hash_policy entry as plain data, for the ring-hash / Maglev load balancers. */
export type HashPolicy =
  | { readonly kind: 'header'; readonly headerName: string; readonly terminal: boolean }
  | {
      readonly kind: 'cookie';
      readonly name: string;
      /** Cookie TTL in ms when set (Envoy then generates the cookie if absent). */
      readonly ttlMs: number | undefined;
      readonly path: string;
      readonly terminal: boolean;
    }
  | { readonly kind: 'queryParameter'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'sourceIp'; readonly terminal: boolean }
  | { readonly kind: 'filterState'; readonly key: string; readonly terminal: boolean };

/**
 * The route's fault injection (envoy.filters.http.fault per-route config). Envoy's fault filter
 * sits before the router in the HTTP filter chain, so it applies to every route that carries the
 * config, whatever the route does: forward, redirect or answer directly.
 */
export interface RouteFault {
  /** Compiled once per snapshot; `undefined` when the route injects no fault. */
  readonly fault: CompiledFault | undefined;
}

/**
 * One RouteAction.request_mirror_policies entry: a fire-and-forget copy of the request to
 * `cluster` for the share of requests `fraction` selects.
 */
export interface MirrorPolicy {
  readonly cluster: string;
  /** runtime_fraction.default_value (Dabba has no runtime layer); 100% when absent, as in Envoy. */
  readonly fraction: Fraction;
  /** disable_shadow_host_suffix_append: keep the authority instead of adding `-shadow`. */
  readonly keepAuthority: boolean;
}

/** Route-level policy shared by every forwarding action. */
export interface ForwardingPolicy extends RouteFault {
  /** RouteAction.timeout in ms: 15000 when absent (Envoy's default), 0 = disabled. */
  readonly timeoutMs: number;
  /** The route's retry policy, else the virtual host's (route-level replaces, never merges). */
  readonly retryPolicy: RetryPolicyModel | undefined;
  /**
   * {@link retryPolicy} compiled once per snapshot; `undefined` without one (Envoy then neither
   * retries nor applies a per-try timeout).
   */
  readonly retry: CompiledRetryPolicy | undefined;
  readonly hashPolicy: readonly HashPolicy[];
  readonly prefixRewrite: string | undefined;
  readonly regexRewrite: RegexRewrite | undefined;
  readonly hostRewriteLiteral: string | undefined;
  readonly autoHostRewrite: boolean;
  /** The upstream `:path` (with query) after prefix/regex rewrite; `undefined` when unchanged. */
  readonly rewritePath: PathRewriter;
  /** request_mirror_policies; `undefined` when there are none, so the request path checks once. */
  readonly mirrors: readonly MirrorPolicy[] | undefined;
}

/** Forward to one named cluster. */
export interface ClusterRoute extends ForwardingPolicy {
  readonly kind: 'cluster';
  readonly cluster: string;
}

/** Forward to one of several clusters by weight. */
export interface WeightedRoute extends ForwardingPolicy, WeightedClusters {
  readonly kind: 'weighted';
}

/** Forward to the cluster named by a request header (RouteAction.cluster_header). */
export interface ClusterHeaderRoute extends ForwardingPolicy {
  readonly kind: 'clusterHeader';
  /** Lowercase header name; its first value is the cluster name. */
  readonly header: string;
}

/** Answer locally (Route.direct_response). */
export interface DirectResponseRoute extends RouteFault {
  readonly kind: 'direct';
  readonly status: number;
  /** inline_string as a string, inline_bytes as bytes; `undefined` for no body. */
  readonly body: string | Uint8Array | undefined;
}

/**
 * A route whose action Dabba does not implement (filter_action, non_forwarding_action, cluster
 * specifier plugins). It still takes part in matching, so first-match order is kept; the
 * caller fails the request rather than falling through to a later route.
 */
export interface UnsupportedRoute extends RouteFault {
  readonly kind: 'unsupported';
  /** The action field, e.g. `nonForwardingAction`. */
  readonly field: string;
}

/** What a matched route does. */
export type CompiledRouteAction =
  | ClusterRoute
  | WeightedRoute
  | ClusterHeaderRoute
  | (RedirectRoute & RouteFault)
  | DirectResponseRoute
  | UnsupportedRoute;

/** Envoy's route timeout when RouteAction.timeout is absent. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

/** What {@link compileRouteAction} needs besides the route. */
export interface RouteActionContext {
  readonly vhost: VirtualHostModel;
  /** {@link matchedLength} of the route's match. */
  readonly matched: number;
  /** Request/response levels of this route in evaluation order (weighted clusters go first). */
  readonly requestLevels: readonly HeaderMutationLevel[];
  readonly responseLevels: readonly HeaderMutationLevel[];
}

/**
 * Compiles Route.action (route_components.proto Route, RouteAction, RedirectAction,
 * DirectResponseAction) from the decoded route.
 */
export function compileRouteAction(route: RouteModel, ctx: RouteActionContext): CompiledRouteAction {
  const action = route.action;
  // Every action kind carries the property (same shape for the request path's one check).
  // Envoy's fault filter uses the most specific per-filter config: the route's, else the virtual
  // host's (resolveMostSpecificPerFilterConfig).
  const fault = compileFault(route.fault ?? ctx.vhost.fault);
  switch (action.kind) {
    case 'route':
      return compileForwarding(action, ctx, fault);
    case 'redirect':
      return Object.freeze({ ...compileRedirect(action, ctx.matched), fault });
    case 'directResponse':
      return compileDirect(action, fault);
    case 'unsupported':
      return Object.freeze({ kind: 'unsupported', field: action.field, fault });
  }
}

function compileForwarding(
  a: RouteActionModel,
  ctx: RouteActionContext,
  fault: CompiledFault | undefined,
): CompiledRouteAction {
  const rewrite = compilePathRewrite(a.prefixRewrite, a.regexRewrite, ctx.matched);
  const retryPolicy = a.retryPolicy ?? ctx.vhost.retryPolicy;
  const policy: ForwardingPolicy = {
    timeoutMs: a.timeoutMs ?? DEFAULT_ROUTE_TIMEOUT_MS,
    retryPolicy,
    retry: compileRetryPolicy(retryPolicy),
    hashPolicy: Object.freeze(a.hashPolicy.flatMap(hashPolicy)),
    prefixRewrite: rewrite.prefixRewrite,
    regexRewrite: rewrite.regexRewrite,
    hostRewriteLiteral: a.hostRewriteLiteral.length > 0 ? a.hostRewriteLiteral : undefined,
    autoHostRewrite: a.autoHostRewrite,
    rewritePath: rewrite.rewritePath,
    mirrors: mirrorPolicies(a.requestMirrorPolicies),
    fault,
  };
  const c = a.clusterSpecifier;
  switch (c.kind) {
    case 'cluster':
      return Object.freeze({ kind: 'cluster', cluster: c.cluster, ...policy });
    case 'clusterHeader':
      return Object.freeze({ kind: 'clusterHeader', header: c.header.toLowerCase(), ...policy });
    case 'weightedClusters': {
      const wc = compileWeightedClusters(c.weightedClusters, ctx.requestLevels, ctx.responseLevels);
      return Object.freeze({ kind: 'weighted', ...wc, ...policy });
    }
    case 'unsupported':
      return Object.freeze({ kind: 'unsupported', field: `route.${c.field}`, fault });
  }
}

/**
 * RouteAction.request_mirror_policies (Envoy ShadowPolicyImpl): without runtime_fraction every
 * request is mirrored; with one, its default_value (absent: 0%) decides.
 */
function mirrorPolicies(policies: readonly MirrorPolicyModel[]): readonly MirrorPolicy[] | undefined {
  if (policies.length === 0) return undefined;
  return Object.freeze(
    policies.map((m) => {
      const rf = m.runtimeFraction;
      const fraction: Fraction =
        rf === undefined ? { numerator: 100, denominator: 100 } : fractionOf(rf.defaultValue);
      return Object.freeze({
        cluster: m.cluster,
        fraction: Object.freeze(fraction),
        keepAuthority: m.disableShadowHostSuffixAppend,
      });
    }),
  );
}

function compileDirect(d: DirectResponseModel, fault: CompiledFault | undefined): DirectResponseRoute {
  return Object.freeze({ kind: 'direct', status: d.status, body: d.body, fault });
}

function hashPolicy(hp: HashPolicyModel): HashPolicy[] {
  const terminal = hp.terminal;
  switch (hp.kind) {
    case 'header':
      return [{ kind: 'header', headerName: hp.headerName.toLowerCase(), terminal }];
    case 'cookie':
      return [{ kind: 'cookie', name: hp.name, ttlMs: hp.ttlMs, path: hp.path, terminal }];
    case 'queryParameter':
      return [{ kind: 'queryParameter', name: hp.name, terminal }];
    case 'connectionProperties':
      // source_ip false hashes nothing; Envoy skips such a policy.
      return hp.sourceIp ? [{ kind: 'sourceIp', terminal }] : [];
    case 'filterState':
      return [{ kind: 'filterState', key: hp.key, terminal }];
  }
}
