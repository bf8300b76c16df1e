import { asciiLower, equalsIgnoreCase, startsWithIgnoreCase } from './ascii-case.ts';
import { compileHeaderMatcher, type HeaderMatcher, type RequestMatch } from './header-matcher.ts';
import type { MatchContext } from './match-context.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';
import { compileQueryParameterMatcher, type QueryParameterMatcher } from './query-parameter-matcher.ts';
import type { RegexMatcher } from './safe-regex.ts';
import { compileSafeRegex } from './safe-regex.ts';

/** envoy/type/v3/percent.proto FractionalPercent.DenominatorType, by name or number. */
export type FractionalPercentDenominator = 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION' | 0 | 1 | 2;

/** envoy/type/v3/percent.proto FractionalPercent. */
export interface FractionalPercent {
  readonly numerator?: number;
  /** Defaults to HUNDRED. */
  readonly denominator?: FractionalPercentDenominator;
}

/** config/core/v3/base.proto RuntimeFractionalPercent. Only the default value is used (no runtime). */
export interface RuntimeFractionalPercent {
  readonly defaultValue?: FractionalPercent;
  readonly runtimeKey?: string;
}

/**
 * route_components.proto RouteMatch, in camelCase. Exactly one path specifier among `prefix`,
 * `path`, `safeRegex`, `pathSeparatedPrefix` (connect_matcher and path_match_policy are not
 * supported).
 */
export interface RouteMatch {
  readonly prefix?: string;
  readonly path?: string;
  readonly safeRegex?: RegexMatcher;
  readonly pathSeparatedPrefix?: string;
  /** Applies to prefix, path and path_separated_prefix, not to safe_regex. Default true. */
  readonly caseSensitive?: boolean;
  readonly headers?: readonly HeaderMatcher[];
  readonly queryParameters?: readonly QueryParameterMatcher[];
  /** GrpcRouteMatchOptions (empty message): only requests with a gRPC content-type match. */
  readonly grpc?: Readonly<Record<string, never>>;
  readonly runtimeFraction?: RuntimeFractionalPercent;
}

const PATH_SPECIFIERS = ['prefix', 'path', 'safeRegex', 'pathSeparatedPrefix'] as const;
// route_components.proto validation for path_separated_prefix.
const PATH_SEPARATED_PREFIX = /^[^?#]+[^?#/]$/;
const DENOMINATORS: Readonly<Record<string, number>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
  0: 100,
  1: 10_000,
  2: 1_000_000,
};

const always: RequestMatch = () => true;

/**
 * Compiles a RouteMatch into one predicate. Path is tested first (cheapest, most selective),
 * then gRPC content type, headers in order, query parameters, and the runtime fraction last so
 * the random value is drawn only for requests that otherwise match (the draw is per request,
 * so the order does not change any result).
 *
 * Envoy semantics (route_components.proto RouteMatch; router/config_impl.cc):
 * - paths are compared without query string and fragment;
 * - `prefix: ''` matches every path, `prefix: '/'` every path starting with `/`;
 * - `path` is an exact comparison;
 * - `safeRegex` must match the whole path and ignores `caseSensitive`;
 * - `pathSeparatedPrefix: '/api'` matches `/api` and `/api/...` but not `/apiv2`;
 * - `caseSensitive: false` folds ASCII case for prefix, path and path_separated_prefix;
 * - `runtimeFraction` N/D matches iff `random % D < N`, using the request's single random value.
 *
 * @param path field path of this RouteMatch, used in errors.
 * @throws MatcherCompileError
 */
export function compileRouteMatch(match: RouteMatch, path: string): RequestMatch {
  const checks: RequestMatch[] = [];
  const pathCheck = compilePathSpecifier(match, path);
  if (pathCheck !== always) checks.push(pathCheck);
  if (match.grpc !== undefined) checks.push(isGrpcRequest);
  match.headers?.forEach((h, i) => {
    checks.push(compileHeaderMatcher(h, `${path}.headers[${i}]`));
  });
  match.queryParameters?.forEach((q, i) => {
    checks.push(compileQueryParameterMatcher(q, `${path}.queryParameters[${i}]`));
  });
  if (match.runtimeFraction !== undefined) {
    checks.push(compileRuntimeFraction(match.runtimeFraction, `${path}.runtimeFraction`));
  }
  return all(checks);
}

