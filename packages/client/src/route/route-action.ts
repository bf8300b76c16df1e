import type { RetryPolicy, Route, RouteAction_HashPolicy, VirtualHost } from '@dabba/discovery';
import { durationMs } from '@dabba/discovery';
import { type CompiledFault, compileFault, type Fraction } from '../resilience/fault.ts';
import { type CompiledRetryPolicy, compileRetryPolicy } from '../resilience/retry-policy.ts';
import type { HeaderMutationLevel } from './header-mutations.ts';
import { MatcherCompileError } from './match/index.ts';
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
  readonly retryPolicy: RetryPolicy | undefined;
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
/** RouteConfiguration.max_direct_response_body_size_bytes default. */
export const DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES = 4096;

/** What {@link compileRouteAction} needs besides the route. */
export interface RouteActionContext {
  readonly vhost: VirtualHost;
  /** Field path of the route, e.g. `virtualHosts[0].routes[3]`. */
  readonly path: string;
  /** {@link matchedLength} of the route's match. */
  readonly matched: number;
  /** Request/response levels of this route in evaluation order (weighted clusters go first). */
  readonly requestLevels: readonly HeaderMutationLevel[];
  readonly responseLevels: readonly HeaderMutationLevel[];
  readonly maxDirectResponseBodyBytes: number;
}

/**
 * Compiles Route.action (route_components.proto Route, RouteAction, RedirectAction,
 * DirectResponseAction).
 *
 * @throws MatcherCompileError
 */
export function compileRouteAction(route: Route, ctx: RouteActionContext): CompiledRouteAction {
  const action = route.action;
  const path = ctx.path;
  // Every action kind carries the property (same shape for the request path's one check).
  const fault = routeFault(route, ctx);
  switch (action.case) {
    case 'route':
      return compileForwarding(action.value, ctx, fault);
    case 'redirect':
      return Object.freeze({ ...compileRedirect(action.value, ctx.matched, `${path}.redirect`), fault });
    case 'directResponse':
      return compileDirect(action.value, `${path}.directResponse`, ctx.maxDirectResponseBodyBytes, fault);
    case 'filterAction':
    case 'nonForwardingAction':
      return Object.freeze({ kind: 'unsupported', field: action.case, fault });
    case undefined:
      throw new MatcherCompileError(path, 'one of route, redirect, directResponse is required');
  }
}

type XdsRouteAction = Extract<Route['action'], { case: 'route' }>['value'];
type XdsDirectResponse = Extract<Route['action'], { case: 'directResponse' }>['value'];

/** The filter name Envoy (and istiod) key the fault filter's per-route config by. */
const FAULT_FILTER = 'envoy.filters.http.fault';

/**
 * The fault config Envoy's filter would use for this route: the most specific per-filter config
 * (route, else virtual host; Envoy's resolveMostSpecificPerFilterConfig). Request filters the
 * data plane does not evaluate are rejected, never ignored: ignoring one would fault more
 * requests than the operator asked for.
 *
 * @throws MatcherCompileError
 */
function routeFault(route: Route, ctx: RouteActionContext): CompiledFault | undefined {
  const onRoute = route.typedPerFilterConfig[FAULT_FILTER];
  const any = onRoute ?? ctx.vhost.typedPerFilterConfig[FAULT_FILTER];
  if (any === undefined) return undefined;
  const path = `${onRoute ? ctx.path : vhostPath(ctx.path)}.typedPerFilterConfig["${FAULT_FILTER}"]`;
  let fault: CompiledFault | undefined;
  try {
    fault = compileFault(any);
  } catch (err) {
    throw new MatcherCompileError(path, (err as Error).message);
  }
  if (fault === undefined) return undefined;
  if (fault.headers.length > 0) throw new MatcherCompileError(`${path}.headers`, 'not supported by Dabba');
  if (fault.maxActiveFaults !== undefined)
    throw new MatcherCompileError(`${path}.maxActiveFaults`, 'not supported by Dabba');
  return fault;
}

function compileForwarding(
  a: XdsRouteAction,
  ctx: RouteActionContext,
  fault: CompiledFault | undefined,
): CompiledRouteAction {
  const path = `${ctx.path}.route`;
  if (a.pathRewritePolicy !== undefined) {
    throw new MatcherCompileError(`${path}.pathRewritePolicy`, 'not supported by Dabba');
  }
  const rewrite = compilePathRewrite(a.prefixRewrite, a.regexRewrite, ctx.matched, path);
  const h = a.hostRewriteSpecifier;
  if (h.case === 'hostRewriteHeader' || h.case === 'hostRewritePathRegex') {
    throw new MatcherCompileError(`${path}.${h.case}`, 'not supported by Dabba');
  }
  const retryPolicy = a.retryPolicy ?? ctx.vhost.retryPolicy;
  const policy: ForwardingPolicy = {
    timeoutMs: a.timeout === undefined ? DEFAULT_ROUTE_TIMEOUT_MS : durationMs(a.timeout),
    retryPolicy,
    retry: compileRetryPolicy(
      retryPolicy,
      a.retryPolicy !== undefined ? `${path}.retryPolicy` : `${vhostPath(ctx.path)}.retryPolicy`,
    ),
    hashPolicy: Object.freeze(a.hashPolicy.flatMap((hp, i) => hashPolicy(hp, `${path}.hashPolicy[${i}]`))),
    prefixRewrite: rewrite.prefixRewrite,
    regexRewrite: rewrite.regexRewrite,
    hostRewriteLiteral: h.case === 'hostRewriteLiteral' && h.value.length > 0 ? h.value : undefined,
    autoHostRewrite: h.case === 'autoHostRewrite' && h.value.value,
    rewritePath: rewrite.rewritePath,
    mirrors: mirrorPolicies(a, path),
    fault,
  };
  const c = a.clusterSpecifier;
  switch (c.case) {
    case 'cluster':
      if (c.value.length === 0) throw new MatcherCompileError(`${path}.cluster`, 'must not be empty');
      return Object.freeze({ kind: 'cluster', cluster: c.value, ...policy });
    case 'clusterHeader':
      if (c.value.length === 0) throw new MatcherCompileError(`${path}.clusterHeader`, 'must not be empty');
      return Object.freeze({ kind: 'clusterHeader', header: c.value.toLowerCase(), ...policy });
    case 'weightedClusters': {
      const wc = compileWeightedClusters(
        c.value,
        `${path}.weightedClusters`,
        ctx.requestLevels,
        ctx.responseLevels,
      );
      return Object.freeze({ kind: 'weighted', ...wc, ...policy });
    }
    case 'clusterSpecifierPlugin':
    case 'inlineClusterSpecifierPlugin':
      return Object.freeze({ kind: 'unsupported', field: `route.${c.case}`, fault });
    case undefined:
      throw new MatcherCompileError(path, 'one of cluster, clusterHeader, weightedClusters is required');
  }
}

