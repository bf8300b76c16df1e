import type {
  HeaderMutationLists,
  RouteConfigurationModel,
  RouteModel,
  VirtualHostModel,
} from '@dabba/discovery';
import {
  compileHeaderMutations,
  type HeaderMutationLevel,
  type HeaderMutations,
} from './header-mutations.ts';
import {
  compileRouteMatch,
  MatchContext,
  type RandomValueSource,
  type RequestMatch,
  type RequestView,
  type RouteMatch,
} from './match/index.ts';
import { compileVirtualHostIndexSteps } from './match/virtual-host-index.ts';
import { matchedLength } from './path-rewrite.ts';
import { type CompiledRouteAction, compileRouteAction } from './route-action.ts';
import { buildRouteIndexSteps, type IndexedRoute, pathPatternOf, type RouteIndex } from './route-index.ts';
import { randomValueFromHeader } from './weighted-clusters.ts';

/** Options of {@link compileRouteTable} and {@link compileRouteTableSteps}. */
export interface RouteTableOptions {
  /**
   * Uniform random in [0, 1), like `Math.random` (the default). Each request draws at most one
   * value, shared by runtime_fraction matching and the weighted-cluster pick, as in Envoy.
   */
  readonly random?: () => number;
}

/** The matched route: where it is, what it does, and its flattened header mutations. */
export interface RouteSelection {
  readonly virtualHost: { readonly name: string; readonly index: number };
  readonly route: { readonly name: string; readonly index: number };
  readonly action: CompiledRouteAction;
  /**
   * Request header ops of the route's levels (route configuration, virtual host, route) in
   * Envoy's order. For a weighted action use the picked cluster's list instead: it starts with
   * the cluster's own ops and then holds these.
   */
  readonly requestHeaderMutations: HeaderMutations;
  /** Response header ops, same levels and order. */
  readonly responseHeaderMutations: HeaderMutations;
}

/** A compiled RouteConfiguration. Immutable; safe to share between requests. */
export interface RouteTable {
  /** RouteConfiguration.name. */
  readonly name: string;
  /**
   * The route Envoy would pick for `req`: virtual host by authority, then the first matching
   * route. `undefined` means no route (Envoy answers 404 with response flag NR).
   *
   * @param ctx pass your own context to reuse its random value afterwards (see {@link clusterFor}).
   */
  select(req: RequestView, ctx?: MatchContext): RouteSelection | undefined;
  /** A fresh per-request context using this table's random source. */
  createContext(req: RequestView): MatchContext;
}

interface CompiledVirtualHost {
  readonly domains: readonly string[];
  readonly index: RouteIndex<RouteSelection>;
}

const TWO_POW_32 = 0x1_0000_0000;

/**
 * Compiles a decoded RouteConfiguration into a {@link RouteTable}: virtual host lookup, a path
 * index over each virtual host's routes that keeps Envoy's first-match-wins order, and per
 * route a compiled action and flattened header mutation lists. The model is valid (the decoder
 * checked every field), so compiling cannot fail.
 *
 * Header mutation order (route.proto most_specific_header_mutations_wins; router/config_impl.cc
 * getHeaderParsers): with the default `false`, route, then virtual host, then route
 * configuration, so the least specific level is applied last and wins; with `true` the reverse.
 * Weighted-cluster ops come before all three either way.
 */
