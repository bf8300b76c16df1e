// The matcher inputs are the decoded route model's types; they are named here too so that code
// compiling matchers imports one module.
export type {
  FractionalPercent,
  FractionalPercentDenominator,
  HeaderMatcher,
  Int64Range,
  QueryParameterMatcher,
  RegexMatcher,
  RouteMatch,
  RuntimeFractionalPercent,
  StringMatcher,
} from '@dabba/discovery';
export { asciiLower } from './ascii-case.ts';
export { compileHeaderMatcher, type RequestMatch } from './header-matcher.ts';
export { MatchContext, type RandomValueSource } from './match-context.ts';
export { compileQueryParameterMatcher } from './query-parameter-matcher.ts';
export type { HeaderLookup, HeaderValue, RequestView } from './request-view.ts';
export { compileRouteMatch } from './route-match.ts';
export { compileSafeRegex, type FullMatch } from './safe-regex.ts';
export { compileStringMatcher, type StringMatch } from './string-matcher.ts';
export {
  compileVirtualHostIndex,
  type VirtualHostDomains,
  type VirtualHostIndex,
  type VirtualHostIndexOptions,
} from './virtual-host-index.ts';
