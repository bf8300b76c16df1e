import type { RouteMatch, RuntimeFractionalPercent } from '@dabba/discovery';
import { asciiLower, equalsIgnoreCase, startsWithIgnoreCase } from './ascii-case.ts';
import { compileHeaderMatcher, type RequestMatch } from './header-matcher.ts';
import type { MatchContext } from './match-context.ts';
import { compileQueryParameterMatcher } from './query-parameter-matcher.ts';
import { compileSafeRegex } from './safe-regex.ts';

const DENOMINATORS: Readonly<Record<string, number>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
};

const always: RequestMatch = () => true;

/**
 * Compiles a RouteMatch (valid: decoded, or checked with validateRouteMatch) into one predicate. Path is tested first (cheapest, most selective),
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
 */
export function compileRouteMatch(match: RouteMatch): RequestMatch {
  const checks: RequestMatch[] = [];
  const pathCheck = compilePathSpecifier(match);
  if (pathCheck !== always) checks.push(pathCheck);
  if (match.grpc !== undefined) checks.push(isGrpcRequest);
  match.headers?.forEach((h) => {
    checks.push(compileHeaderMatcher(h));
  });
  match.queryParameters?.forEach((q) => {
    checks.push(compileQueryParameterMatcher(q));
  });
  if (match.runtimeFraction !== undefined) checks.push(compileRuntimeFraction(match.runtimeFraction));
  return all(checks);
}

function compilePathSpecifier(match: RouteMatch): RequestMatch {
  const caseSensitive = match.caseSensitive !== false;
  if (match.safeRegex !== undefined) {
    const re = compileSafeRegex(match.safeRegex);
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
  const n = prefix.length;
  const lower = asciiLower(prefix);
  return (ctx) => {
    const p = ctx.request.path;
    if (p.length !== n && (p.length < n || p.charCodeAt(n) !== 47) /* '/' */) return false;
    return caseSensitive ? p.startsWith(prefix) : startsWithIgnoreCase(p, lower);
  };
}

function compileRuntimeFraction(fraction: RuntimeFractionalPercent): RequestMatch {
  const value = fraction.defaultValue ?? {};
  const numerator = value.numerator ?? 0;
  const denominator = DENOMINATORS[value.denominator ?? 'HUNDRED'] as number;
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
