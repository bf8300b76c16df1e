export { asciiLower } from './ascii-case.ts';
export {
  compileHeaderMatcher,
  type HeaderMatcher,
  type Int64Range,
  type RequestMatch,
} from './header-matcher.ts';
export { MatchContext, type RandomValueSource } from './match-context.ts';
export { MatcherCompileError } from './matcher-compile-error.ts';
export { compileQueryParameterMatcher, type QueryParameterMatcher } from './query-parameter-matcher.ts';
export type { HeaderLookup, HeaderValue, RequestView } from './request-view.ts';
export {
  compileRouteMatch,
  type FractionalPercent,
  type FractionalPercentDenominator,
  type RouteMatch,
  type RuntimeFractionalPercent,
} from './route-match.ts';
export { compileSafeRegex, type FullMatch, type RegexMatcher } from './safe-regex.ts';
export { compileStringMatcher, type StringMatch, type StringMatcher } from './string-matcher.ts';
export {
  compileVirtualHostIndex,
  type VirtualHostDomains,
  type VirtualHostIndex,
  type VirtualHostIndexOptions,
} from './virtual-host-index.ts';