export function compileRouteTable(
  config: RouteConfigurationModel,
  options: RouteTableOptions = {},
): RouteTable {
  const steps = compileRouteTableSteps(config, options);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/** Routes compiled between two yields of {@link compileRouteTableSteps} inside one virtual host. */
const ROUTES_PER_STEP = 32;

/**
 * {@link compileRouteTable} as steps, for a caller that compiles in slices (compileSnapshotAsync):
 * the same work in the same order, yielding after each virtual host, every
 * {@link ROUTES_PER_STEP} routes of a large one, and inside the route and virtual host indexes.
 * The driver decides whether to pause at a yield; nothing here reads the clock.
 */
export function* compileRouteTableSteps(
  config: RouteConfigurationModel,
  options: RouteTableOptions = {},
): Generator<void, RouteTable, void> {
  const uniform = options.random ?? Math.random;
  const random: RandomValueSource = () => Math.floor(uniform() * TWO_POW_32);
  const configLevels = levelsOf(config);
  const vhosts: CompiledVirtualHost[] = [];
  for (let v = 0; v < config.virtualHosts.length; v++) {
    vhosts.push(yield* compileVirtualHost(config.virtualHosts[v]!, v, config, configLevels));
    yield;
  }
  const index = yield* compileVirtualHostIndexSteps(vhosts, {
    ignorePortInHostMatching: config.ignorePortInHostMatching,
  });

  // One-entry memo of the last authority: a client usually calls the same host many times in a
  // row, and lower-casing plus hashing the authority is a large share of a selection's cost.
  let lastAuthority: string | undefined;
  let lastVhost: CompiledVirtualHost | undefined;
  return Object.freeze({
    name: config.name,
    select(req: RequestView, ctx?: MatchContext): RouteSelection | undefined {
      const authority = req.authority;
      let vhost: CompiledVirtualHost | undefined;
      if (authority === lastAuthority) {
        vhost = lastVhost;
      } else {
        vhost = index.selectVirtualHost(authority);
        lastAuthority = authority;
        lastVhost = vhost;
      }
      if (vhost === undefined) return undefined;
      return vhost.index.find(ctx ?? new MatchContext(req, random));
    },
    createContext(req: RequestView): MatchContext {
      return new MatchContext(req, random);
    },
  });
}

type LevelPair = { readonly request: HeaderMutationLevel; readonly response: HeaderMutationLevel };

function levelsOf(lists: HeaderMutationLists): LevelPair {
  return {
    request: { add: lists.requestHeadersToAdd, remove: lists.requestHeadersToRemove },
    response: { add: lists.responseHeadersToAdd, remove: lists.responseHeadersToRemove },
  };
}

/** What the routes of one virtual host share while they compile. */
interface VirtualHostScope {
  readonly vhost: VirtualHostModel;
  /** The selection's `virtualHost`, one object for every route. */
  readonly selected: RouteSelection['virtualHost'];
  readonly configLevels: LevelPair;
  readonly vhostLevels: LevelPair;
  /** RouteConfiguration.most_specific_header_mutations_wins. */
  readonly mostSpecificWins: boolean;
}

function* compileVirtualHost(
  vhost: VirtualHostModel,
  v: number,
  config: RouteConfigurationModel,
  configLevels: LevelPair,
): Generator<void, CompiledVirtualHost, void> {
  const scope: VirtualHostScope = {
    vhost,
    selected: Object.freeze({ name: vhost.name, index: v }),
    configLevels,
    vhostLevels: levelsOf(vhost),
    mostSpecificWins: config.mostSpecificHeaderMutationsWins,
  };
  const indexed: IndexedRoute<RouteSelection>[] = [];
  for (let r = 0; r < vhost.routes.length; r++) {
    if (r > 0 && r % ROUTES_PER_STEP === 0) yield;
    indexed.push(compileRoute(vhost.routes[r]!, r, scope));
  }
  return { domains: vhost.domains, index: yield* buildRouteIndexSteps(indexed) };
}

function compileRoute(
  route: RouteModel,
  index: number,
  scope: VirtualHostScope,
): IndexedRoute<RouteSelection> {
  const match = route.match;
  const routeLevels = levelsOf(route);
  // Envoy evaluates the levels in this order and the later one wins (getHeaderParsers).
  const order = scope.mostSpecificWins
    ? [scope.configLevels, scope.vhostLevels, routeLevels]
    : [routeLevels, scope.vhostLevels, scope.configLevels];
  const requestLevels = order.map((l) => l.request);
  const responseLevels = order.map((l) => l.response);
  const action = compileRouteAction(route, {
    vhost: scope.vhost,
    matched: matchedLength(match),
    requestLevels,
    responseLevels,
  });
  const selection: RouteSelection = Object.freeze({
    virtualHost: scope.selected,
    route: Object.freeze({ name: route.name, index }),
    action,
    requestHeaderMutations: compileHeaderMutations(requestLevels),
    responseHeaderMutations: compileHeaderMutations(responseLevels),
  });
  return {
    value: selection,
    pattern: pathPatternOf(match),
    match: compileRouteMatch(match),
    rest: compileRest(match),
    pathOnly: compileRouteMatch(pathCondition(match)),
  };
}

function pathCondition(m: RouteMatch): RouteMatch {
  const out: { -readonly [K in keyof RouteMatch]: RouteMatch[K] } = {};
  if (m.prefix !== undefined) out.prefix = m.prefix;
  if (m.path !== undefined) out.path = m.path;
  if (m.safeRegex !== undefined) out.safeRegex = m.safeRegex;
  if (m.pathSeparatedPrefix !== undefined) out.pathSeparatedPrefix = m.pathSeparatedPrefix;
  if (m.caseSensitive !== undefined) out.caseSensitive = m.caseSensitive;
  return out;
}

// The RouteMatch minus its path condition; null when nothing is left to check.
function compileRest(m: RouteMatch): RequestMatch | null {
  const none =
    (m.headers === undefined || m.headers.length === 0) &&
    (m.queryParameters === undefined || m.queryParameters.length === 0) &&
    m.grpc === undefined &&
    m.runtimeFraction === undefined;
  if (none) return null;
  const rest: { -readonly [K in keyof RouteMatch]: RouteMatch[K] } = { prefix: '' };
  if (m.headers !== undefined) rest.headers = m.headers;
  if (m.queryParameters !== undefined) rest.queryParameters = m.queryParameters;
  if (m.grpc !== undefined) rest.grpc = m.grpc;
  if (m.runtimeFraction !== undefined) rest.runtimeFraction = m.runtimeFraction;
  return compileRouteMatch(rest);
}

/**
 * The upstream cluster for a selection, as Envoy picks it: the named cluster; the first value
 * of `cluster_header`; or a weighted pick using the WeightedCluster `header_name` value when
 * valid, else the request's random value (`ctx.randomValue()`, the same draw runtime_fraction
 * used). `undefined` for non-forwarding actions and a missing cluster header.
 */
export function clusterFor(selection: RouteSelection, ctx: MatchContext): string | undefined {
  const action = selection.action;
  switch (action.kind) {
    case 'cluster':
      return action.cluster;
    case 'clusterHeader':
      return firstValue(ctx, action.header);
    case 'weighted': {
      const header = action.randomValueHeader;
      const fromHeader =
        header === undefined ? undefined : randomValueFromHeader(firstValue(ctx, header), action.totalWeight);
      const entry = action.pick(fromHeader ?? ctx.randomValue());
      return entry.clusterHeader === undefined ? entry.name : firstValue(ctx, entry.clusterHeader);
    }
    default:
      return undefined;
  }
}

function firstValue(ctx: MatchContext, name: string): string | undefined {
  const h = ctx.request.headers;
  const v = typeof h === 'function' ? h(name) : h[name];
  if (v === undefined || typeof v === 'string') return v === '' ? undefined : v;
  return v.length === 0 || v[0] === '' ? undefined : v[0];
}
