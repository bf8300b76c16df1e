import type { RuntimeFractionalPercent } from './fractional-percent.ts';
import type { HeaderMatcher } from './header-matcher.ts';
import type { QueryParameterMatcher } from './query-parameter-matcher.ts';
import type { RegexMatcher } from './string-matcher.ts';

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
