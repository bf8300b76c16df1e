import { MatchContext, type RequestMatch, type RequestView, type RouteMatch } from './match/index.ts';

/**
 * What the index knows about a route's path condition. Only case-sensitive literal conditions
 * are indexed; everything else (safe_regex, case_sensitive false, a prefix not starting with
 * `/`, path_match_policy) is `any` and is tried for every request, in its place.
 */
export type PathPattern =
  | { readonly kind: 'exact'; readonly path: string }
  /** Literal prefix `/s0/s1/.../partial`: whole segments, then the start of one more. */
  | { readonly kind: 'prefix'; readonly segments: readonly string[]; readonly partial: string }
  /** path_separated_prefix `/s0/.../sn`: exactly these segments, then the end or more segments. */
  | { readonly kind: 'separated'; readonly segments: readonly string[] }
  | { readonly kind: 'any' };

/** A route as the index sees it. */
export interface IndexedRoute<T> {
  readonly value: T;
  readonly pattern: PathPattern;
  /** The whole RouteMatch. */
  readonly match: RequestMatch;
  /** The RouteMatch without its path condition (headers, query, gRPC, runtime); null = none. */
  readonly rest: RequestMatch | null;
  /** The path condition alone, evaluated at build time for known paths. */
  readonly pathOnly: RequestMatch;
}

/** Finds the first matching route, in configuration order. */
export interface RouteIndex<T> {
  find(ctx: MatchContext): T | undefined;
}

interface Candidate<T> {
  readonly value: T;
  /** null: the path is known to match and nothing else is checked. */
  readonly check: RequestMatch | null;
}

interface IndexNode<T> {
  /** Set on inner nodes: child per segment value at this depth. */
  readonly children: Map<string, IndexNode<T>> | undefined;
  /** Inner nodes: for a segment that is not a key of `children`. */
  readonly other: IndexNode<T> | undefined;
  /** Inner nodes: for a path with no segment at this depth. */
  readonly end: IndexNode<T> | undefined;
  /** Set when `children` has one key: compared in place with startsWith, no slice or hash. */
  readonly onlyKey: string | undefined;
  readonly onlyChild: IndexNode<T> | undefined;
  /** Leaves: the routes that may match, in configuration order. */
  readonly candidates: readonly Candidate<T>[];
}

/** Below this many routes a node is scanned rather than split. */
const LEAF_SIZE = 4;
const MAX_DEPTH = 6;
/** Marks "a segment that is no child key" while building. */
const OTHER: unique symbol = Symbol('other');

/** The {@link PathPattern} of a plain RouteMatch. */
export function pathPatternOf(match: RouteMatch): PathPattern {
  if (match.caseSensitive === false) return ANY;
  if (match.path !== undefined) return { kind: 'exact', path: match.path };
  if (match.prefix !== undefined) {
    if (match.prefix.charCodeAt(0) !== 47 /* '/' */) return ANY;
    const parts = match.prefix.slice(1).split('/');
    const partial = parts.pop() as string;
    return { kind: 'prefix', segments: parts, partial };
  }
  if (match.pathSeparatedPrefix !== undefined && match.pathSeparatedPrefix.charCodeAt(0) === 47) {
    return { kind: 'separated', segments: match.pathSeparatedPrefix.slice(1).split('/') };
  }
  return ANY;
}

const ANY: PathPattern = { kind: 'any' };

/**
 * Builds the route index of one virtual host. Envoy tries routes in order and takes the first
 * match (route_matching docs: "Each route entry in the virtual host is checked, in order"). The
 * index keeps that exactly while trying few routes:
 * - a path equal to some exact `path` route: one Map lookup gives the routes whose path
 *   condition holds for that path (decided at build time), in order, each with only its
 *   remaining (header/query) checks;
 * - otherwise a tree on path segments: at each depth, routes that pin the segment go to that
 *   segment's child, and routes that do not (partial last segment, deeper or unindexable
 *   conditions) go to every child they could match and to the fallback child. Every leaf is a
 *   superset of the routes that can match the paths reaching it, kept in configuration order,
 *   so the first match in the leaf is the first match overall.
 */