function compilePathSpecifier(match: RouteMatch, path: string): RequestMatch {
  const set = PATH_SPECIFIERS.filter((k) => match[k] !== undefined);
  if (set.length !== 1) {
    throw new MatcherCompileError(
      path,
      set.length === 0
        ? 'exactly one of prefix, path, safeRegex, pathSeparatedPrefix is required'
        : `only one path specifier may be set, got ${set.join(', ')}`,
    );
  }
  const caseSensitive = match.caseSensitive !== false;
  if (match.safeRegex !== undefined) {
    const re = compileSafeRegex(match.safeRegex, `${path}.safeRegex`);
    return (ctx) => re(ctx.request.path);
  }
  if (match.prefix !== undefined) {
    const prefix = match.prefix;
    if (prefix.length === 0) return always;
    if (caseSensitive) return (ctx) => ctx.request.path.startsWith(prefix);
    const lower = asciiLower(prefix);
    return (ctx) => startsWithIgnoreCase(ctx.request.path, lower);
  }
  if (match.path !== undefined) {
    const exact = match.path;
    if (caseSensitive) return (ctx) => ctx.request.path === exact;
    const lower = asciiLower(exact);
    return (ctx) => equalsIgnoreCase(ctx.request.path, lower);
  }
  const prefix = match.pathSeparatedPrefix as string;
  if (!PATH_SEPARATED_PREFIX.test(prefix)) {
    throw new MatcherCompileError(
      `${path}.pathSeparatedPrefix`,
      'must be non-empty, contain no ? or #, and not end in /',
    );
  }
  const n = prefix.length;
  const lower = asciiLower(prefix);
  return (ctx) => {
    const p = ctx.request.path;
    if (p.length !== n && (p.length < n || p.charCodeAt(n) !== 47) /* '/' */) return false;
    return caseSensitive ? p.startsWith(prefix) : startsWithIgnoreCase(p, lower);
  };
}

function compileRuntimeFraction(fraction: RuntimeFractionalPercent, path: string): RequestMatch {
  const value = fraction.defaultValue ?? {};
  const numerator = value.numerator ?? 0;
  if (!Number.isInteger(numerator) || numerator < 0) {
    throw new MatcherCompileError(`${path}.defaultValue.numerator`, 'must be a non-negative integer');
  }
  const denominator = DENOMINATORS[String(value.denominator ?? 'HUNDRED')];
  if (denominator === undefined) {
    throw new MatcherCompileError(`${path}.defaultValue.denominator`, 'unknown denominator');
  }
  // Envoy: ProtobufPercentHelper::evaluateFractionalPercent; numerator >= denominator is 100%.
  if (numerator >= denominator) return always;
  if (numerator === 0) return () => false;
  return (ctx) => ctx.randomValue() % denominator < numerator;
}

// Envoy's Grpc::Common::hasGrpcContentType: exactly application/grpc or application/grpc+<subtype>.
function isGrpcRequest(ctx: MatchContext): boolean {
  const ct = ctx.header('content-type');
  if (ct === undefined || !ct.startsWith('application/grpc')) return false;
  return ct.length === 16 || ct.charCodeAt(16) === 43; // '+'
}

function all(checks: readonly RequestMatch[]): RequestMatch {
  // Unrolled for the common sizes so a route match is a couple of direct calls.
  switch (checks.length) {
    case 0:
      return always;
    case 1:
      return checks[0]!;
    case 2: {
      const [a, b] = checks as [RequestMatch, RequestMatch];
      return (ctx) => a(ctx) && b(ctx);
    }
    case 3: {
      const [a, b, c] = checks as [RequestMatch, RequestMatch, RequestMatch];
      return (ctx) => a(ctx) && b(ctx) && c(ctx);
    }
    default:
      return (ctx) => {
        for (let i = 0; i < checks.length; i++) if (!checks[i]!(ctx)) return false;
        return true;
      };
  }
}