// envoy.type.v3.FractionalPercent.DenominatorType: HUNDRED = 0, TEN_THOUSAND = 1, MILLION = 2.
const DENOMINATORS = [100, 10_000, 1_000_000] as const;

/**
 * RouteAction.request_mirror_policies (Envoy ShadowPolicyImpl): without runtime_fraction every
 * request is mirrored; with one, its default_value (absent: 0%) decides.
 *
 * @throws MatcherCompileError
 */
function mirrorPolicies(a: XdsRouteAction, path: string): readonly MirrorPolicy[] | undefined {
  if (a.requestMirrorPolicies.length === 0) return undefined;
  return Object.freeze(
    a.requestMirrorPolicies.map((m, i) => {
      const at = `${path}.requestMirrorPolicies[${i}]`;
      if (m.clusterHeader.length > 0)
        throw new MatcherCompileError(`${at}.clusterHeader`, 'not supported by Dabba');
      if (m.cluster.length === 0) throw new MatcherCompileError(`${at}.cluster`, 'must not be empty');
      const rf = m.runtimeFraction;
      const d = rf?.defaultValue;
      const fraction: Fraction =
        rf === undefined
          ? { numerator: 100, denominator: 100 }
          : { numerator: d?.numerator ?? 0, denominator: DENOMINATORS[d?.denominator ?? 0] ?? 100 };
      return Object.freeze({
        cluster: m.cluster,
        fraction: Object.freeze(fraction),
        keepAuthority: m.disableShadowHostSuffixAppend,
      });
    }),
  );
}

function compileDirect(
  d: XdsDirectResponse,
  path: string,
  maxBytes: number,
  fault: CompiledFault | undefined,
): DirectResponseRoute {
  if (!Number.isInteger(d.status) || d.status < 200 || d.status >= 600) {
    throw new MatcherCompileError(`${path}.status`, 'must be in [200, 600)');
  }
  let body: string | Uint8Array | undefined;
  let size = 0;
  const s = d.body?.specifier ?? { case: undefined };
  switch (s.case) {
    case undefined:
      break;
    case 'inlineString':
      body = s.value;
      size = Buffer.byteLength(s.value);
      break;
    case 'inlineBytes':
      body = s.value;
      size = s.value.length;
      break;
    default:
      // Reading files or the environment would make compilation impure; the translator inlines.
      throw new MatcherCompileError(
        `${path}.body.${s.case}`,
        'not supported by Dabba; use inlineString or inlineBytes',
      );
  }
  if (size > maxBytes) {
    throw new MatcherCompileError(
      `${path}.body`,
      `response body size is ${size} bytes; maximum is ${maxBytes}`,
    );
  }
  return Object.freeze({ kind: 'direct', status: d.status, body, fault });
}

function hashPolicy(hp: RouteAction_HashPolicy, path: string): HashPolicy[] {
  const terminal = hp.terminal;
  const s = hp.policySpecifier;
  switch (s.case) {
    case 'header':
      if (s.value.regexRewrite !== undefined) {
        throw new MatcherCompileError(`${path}.header.regexRewrite`, 'not supported by Dabba');
      }
      return [{ kind: 'header', headerName: s.value.headerName.toLowerCase(), terminal }];
    case 'cookie':
      return [
        {
          kind: 'cookie',
          name: s.value.name,
          ttlMs: s.value.ttl === undefined ? undefined : durationMs(s.value.ttl),
          path: s.value.path,
          terminal,
        },
      ];
    case 'queryParameter':
      return [{ kind: 'queryParameter', name: s.value.name, terminal }];
    case 'connectionProperties':
      // source_ip false hashes nothing; Envoy skips such a policy.
      return s.value.sourceIp ? [{ kind: 'sourceIp', terminal }] : [];
    case 'filterState':
      return [{ kind: 'filterState', key: s.value.key, terminal }];
    case undefined:
      throw new MatcherCompileError(
        path,
        'one of header, cookie, connectionProperties, queryParameter, filterState is required',
      );
  }
}

/** `virtualHosts[0].routes[3]` -> `virtualHosts[0]`. */
function vhostPath(routePath: string): string {
  const i = routePath.lastIndexOf('.routes[');
  return i < 0 ? routePath : routePath.slice(0, i);
}