export function buildRouteIndex<T>(routes: readonly IndexedRoute<T>[]): RouteIndex<T> {
  const steps = buildRouteIndexSteps(routes);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/** Path conditions evaluated between two yields of {@link buildRouteIndexSteps}. */
const PROBES_PER_STEP = 1024;

/**
 * {@link buildRouteIndex} as steps: the same index, yielding every {@link PROBES_PER_STEP}
 * path-condition checks of the exact-path table, the part that grows with the square of the
 * route count (every exact path is checked against every route). The tree is built in one
 * step: its size budget bounds it to a few times the route count.
 */
export function* buildRouteIndexSteps<T>(
  routes: readonly IndexedRoute<T>[],
): Generator<void, RouteIndex<T>, void> {
  const exact = new Map<string, Candidate<T>[]>();
  let probes = 0;
  for (const r of routes) {
    if (r.pattern.kind !== 'exact' || exact.has(r.pattern.path)) continue;
    const path = r.pattern.path;
    const probe = new MatchContext(staticView(path));
    const list: Candidate<T>[] = [];
    for (const other of routes) {
      // The path is known, so every route's path condition is decided here, once.
      if (other.pathOnly(probe)) list.push({ value: other.value, check: other.rest });
    }
    exact.set(path, list);
    probes += routes.length;
    if (probes >= PROBES_PER_STEP) {
      probes = 0;
      yield;
    }
  }
  // Exact routes cannot match a path missing from `exact`, so the tree leaves them out.
  const tree = buildNode(
    routes.filter((r) => r.pattern.kind !== 'exact'),
    0,
    { remaining: Math.max(10_000, routes.length * 64) },
  );
  const hasExact = exact.size > 0;

  return {
    find(ctx: MatchContext): T | undefined {
      const path = ctx.request.path;
      let list: readonly Candidate<T>[] | undefined = hasExact ? exact.get(path) : undefined;
      if (list === undefined) {
        let node = tree;
        let pos = 0;
        while (node.children !== undefined) {
          if (path.charCodeAt(pos) !== 47 /* '/' */) {
            node = node.end as IndexNode<T>;
            break;
          }
          const key = node.onlyKey;
          if (key !== undefined) {
            // Common shared prefixes (`/api/v1/...`) cost a compare per level.
            const next = pos + 1 + key.length;
            if (path.startsWith(key, pos + 1) && (next === path.length || path.charCodeAt(next) === 47)) {
              node = node.onlyChild as IndexNode<T>;
              pos = next;
              continue;
            }
            node = node.other as IndexNode<T>;
            pos = path.indexOf('/', pos + 1);
            if (pos === -1) pos = path.length;
            continue;
          }
          let next = path.indexOf('/', pos + 1);
          if (next === -1) next = path.length;
          node = node.children.get(path.slice(pos + 1, next)) ?? (node.other as IndexNode<T>);
          pos = next;
        }
        list = node.candidates;
      }
      for (let i = 0; i < list.length; i++) {
        const c = list[i]!;
        if (c.check === null || c.check(ctx)) return c.value;
      }
      return undefined;
    },
  };
}

function buildNode<T>(
  routes: readonly IndexedRoute<T>[],
  depth: number,
  budget: { remaining: number },
): IndexNode<T> {
  const keys = new Set<string>();
  if (routes.length > LEAF_SIZE && depth < MAX_DEPTH) {
    for (const r of routes) {
      const p = r.pattern;
      if ((p.kind === 'prefix' || p.kind === 'separated') && depth < p.segments.length)
        keys.add(p.segments[depth]!);
    }
  }
  if (keys.size === 0) return leaf(routes, budget);
  // Routes that do not pin this depth are copied into every child; stop splitting when the
  // copies would blow the size budget (the leaf is still correct, only slower).
  const unpinned = routes.filter((r) => !pins(r.pattern, depth)).length;
  const cost = (keys.size + 2) * unpinned;
  if (cost > budget.remaining) return leaf(routes, budget);
  budget.remaining -= cost;
  const children = new Map<string, IndexNode<T>>();
  for (const key of keys) {
    children.set(
      key,
      buildNode(
        routes.filter((r) => mayMatchSegment(r.pattern, depth, key)),
        depth + 1,
        budget,
      ),
    );
  }
  const other = buildNode(
    routes.filter((r) => mayMatchSegment(r.pattern, depth, OTHER)),
    depth + 1,
    budget,
  );
  const end = leaf(
    routes.filter((r) => mayMatchEnd(r.pattern, depth)),
    budget,
  );
  const [onlyKey, onlyChild] = children.size === 1 ? [...children][0]! : [undefined, undefined];
  return { children, other, end, onlyKey, onlyChild, candidates: [] };
}

function leaf<T>(routes: readonly IndexedRoute<T>[], budget: { remaining: number }): IndexNode<T> {
  budget.remaining -= routes.length;
  return {
    children: undefined,
    other: undefined,
    end: undefined,
    onlyKey: undefined,
    onlyChild: undefined,
    candidates: routes.map((r) => ({ value: r.value, check: r.match })),
  };
}

function pins(p: PathPattern, depth: number): boolean {
  return (p.kind === 'prefix' || p.kind === 'separated') && depth < p.segments.length;
}

// Can a route with pattern `p` match a path whose segment at `depth` is `seg` (OTHER: a value
// that is not a child key, so it differs from every pinned segment at this depth)?
function mayMatchSegment(p: PathPattern, depth: number, seg: string | typeof OTHER): boolean {
  switch (p.kind) {
    case 'any':
      return true;
    case 'exact':
      return false;
    case 'separated':
      return depth >= p.segments.length || seg === p.segments[depth];
    case 'prefix':
      if (depth < p.segments.length) return seg === p.segments[depth];
      if (depth > p.segments.length) return true;
      return seg === OTHER || seg.startsWith(p.partial);
  }
}

// Can a route with pattern `p` match a path that has no segment at `depth` (no `/` there)?
function mayMatchEnd(p: PathPattern, depth: number): boolean {
  switch (p.kind) {
    case 'any':
      return true;
    case 'exact':
      return false;
    case 'separated':
      return depth >= p.segments.length;
    case 'prefix':
      return depth > p.segments.length;
  }
}

function staticView(path: string): RequestView {
  return { method: 'GET', scheme: 'http', authority: '', path, query: '', headers: {} };
}
